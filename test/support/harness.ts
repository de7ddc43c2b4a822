/** Test helpers: a real D1/KV env, requests through the Worker's fetch handler, and tokens. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt, SignJWT } from "jose";
import { djangoPasswordWork } from "../../src/passwords/work";
import { type AppOptions, createApp } from "../../worker/app";
import type { Env } from "../../worker/env";
import vectorsJson from "../fixtures/simplejwt.json";

export const vectors = vectorsJson;
export const SECRET = env.JWT_SECRET_KEY!;
export const BASE = "http://ps.test";

/** The contract's two invalid-token bodies for refresh tokens. */
export const TOKEN_NOT_VALID = { detail: "Given token not valid for any token type", code: "token_not_valid" };
export const BLACKLISTED = { detail: "Token is blacklisted", code: "token_not_valid" };

/** A clock the test moves by hand. */
export function manualClock(startMs = Date.UTC(2026, 10, 26, 12, 0, 0)) {
  let now = startMs;
  const clock = () => now;
  clock.advance = (seconds: number) => {
    now += seconds * 1000;
  };
  clock.set = (ms: number) => {
    now = ms;
  };
  return clock;
}

export type App = ReturnType<typeof createApp>;

export function app(options: AppOptions = {}): App {
  return createApp(options);
}

/**
 * Password work for tests that are not about passwords (the throttle, bodies, whole-day flows):
 * the real code and real PBKDF2-SHA256 in Django's format, at 1000 iterations rather than 600000.
 * Tests about passwords, the production limit, unknown-user timing and the upgrade use app()'s own.
 */
export const QUICK_ITERATIONS = 1000;
export const quickPasswords = djangoPasswordWork(QUICK_ITERATIONS);
/** vectors' password hashed at QUICK_ITERATIONS: the seed of a login on quickPasswords (no upgrade follows). */
export const QUICK_HASH = await quickPasswords.hash(vectors.django_password_hashes.password);

/** app() on quickPasswords. */
export function quickApp(options: AppOptions = {}): App {
  return createApp({ passwords: quickPasswords, ...options });
}

/** One request through the app, waiting for its background work (ended sessions written to KV) to finish. */
export async function call(target: App, path: string, init: RequestInit = {}, envOverrides: Partial<Env> = {}) {
  const ctx = createExecutionContext();
  const response = await target.fetch(new Request(`${BASE}${path}`, init), { ...env, ...envOverrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function postJson(
  target: App,
  path: string,
  body: unknown,
  envOverrides: Partial<Env> = {},
  headers: Record<string, string> = {},
) {
  return call(
    target,
    path,
    { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) },
    envOverrides,
  );
}

let counter = 0;
/** A name no other test in the file uses (storage is shared by the tests of one file). */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface Seeded {
  userId: number;
  userName: string;
  orgId: number;
  orgName: string;
}

/** A user, an organization and (unless membership is null) a membership between them. */
export async function seed({
  membership = "active",
  userActive = true,
  userId,
  passwordHash = null,
}: {
  membership?: "active" | "inactive" | null;
  userActive?: boolean;
  userId?: number;
  passwordHash?: string | null;
} = {}): Promise<Seeded> {
  const userName = unique("user");
  const orgName = unique("Org");
  const user = await env.DB.prepare(
    "INSERT INTO users_user (id, username, password, is_active) VALUES (?1, ?2, ?3, ?4) RETURNING id",
  )
    .bind(userId ?? 100_000 + counter, userName, passwordHash, userActive ? 1 : 0)
    .first<{ id: number }>();
  const org = await env.DB.prepare("INSERT INTO users_orgaccount (name) VALUES (?1) RETURNING id")
    .bind(orgName)
    .first<{ id: number }>();
  if (membership !== null) {
    await env.DB.prepare("INSERT INTO users_membership (user_id, org_id, active) VALUES (?1, ?2, ?3)")
      .bind(user!.id, org!.id, membership === "active" ? 1 : 0)
      .run();
  }
  return { userId: user!.id, userName, orgId: org!.id, orgName };
}

export async function setMembership(s: Seeded, active: boolean) {
  await env.DB.prepare("UPDATE users_membership SET active = ?3 WHERE user_id = ?1 AND org_id = ?2")
    .bind(s.userId, s.orgId, active ? 1 : 0)
    .run();
}

export function hexId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** A token as simplejwt would make it (any claim can be overridden or removed with undefined). */
export async function mintToken(
  s: Pick<Seeded, "userId" | "userName" | "orgName">,
  {
    type = "refresh",
    nowMs = Date.now(),
    lifetime = type === "refresh" ? 2592000 : 86400,
    secret = SECRET,
    alg = "HS256",
    claims = {},
  }: {
    type?: string;
    nowMs?: number;
    lifetime?: number;
    secret?: string;
    alg?: string;
    claims?: Record<string, unknown>;
  } = {},
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = {
    token_type: type,
    exp: iat + lifetime,
    iat,
    jti: hexId(),
    user_id: s.userId,
    org_name: s.orgName,
    user_name: s.userName,
    ...claims,
  };
  for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(new TextEncoder().encode(secret));
}

export function claimsOf(token: string) {
  return decodeJwt(token);
}

/** The KV entries of the ended-sessions blacklist (src/storage/kv/ended-sessions.ts): value and expiration. */
export async function endedEntries() {
  const listed = await env.BLACKLIST.list({ prefix: "ended:" });
  return Promise.all(
    listed.keys.map(async (key) => ({
      name: key.name,
      value: await env.BLACKLIST.get(key.name),
      expiration: key.expiration,
    })),
  );
}

export { env };
