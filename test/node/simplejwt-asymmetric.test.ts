/**
 * Issue 26 end to end: a Django + simplejwt origin (examples/simplejwt-project, Debian's
 * simplejwt 5.2.2 and PyJWT 2.6) under an asymmetric ALGORITHM, and the edge under `wrangler dev`
 * configured only by the origin's `org_token_edge_config --with-secrets` (read by wrangler from
 * .dev.vars) and `org_token_edge_sync --full`. The origin's SIMPLE_JWT comes from the environment
 * (SIMPLE_JWT_<NAME>, the example's settings); its keys are generated here, never stored.
 *
 * First the command's output read back by wrangler's own readers (.dev.vars, wrangler.toml).
 * Then per algorithm (RS256: an origin by JWK_URL at the edge's JWKS, then one by VERIFYING_KEY,
 * against the same edge; ES256: by JWK_URL): the edge publishes SIGNING_KEY's public key under
 * its RFC 7638 thumbprint, the origin's protected view (/api/whoami/, JWTAuthentication) takes
 * the edge's access tokens, the edge refreshes and verifies the origin's. Then (RS256) a
 * rotation: the edge restarted at the same URL with a new SIGNING_KEY and the old public key in
 * PREVIOUS_VERIFYING_KEYS, the origin process unchanged: the previous key's tokens still pass
 * on both sides until their exp. One origin and one edge at a time, over one D1.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type LocalWorker, SCHEMA_PATH, startWorker, wrangler } from "./support/local-worker";
import { decode, exampleEnv, manage, type Origin, parseDevVars, startOrigin } from "./support/simplejwt";

const SECRET_KEY = "asymmetric-test-django-secret-key-0123456789abcdef";
const SYNC_SECRET = "asymmetric-test-sync-secret-that-is-long-enough-0123456789";
const PASSWORD = "alice's password 1";
const JWKS_PATH = "/.well-known/jwks.json";
const ACCESS_LIFETIME = 300; // simplejwt's default, carried to the edge by org_token_edge_config
const P = {
  obtain: "/api/token/",
  refresh: "/api/token/refresh/",
  verify: "/api/token/verify/",
  whoami: "/api/whoami/",
};

type Alg = "RS256" | "ES256";
interface KeyPair {
  privatePem: string;
  publicPem: string;
  /** RFC 7638: the SHA-256 of the required members of the public JWK, sorted, base64url. */
  kid: string;
}

function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members = jwk.kty === "RSA" ? ["e", "kty", "n"] : ["crv", "kty", "x", "y"];
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash("sha256").update(canonical).digest("base64url");
}

const thumbprint = (publicPem: string) =>
  jwkThumbprint(createPublicKey(publicPem).export({ format: "jwk" }) as Record<string, unknown>);

function keyPair(alg: Alg): KeyPair {
  const { privateKey, publicKey } =
    alg === "RS256"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return { privatePem, publicPem, kid: thumbprint(publicPem) };
}

/** A JWT signed here with `key`, as a side holding it would sign (PyJWT's header order). */
function signJwt(payload: Record<string, unknown>, key: KeyPair, alg: Alg): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${b64({ alg, kid: key.kid, typ: "JWT" })}.${b64(payload)}`;
  const signature = sign("sha256", Buffer.from(input), {
    key: key.privatePem,
    ...(alg === "ES256" ? { dsaEncoding: "ieee-p1363" as const } : {}),
  });
  return `${input}.${signature.toString("base64url")}`;
}

const sameKey = (a: string, b: string) =>
  JSON.stringify(createPrivateKey(a).export({ format: "jwk" })) ===
  JSON.stringify(createPrivateKey(b).export({ format: "jwk" }));

async function call(base: string, path: string, init: { json?: unknown; bearer?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.json !== undefined) headers["Content-Type"] = "application/json";
  if (init.bearer !== undefined) headers.Authorization = `Bearer ${init.bearer}`;
  const response = await fetch(`${base}${path}`, {
    method: init.json === undefined ? "GET" : "POST",
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = { text: text.slice(0, 300) };
  }
  return { status: response.status, body: body as Record<string, any> };
}

const obtain = async (base: string) => {
  const answer = await call(base, P.obtain, { json: { username: "alice", password: PASSWORD } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return { access: answer.body.access as string, refresh: answer.body.refresh as string };
};
const header = (token: string) => decode(token)?.header;

interface Config {
  alg: Alg;
  /** Also an origin verifying by VERIFYING_KEY, against the same edge. */
  verifyingKey?: boolean;
  rotation?: boolean;
}
const CONFIGS: Config[] = [{ alg: "RS256", verifyingKey: true, rotation: true }, { alg: "ES256" }];

type Verification = "JWK_URL" | "VERIFYING_KEY";

let dir: string;
let userId: number;
/** One D1 for every edge of the file: the schema applied once, the users synced once. */
let persistTo: string;
let synced = false;
const baseEnv = (): Record<string, string> => ({
  DJANGO_SQLITE_PATH: join(dir, "origin.sqlite3"),
  DJANGO_SECRET_KEY: SECRET_KEY,
  ORG_TOKEN_EDGE_SECRET: SYNC_SECRET,
  ORG_TOKEN_EDGE_DELIVER_ON_COMMIT: "0", // the users go over by --full, once the edge runs
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "simplejwt-asymmetric-"));
  const env = exampleEnv(baseEnv());
  persistTo = join(dir, "d1");
  await Promise.all([
    manage(["migrate", "--noinput", "-v", "0"], env),
    wrangler(["d1", "execute", "DB", "--local", "--persist-to", persistTo, "--yes", "--file", SCHEMA_PATH], dir),
  ]);
  userId = Number(
    await manage(
      [
        "shell",
        "-c",
        `from django.contrib.auth.models import User
print(User.objects.create_user("alice", password=${JSON.stringify(PASSWORD)}).pk)`,
      ],
      env,
    ),
  );
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("org_token_edge_config's keys, read back by wrangler's own readers", () => {
  it("SIGNING_KEY from .dev.vars and VERIFYING_KEY from wrangler.toml's [vars] are the keys, exactly", async () => {
    const key = keyPair("RS256");
    const env = exampleEnv({
      ...baseEnv(),
      SIMPLE_JWT_ALGORITHM: "RS256",
      SIMPLE_JWT_SIGNING_KEY: key.privatePem,
      SIMPLE_JWT_VERIFYING_KEY: key.publicPem,
    });
    const [devVars, toml] = await Promise.all([
      manage(["org_token_edge_config", "--with-secrets"], env),
      manage(["org_token_edge_config", "--format", "toml"], env),
    ]);
    const project = mkdtempSync(join(tmpdir(), "simplejwt-asymmetric-readers-"));
    try {
      const config = join(project, "wrangler.toml");
      writeFileSync(config, `name = "readers"\ncompatibility_date = "2025-01-01"\n${toml}\n`);
      writeFileSync(join(project, ".dev.vars"), devVars);
      const wrangler = await import("wrangler");
      const read = wrangler.unstable_readConfig({ config }, { hideWarnings: true });
      const vars = Object.fromEntries(
        Object.entries(wrangler.unstable_getVarsForDev(config, undefined, read.vars, undefined, true)).map(
          ([name, binding]) => [name, (binding as { value: unknown }).value],
        ),
      );
      expect(read.vars).toMatchObject({ ALGORITHM: "RS256", VERIFYING_KEY: key.publicPem, JWKS_PATH });
      expect(vars.VERIFYING_KEY).toBe(key.publicPem); // .dev.vars has it too, the same
      expect(typeof vars.SIGNING_KEY).toBe("string");
      expect((vars.SIGNING_KEY as string).startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
      expect(sameKey(vars.SIGNING_KEY as string, key.privatePem)).toBe(true);
      expect(vars.JWT_SECRET_KEY).toMatch(/^[0-9a-f]{64}$/); // derived from SECRET_KEY, not SECRET_KEY
      expect(vars.SYNC_SECRET).toBe(SYNC_SECRET);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

for (const config of CONFIGS) {
  describe(`${config.alg}: the edge configured by the origin's org_token_edge_config`, () => {
    const key = keyPair(config.alg);
    let port: number;
    let edgeUrl: string;
    let edge: LocalWorker | undefined;
    let edgeVars: string;
    let origin: Origin | undefined;
    const stateDirs: string[] = [];

    /** The origin's environment: the key pair, verifying by the edge's JWKS or by the public key. */
    const originEnv = (by: Verification, signingKey = key.privatePem) =>
      exampleEnv({
        ...baseEnv(),
        ORG_TOKEN_EDGE_URL: edgeUrl,
        SIMPLE_JWT_ALGORITHM: config.alg,
        SIMPLE_JWT_SIGNING_KEY: signingKey,
        ...(by === "JWK_URL"
          ? { SIMPLE_JWT_JWK_URL: `${edgeUrl}${JWKS_PATH}` }
          : { SIMPLE_JWT_VERIFYING_KEY: key.publicPem }),
      });

    /** The edge at `edgeUrl`, its .dev.vars printed by the origin's command under `env`, plus `vars`. */
    async function startEdge(env: NodeJS.ProcessEnv, vars: Record<string, string> = {}) {
      const stateDir = mkdtempSync(join(tmpdir(), "simplejwt-asymmetric-edge-"));
      stateDirs.push(stateDir);
      edgeVars = await manage(["org_token_edge_config", "--with-secrets"], env);
      edge = await startWorker({ persistTo, stateDir, vars, devVars: edgeVars, port });
    }

    /** One origin process at a time. */
    async function useOrigin(by: Verification) {
      await origin?.stop();
      origin = undefined;
      origin = await startOrigin(originEnv(by));
    }

    beforeAll(async () => {
      port = await freePort();
      edgeUrl = `http://127.0.0.1:${port}`;
      await startEdge(originEnv("JWK_URL"));
      if (!synced) await manage(["org_token_edge_sync", "--full"], originEnv("JWK_URL"), 30_000);
      synced = true;
    }, 120_000);

    afterAll(async () => {
      await Promise.all([edge?.stop(), origin?.stop()]);
      for (const stateDir of stateDirs) rmSync(stateDir, { recursive: true, force: true });
    });

    it("the edge's JWKS publishes SIGNING_KEY's public key under its RFC 7638 thumbprint", async () => {
      const jwks = await call(edgeUrl, JWKS_PATH);
      expect(jwks.status, `${JSON.stringify(jwks.body)}\n${edge!.output().slice(-2000)}`).toBe(200);
      const keys = jwks.body.keys as Array<Record<string, unknown>>;
      expect(keys.map((jwk) => jwk.kid)).toEqual([key.kid]);
      expect(jwkThumbprint(keys[0]!)).toBe(key.kid); // the key published is SIGNING_KEY's
    });

    const verifications: Verification[] = config.verifyingKey ? ["JWK_URL", "VERIFYING_KEY"] : ["JWK_URL"];
    for (const by of verifications) {
      describe(`the origin verifying by ${by === "JWK_URL" ? "JWK_URL at the edge's JWKS" : "VERIFYING_KEY"}`, () => {
        beforeAll(() => useOrigin(by), 60_000);

        if (by === "VERIFYING_KEY") {
          it("org_token_edge_config prints the same edge settings as by JWK_URL: the same edge serves it", async () => {
            const printed = await manage(["org_token_edge_config", "--with-secrets"], originEnv(by));
            expect(parseDevVars(printed)).toEqual(parseDevVars(edgeVars));
          });
        }

        it("the origin's protected view takes the edge's access token, which carries that kid", async () => {
          const pair = await obtain(edgeUrl);
          expect(header(pair.access)).toEqual({ alg: config.alg, kid: key.kid, typ: "JWT" });
          expect(header(pair.refresh)).toEqual({ alg: config.alg, kid: key.kid, typ: "JWT" });
          const whoami = await call(origin!.url, P.whoami, { bearer: pair.access });
          expect(whoami, origin!.output().slice(-2000)).toEqual({
            status: 200,
            body: { id: userId, username: "alice" },
          });
        });

        it("the edge refreshes and verifies the tokens the origin signed, and the origin takes the refreshed access token", async () => {
          const pair = await obtain(origin!.url);
          expect(header(pair.refresh)).toEqual({ alg: config.alg, typ: "JWT" }); // simplejwt writes no kid
          const refreshed = await call(edgeUrl, P.refresh, { json: { refresh: pair.refresh } });
          expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
          expect(header(refreshed.body.access)).toEqual({ alg: config.alg, kid: key.kid, typ: "JWT" });
          expect(await call(edgeUrl, P.verify, { json: { token: pair.access } })).toEqual({ status: 200, body: {} });
          expect(await call(origin!.url, P.whoami, { bearer: refreshed.body.access })).toEqual({
            status: 200,
            body: { id: userId, username: "alice" },
          });
        });

        if (by === "JWK_URL") {
          it("by JWK_URL the origin takes only tokens with a kid: its own access token (no kid) is refused at its view", async () => {
            // PyJWKClient looks the header's kid up in the JWKS; simplejwt writes none. Where the
            // edge serves the obtain view (the point of it), every access token is the edge's.
            const pair = await obtain(origin!.url);
            expect((await call(origin!.url, P.whoami, { bearer: pair.access })).status).toBe(401);
          });
        } else {
          it("by VERIFYING_KEY the origin takes its own access token too", async () => {
            const pair = await obtain(origin!.url);
            expect((await call(origin!.url, P.whoami, { bearer: pair.access })).status).toBe(200);
          });
        }
      });
    }

    if (config.rotation) {
      describe("a key rotation", () => {
        beforeAll(() => useOrigin("JWK_URL"), 60_000);

        it("a new SIGNING_KEY, the old public key in PREVIOUS_VERIFYING_KEYS, the origin by JWK_URL unchanged: the previous key's tokens pass on both sides until their exp", async () => {
          const before = await obtain(edgeUrl);
          const beforeOrigin = await obtain(origin!.url); // signed by the origin with the same key, no kid
          expect((await call(origin!.url, P.whoami, { bearer: before.access })).status).toBe(200); // JWKS fetched

          // The operator's rotation: the origin's settings get the new key (its running process,
          // which verifies by JWK_URL, is left as it is), the edge its vars from the command again,
          // and the old public key as PREVIOUS_VERIFYING_KEYS; the edge restarts at the same URL.
          const next = keyPair(config.alg);
          await edge!.stop();
          edge = undefined;
          await startEdge(originEnv("JWK_URL", next.privatePem), { PREVIOUS_VERIFYING_KEYS: key.publicPem });

          const jwks = await call(edgeUrl, JWKS_PATH);
          expect((jwks.body.keys as Array<{ kid: string }>).map((jwk) => jwk.kid).sort()).toEqual(
            [key.kid, next.kid].sort(),
          );
          const after = await obtain(edgeUrl);
          expect(header(after.access)?.kid).toBe(next.kid);
          // The origin meets an unknown kid, refetches the JWKS, and takes both keys' tokens.
          expect(await call(origin!.url, P.whoami, { bearer: after.access })).toMatchObject({ status: 200 });
          expect(await call(origin!.url, P.whoami, { bearer: before.access })).toMatchObject({ status: 200 });
          // The edge verifies and refreshes the previous key's tokens, its own and the origin's.
          expect(await call(edgeUrl, P.verify, { json: { token: before.access } })).toEqual({ status: 200, body: {} });
          for (const refresh of [before.refresh, beforeOrigin.refresh]) {
            const refreshed = await call(edgeUrl, P.refresh, { json: { refresh } });
            expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
            expect(header(refreshed.body.access)?.kid).toBe(next.kid);
          }

          // Until their exp: the previous key's access token lives ACCESS_LIFETIME from its iat,
          // and one of that key past its exp is refused on both sides (signed here, no waiting).
          const issued = decode(before.access)!.payload;
          expect((issued.exp as number) - (issued.iat as number)).toBe(ACCESS_LIFETIME);
          const now = Math.floor(Date.now() / 1000);
          const claims = { token_type: "access", user_id: userId };
          const jti = () => randomBytes(16).toString("hex");
          const expired = signJwt(
            { ...claims, exp: now - 1, iat: now - ACCESS_LIFETIME - 1, jti: jti() },
            key,
            config.alg,
          );
          expect((await call(origin!.url, P.whoami, { bearer: expired })).status).toBe(401);
          expect((await call(edgeUrl, P.verify, { json: { token: expired } })).status).toBe(401);
          // The same token within its exp passes: the refusal above is the exp's.
          const live = signJwt({ ...claims, exp: now + 60, iat: now, jti: jti() }, key, config.alg);
          expect((await call(origin!.url, P.whoami, { bearer: live })).status).toBe(200);
          expect((await call(edgeUrl, P.verify, { json: { token: live } })).status).toBe(200);
        });
      });
    }
  });
}
