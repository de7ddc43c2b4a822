/**
 * The stock simplejwt project (examples/simplejwt-project) as an oracle for the edge: its
 * manage.py, its development server, the edge's vars read from it, and simplejwt's tokens
 * (minted with the shared key, decoded, and described by what a client may rely on).
 * Every process is bounded in time and runs in its own process group.
 */
import { createHmac } from "node:crypto";
import { delimiter, join } from "node:path";
import { PYTHON } from "../../../scripts/lib/django";
import { freePort, runProcess } from "../../../src/cli/lib/process";
import { ROOT } from "../../../src/cli/lib/project";
import { type Server, startServer } from "./server";

export const EXAMPLE_PROJECT = join(ROOT, "examples", "simplejwt-project");
/** The org_token_edge app, uninstalled: on PYTHONPATH (as the example's README says). */
const DJANGO_APP = join(ROOT, "integrations", "django");
const SUPPORT = join(ROOT, "test", "node", "support");

/** The environment of the example's processes: this process's, less any SIMPLE_JWT_* of its own, plus `env`. */
export function exampleEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SIMPLE_JWT_")));
  const pythonPath = [DJANGO_APP, SUPPORT, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  return {
    ...inherited,
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONPATH: pythonPath,
    // Hashes at 1000 iterations (support/oracle_hashers.py): these tests are about the views, not the hash.
    DJANGO_PASSWORD_HASHERS: "oracle_hashers.QuickPBKDF2PasswordHasher",
    ...env,
  };
}

/** `python3 <args>` in the example project to completion; its stdout, or an error with the output. */
export async function inExample(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  const result = await runProcess(PYTHON, args, { cwd: EXAMPLE_PROJECT, env, timeoutMs });
  const output = result.stdout + result.stderr;
  const what = `python3 ${args.slice(0, 2).join(" ")}`;
  if (result.timedOut) throw new Error(`${what} did not finish within ${timeoutMs} ms\n${output}`);
  if (result.code !== 0) throw new Error(`${what} failed (${result.signal ?? result.code})\n${output}`);
  return result.stdout;
}

/** `python3 manage.py <args>` in the example project. */
export const manage = (args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number) =>
  inExample(["manage.py", ...args], env, timeoutMs);

/** `.dev.vars` text (KEY=value lines; blank lines, comments and one pair of quotes allowed) as vars. */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const at = trimmed.indexOf("=");
    if (at <= 0) throw new Error(`not a KEY=value line: ${JSON.stringify(line)}`);
    let value = trimmed.slice(at + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    }
    vars[trimmed.slice(0, at).trim()] = value;
  }
  return vars;
}

export interface EdgeVars {
  vars: Record<string, string>;
  /** What printed them: the app's command, or this repository's helper while the command is absent. */
  source: "org_token_edge_config" | "test helper";
  text: string;
}

/** The edge's vars, read from the origin as its operator would: `manage.py org_token_edge_config --with-secrets`. */
export async function edgeVarsFromOrigin(env: NodeJS.ProcessEnv): Promise<EdgeVars> {
  const text = await manage(["org_token_edge_config", "--with-secrets"], env);
  return { vars: parseDevVars(text), source: "org_token_edge_config", text };
}

export type Origin = Server;

/** The example under `manage.py runserver --noreload` on a free loopback port, once it answers HTTP. */
export async function startOrigin(env: NodeJS.ProcessEnv, readyTimeoutMs = 30_000): Promise<Origin> {
  const port = await freePort();
  return startServer({
    name: "runserver",
    command: PYTHON,
    args: ["manage.py", "runserver", `127.0.0.1:${port}`, "--noreload"],
    options: { cwd: EXAMPLE_PROJECT, env },
    url: `http://127.0.0.1:${port}`,
    probe: "/api/whoami/",
    readyTimeoutMs,
    pollMs: 100,
  });
}

// Tokens

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");
const HMAC = { HS256: "sha256", HS384: "sha384", HS512: "sha512" } as const;
export type Algorithm = keyof typeof HMAC;

/** A JWT as PyJWT writes one: header keys sorted, the payload in the given order, compact JSON. */
export function mint(payload: Record<string, unknown>, key: string, alg: Algorithm = "HS256"): string {
  const signingInput = `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(payload))}`;
  return `${signingInput}.${createHmac(HMAC[alg], key).update(signingInput).digest("base64url")}`;
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface Decoded {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The signature verifies with `key`, by the header's algorithm. */
  signedWith(key: string): boolean;
}

/** A JWT's header and payload, unverified; undefined for anything else. */
export function decode(token: unknown): Decoded | undefined {
  if (typeof token !== "string" || !JWT.test(token)) return undefined;
  const [h, p, s] = token.split(".") as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
    if (typeof header !== "object" || header === null || typeof payload !== "object" || payload === null) return;
    const signedWith = (key: string) => {
      const hash = HMAC[header.alg as Algorithm];
      return hash !== undefined && createHmac(hash, key).update(`${h}.${p}`).digest("base64url") === s;
    };
    return { header, payload, signedWith };
  } catch {
    return undefined;
  }
}

/** Claims only the edge writes, on its own tokens (issue 25's design): not simplejwt's, not compared. */
export const EDGE_EXTRA_CLAIMS = ["fam", "iat_ms"];
/**
 * A token's iat when it is both now and the presented token's (a refresh of a token issued the
 * same second): which one the side wrote cannot be told, so `reconcile` takes it as either.
 */
export const IAT_NOW_OR_PRESENTED = "now, as the presented token's";
const IAT_EITHER = ["now", "the presented token's"];

/**
 * `got` with every IAT_NOW_OR_PRESENTED replaced by the value at the same place in `reference`
 * where that is one of the two it stands for: the two compare equal on what could be told.
 */
export function reconcile(reference: unknown, got: unknown): unknown {
  if (got === IAT_NOW_OR_PRESENTED && typeof reference === "string" && IAT_EITHER.includes(reference)) return reference;
  if (Array.isArray(got) && Array.isArray(reference)) return got.map((item, i) => reconcile(reference[i], item));
  if (
    typeof got === "object" &&
    got !== null &&
    typeof reference === "object" &&
    reference !== null &&
    !Array.isArray(got)
  )
    return Object.fromEntries(
      Object.entries(got).map(([name, value]) => [
        name,
        reconcile((reference as Record<string, unknown>)[name], value),
      ]),
    );
  return got;
}

/** Claims compared by their shape, not their value. */
const VOLATILE = ["exp", "iat", "jti"];

export interface TokenContext {
  /** Unix seconds (floor) just before the request was sent, and just after its answer. */
  sentAt: number;
  answeredAt: number;
  /** Lifetime in seconds by token_type. */
  lifetimes: Record<string, number>;
  /** The token the request presented (refresh's input), if any. */
  presented?: Record<string, unknown>;
  key: string;
}

const sortedObject = (entries: Array<[string, unknown]>) =>
  Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * What a client may rely on in a token, comparable across the origin and the edge: the header;
 * every claim but exp, iat and jti by value (the edge's own `fam` and `iat_ms` left out); exp,
 * iat and jti by shape: integers, iat now (within the request) or the presented token's, exp
 * now + lifetime (and iat + lifetime when iat is now), jti a fresh 32-hex id or the presented
 * token's; and whether the shared key signed it.
 */
export function describeToken(token: string, context: TokenContext) {
  const decoded = decode(token);
  if (decoded === undefined) return { notAJwt: token.slice(0, 16) };
  const { header, payload } = decoded;
  const claims = Object.entries(payload).filter(([name]) => !EDGE_EXTRA_CLAIMS.includes(name));
  const type = String(payload.token_type);
  const lifetime = context.lifetimes[type];
  const within = (t: number) => t >= context.sentAt - 1 && t <= context.answeredAt + 1;
  const { exp, iat, jti } = payload;
  const presented = context.presented;
  let iatShape: string;
  const copied = presented !== undefined && iat === presented.iat;
  if (!Number.isInteger(iat)) iatShape = `not an integer: ${JSON.stringify(iat)}`;
  else if (copied && within(iat as number)) iatShape = IAT_NOW_OR_PRESENTED;
  else if (copied) iatShape = "the presented token's";
  else if (within(iat as number)) iatShape = "now";
  else iatShape = `other (${(iat as number) - context.sentAt} s from now)`;
  // exp is now + lifetime; a token whose iat is now has exactly exp - iat = lifetime.
  let expShape: string;
  if (!Number.isInteger(exp)) expShape = `not an integer: ${JSON.stringify(exp)}`;
  else if (lifetime === undefined) expShape = `no lifetime known for token_type ${JSON.stringify(type)}`;
  else if (!within((exp as number) - lifetime)) expShape = `other (now + ${(exp as number) - context.sentAt})`;
  else if (iatShape === "now" && (exp as number) - (iat as number) !== lifetime)
    expShape = `now + lifetime, but iat + ${(exp as number) - (iat as number)}`;
  else expShape = "now + lifetime";
  let jtiShape: string;
  if (typeof jti !== "string") jtiShape = `not a string: ${JSON.stringify(jti)}`;
  else if (presented !== undefined && jti === presented.jti) jtiShape = "the presented token's";
  else jtiShape = /^[0-9a-f]{32}$/.test(jti) ? "new, 32 hex" : `new, not 32 hex (${jti.length} chars)`;
  return {
    header: sortedObject(Object.entries(header)),
    claims: sortedObject(claims.filter(([name]) => !VOLATILE.includes(name))),
    claimNames: claims.map(([name]) => name).sort(),
    exp: payload.exp === undefined ? "absent" : expShape,
    iat: payload.iat === undefined ? "absent" : iatShape,
    jti: payload.jti === undefined ? "absent" : jtiShape,
    signature: decoded.signedWith(context.key) ? "the shared key" : "not the shared key",
  };
}
