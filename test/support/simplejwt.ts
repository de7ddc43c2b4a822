/** Helpers for simplejwt's views at the edge (test/worker/simplejwt-*.test.ts). */
import { env } from "cloudflare:workers";
import { decodeProtectedHeader, SignJWT } from "jose";
import type { Env } from "../../worker/env";
import { type App, claimsOf, hexId, postJson, QUICK_HASH, SECRET, unique, vectors } from "./harness";

export const PASSWORD = vectors.django_password_hashes.password;
export const PATHS = {
  obtain: "/api/token/",
  refresh: "/api/token/refresh/",
  verify: "/api/token/verify/",
  blacklist: "/api/sj/blacklist/",
} as const;

/** The four views mounted, with the given version and flags. */
export function sjEnv(overrides: Partial<Env> = {}): Partial<Env> {
  return {
    TOKEN_OBTAIN_PAIR_PATH: PATHS.obtain,
    TOKEN_REFRESH_PATH: PATHS.refresh,
    TOKEN_VERIFY_PATH: PATHS.verify,
    TOKEN_BLACKLIST_PATH: PATHS.blacklist,
    ...overrides,
  };
}

export const V522 = sjEnv({ SIMPLE_JWT_VERSION: "5.2.2" });
export const V551 = sjEnv({ SIMPLE_JWT_VERSION: "5.5.1" });

let ids = 500_000;
/** A row of users_user (integer id) with the quick hash of PASSWORD. */
export async function seedUser({ active = true }: { active?: boolean } = {}) {
  ids += 1 + Math.floor(Math.random() * 100);
  const userName = unique("sj");
  await env.DB.prepare("INSERT INTO users_user (id, username, password, is_active) VALUES (?1, ?2, ?3, ?4)")
    .bind(ids, userName, QUICK_HASH, active ? 1 : 0)
    .run();
  return { userId: ids, userName };
}

export async function obtain(target: App, userName: string, envOverrides: Partial<Env>) {
  const response = await postJson(target, PATHS.obtain, { username: userName, password: PASSWORD }, envOverrides);
  if (response.status !== 200) throw new Error(`obtain: ${response.status} ${await response.text()}`);
  return response.json<{ refresh: string; access: string }>();
}

/** A token as simplejwt writes it (claims in its order; any claim removed with undefined). */
export async function mintSj(
  claims: Record<string, unknown>,
  { nowMs = Date.now(), alg = "HS256", secret = SECRET, type = "refresh", lifetime = 86400 } = {},
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = { token_type: type, exp: iat + lifetime, iat, jti: hexId(), ...claims };
  for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(new TextEncoder().encode(secret));
}

export { claimsOf, decodeProtectedHeader };

/** 401 InvalidToken as the views answer it. */
export async function expectInvalid(response: Response, detail: string, realm = 'Bearer realm="api"') {
  const body = await response.text();
  if (response.status !== 401) throw new Error(`expected 401 "${detail}", got ${response.status} ${body}`);
  if (body !== JSON.stringify({ detail, code: "token_not_valid" })) {
    throw new Error(`expected "${detail}", got ${body}`);
  }
  if (response.headers.get("WWW-Authenticate") !== realm) {
    throw new Error(`WWW-Authenticate: ${response.headers.get("WWW-Authenticate")}`);
  }
}
