/**
 * This repository's Worker: its bindings and vars, as wrangler.toml and the secrets declare
 * them, and how they map onto the API's bindings and settings (src/index.ts builds the
 * Worker from these with the same factory a host uses).
 */
import type { OrgTokenApiOptions } from "./app";
import type { ConfigInput, Settings } from "./config";

export interface Env {
  DB: D1Database;
  BLACKLIST: KVNamespace;
  JWT_SECRET_KEY?: string;
  /** Secrets of earlier rotations that still verify: a JSON array of strings. */
  JWT_PREVIOUS_SECRET_KEYS?: string;
  ACCESS_TOKEN_LIFETIME?: string;
  REFRESH_TOKEN_LIFETIME?: string;
  REFRESH_REUSE_INTERVAL?: string;
  REFRESH_RACE_WINDOW?: string;
  CORS_ALLOWED_ORIGINS?: string;
  /** all (default), errors or off: which requests get a log line. */
  REQUEST_LOG?: string;
  LOGIN_PAIR_FAILURE_LIMIT?: string;
  LOGIN_USER_FAILURE_LIMIT?: string;
  LOGIN_ADDRESS_FAILURE_LIMIT?: string;
  /** The Django origin, where paths the API does not own are forwarded: scheme://host[:port]. */
  ORIGIN_URL?: string;
  /** The origin sync's secret (docs/sync.md), and the one before it during a rotation. */
  SYNC_SECRET?: string;
  SYNC_PREVIOUS_SECRET?: string;
  /** on (default) or off: whether a password change at the origin ends the user's sessions. */
  SYNC_REVOKE_ON_PASSWORD_CHANGE?: string;
}

/** Each setting's env var. A new setting: its field in Settings (src/config.ts), its var here and in Env. */
export const SETTING_VARS = {
  accessTokenLifetime: "ACCESS_TOKEN_LIFETIME",
  refreshTokenLifetime: "REFRESH_TOKEN_LIFETIME",
  refreshReuseInterval: "REFRESH_REUSE_INTERVAL",
  refreshRaceWindow: "REFRESH_RACE_WINDOW",
  corsAllowedOrigins: "CORS_ALLOWED_ORIGINS",
  requestLog: "REQUEST_LOG",
  loginPairFailureLimit: "LOGIN_PAIR_FAILURE_LIMIT",
  loginUserFailureLimit: "LOGIN_USER_FAILURE_LIMIT",
  loginAddressFailureLimit: "LOGIN_ADDRESS_FAILURE_LIMIT",
  syncSecret: "SYNC_SECRET",
  syncPreviousSecret: "SYNC_PREVIOUS_SECRET",
  syncRevokeOnPasswordChange: "SYNC_REVOKE_ON_PASSWORD_CHANGE",
} as const satisfies Required<{ [K in keyof Settings]: keyof Env }>;

export const workerApiOptions: OrgTokenApiOptions<Env> = {
  bindings: (env) => ({
    db: env.DB,
    kv: env.BLACKLIST,
    secret: env.JWT_SECRET_KEY,
    previousSecrets: env.JWT_PREVIOUS_SECRET_KEYS,
  }),
  settings: (env) => {
    const settings: Record<string, string | undefined> = {};
    for (const [key, name] of Object.entries(SETTING_VARS)) settings[key] = env[name];
    return settings as Settings;
  },
  basePath: "/",
  originUrl: (env) => env.ORIGIN_URL,
  names: {
    db: "DB",
    kv: "BLACKLIST",
    secret: "JWT_SECRET_KEY",
    previousSecrets: "JWT_PREVIOUS_SECRET_KEYS",
    originUrl: "ORIGIN_URL",
    ...SETTING_VARS,
  },
};

/** The configuration input of this Worker's env, for scripts that load its config directly. */
export function workerConfigInput(env: Partial<Env>): ConfigInput {
  return {
    secret: env.JWT_SECRET_KEY,
    previousSecrets: env.JWT_PREVIOUS_SECRET_KEYS,
    settings: workerApiOptions.settings!(env as Env),
    names: workerApiOptions.names ?? {},
  };
}
