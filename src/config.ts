/**
 * Configuration, parsed and validated once per set of values. A bad value never reaches a
 * route: `loadConfig` answers a ConfigError, and the app turns it into one clear 500.
 */
import type { Env } from "./env";

export const MIN_SECRET_BYTES = 32;

export interface Config {
  /** HS256 key for signing and verifying every token. */
  signingKey: CryptoKey;
  /** A separate HMAC key derived from the secret: successor token ids, throttle keys. */
  derivationKey: CryptoKey;
  accessLifetime: number; // seconds, may be fractional as in simplejwt's timedelta
  refreshLifetime: number;
  /** Seconds during which a just-rotated refresh token gets its successor pair again. */
  reuseInterval: number;
  /**
   * Seconds after a rotation during which the rotated token coming back is taken for a
   * concurrent refresh that lost the race (403, family kept), not for reuse; 0: always reuse.
   */
  raceWindow: number;
  corsAllowedOrigins: ReadonlySet<string>;
  /** Failed logins allowed per 15 minutes, per username and per client address, before 429. */
  loginUserFailureLimit: number;
  loginAddressFailureLimit: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const DEFAULTS = {
  ACCESS_TOKEN_LIFETIME: 86400,
  REFRESH_TOKEN_LIFETIME: 2592000,
  REFRESH_REUSE_INTERVAL: 0,
  REFRESH_RACE_WINDOW: 10,
} as const;

const YEAR = 365 * 24 * 3600;
/**
 * The range of each duration, in seconds. Lifetimes: from 1 s to 10 years (a larger one
 * overflows the response's date; a smaller one is no token). Reuse interval and race
 * window: up to a day; beyond that a replay is no retry nor race.
 */
const SECONDS_RANGE = {
  ACCESS_TOKEN_LIFETIME: [1, 10 * YEAR],
  REFRESH_TOKEN_LIFETIME: [1, 10 * YEAR],
  REFRESH_REUSE_INTERVAL: [0, 24 * 3600],
  REFRESH_RACE_WINDOW: [0, 24 * 3600],
} as const satisfies Record<keyof typeof DEFAULTS, readonly [number, number]>;

/** Failed logins per window: at least one, and no more than any client could try. */
const MAX_LIMIT = 1_000_000;

const LIMIT_DEFAULTS = {
  LOGIN_USER_FAILURE_LIMIT: 10,
  LOGIN_ADDRESS_FAILURE_LIMIT: 50,
} as const;

function count(env: Env, name: keyof typeof LIMIT_DEFAULTS): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return LIMIT_DEFAULTS[name];
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw new ConfigError(`${name} must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return value;
}

function seconds(env: Env, name: keyof typeof DEFAULTS): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return DEFAULTS[name];
  const value = Number(raw);
  const [min, max] = SECONDS_RANGE[name];
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number of seconds from ${min} to ${max}`);
  }
  // As Python's timedelta: whole microseconds.
  return Math.round(value * 1e6) / 1e6;
}

function origins(raw: string | undefined): Set<string> {
  const list = (raw ?? "").split(",").map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(`CORS_ALLOWED_ORIGINS has an entry that is not an origin: ${origin}`);
    }
    if (parsed.origin !== origin.replace(/\/$/, "")) {
      throw new ConfigError(`CORS_ALLOWED_ORIGINS entries are bare origins (scheme://host[:port]): ${origin}`);
    }
  }
  return new Set(list.map((o) => o.replace(/\/$/, "")));
}

async function hmacKey(bytes: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

async function buildConfig(env: Env): Promise<Config> {
  const secret = env.JWT_SECRET_KEY;
  if (secret === undefined || secret === "") {
    throw new ConfigError("JWT_SECRET_KEY is not set");
  }
  const secretBytes = new TextEncoder().encode(secret);
  if (secretBytes.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`JWT_SECRET_KEY is shorter than ${MIN_SECRET_BYTES} bytes`);
  }
  const accessLifetime = seconds(env, "ACCESS_TOKEN_LIFETIME");
  const refreshLifetime = seconds(env, "REFRESH_TOKEN_LIFETIME");
  const reuseInterval = seconds(env, "REFRESH_REUSE_INTERVAL");
  const raceWindow = seconds(env, "REFRESH_RACE_WINDOW");
  const corsAllowedOrigins = origins(env.CORS_ALLOWED_ORIGINS);
  const loginUserFailureLimit = count(env, "LOGIN_USER_FAILURE_LIMIT");
  const loginAddressFailureLimit = count(env, "LOGIN_ADDRESS_FAILURE_LIMIT");
  // Domain separation: the derivation key is HMAC(secret, label), never the signing key.
  const signingKey = await hmacKey(secretBytes);
  const label = new TextEncoder().encode("org-token-edge derivation key v1");
  const derivationKey = await hmacKey(new Uint8Array(await crypto.subtle.sign("HMAC", signingKey, label)));
  return {
    signingKey,
    derivationKey,
    accessLifetime,
    refreshLifetime,
    reuseInterval,
    raceWindow,
    corsAllowedOrigins,
    loginUserFailureLimit,
    loginAddressFailureLimit,
  };
}

// One parse per distinct set of values per isolate; env objects are reused across requests.
const cache = new Map<string, Promise<Config>>();

export function loadConfig(env: Env): Promise<Config> {
  const fingerprint = JSON.stringify([
    env.JWT_SECRET_KEY,
    env.ACCESS_TOKEN_LIFETIME,
    env.REFRESH_TOKEN_LIFETIME,
    env.REFRESH_REUSE_INTERVAL,
    env.REFRESH_RACE_WINDOW,
    env.CORS_ALLOWED_ORIGINS,
    env.LOGIN_USER_FAILURE_LIMIT,
    env.LOGIN_ADDRESS_FAILURE_LIMIT,
  ]);
  let config = cache.get(fingerprint);
  if (config === undefined) {
    config = buildConfig(env);
    if (cache.size > 16) cache.clear(); // tests make many; production has one
    cache.set(fingerprint, config);
  }
  return config;
}
