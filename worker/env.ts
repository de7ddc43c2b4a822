/**
 * This repository's Worker: its bindings and vars, as wrangler.toml and the secrets declare
 * them, and how they map onto the API's bindings and settings (worker/index.ts builds the
 * Worker from these with the same factory a host uses).
 */
import type { OrgTokenApiOptions, Settings } from "../src/api";
import type { ConfigInput } from "../src/config";
import { configInputFromVars, SETTING_VARS, settingsFromVars, VAR_NAMES } from "../src/env-names";

export interface Env {
  DB: D1Database;
  BLACKLIST: KVNamespace;
  JWT_SECRET_KEY?: string;
  /** Secrets of earlier rotations that still verify: a JSON array of strings. */
  JWT_PREVIOUS_SECRET_KEYS?: string;
  ACCESS_TOKEN_LIFETIME?: string;
  REFRESH_TOKEN_LIFETIME?: string;
  REFRESH_REUSE_INTERVAL?: string;
  CORS_ALLOWED_ORIGINS?: string;
  /** all (default), errors or off: which requests get a log line. */
  REQUEST_LOG?: string;
  LOGIN_PAIR_FAILURE_LIMIT?: string;
  LOGIN_USER_FAILURE_LIMIT?: string;
  LOGIN_ADDRESS_FAILURE_LIMIT?: string;
  /** GitHub's REST API for the GitHub login; default https://api.github.com. */
  GITHUB_API_URL?: string;
  /** Seconds the GitHub login waits for GitHub; default 5. */
  GITHUB_TIMEOUT?: string;
  /** The Django origin, where paths the API does not own are forwarded: scheme://host[:port]. */
  ORIGIN_URL?: string;
  /** Seconds the origin has to start answering a forwarded request (default 30), else a 504. */
  ORIGIN_TIMEOUT?: string;
  /** The origin sync's secret (docs/sync.md), and the one before it during a rotation. */
  SYNC_SECRET?: string;
  SYNC_PREVIOUS_SECRET?: string;
  /** on (default) or off: whether a password change at the origin ends the user's sessions. */
  SYNC_REVOKE_ON_PASSWORD_CHANGE?: string;
}

export { SETTING_VARS };

// Every setting's var is a var of this Worker's Env.
const _settingVarsAreEnvVars: Required<{ [K in keyof Settings]: keyof Env }> = SETTING_VARS;
void _settingVarsAreEnvVars;

export const workerApiOptions: OrgTokenApiOptions<Env> = {
  bindings: (env) => ({
    db: env.DB,
    kv: env.BLACKLIST,
    secret: env.JWT_SECRET_KEY,
    previousSecrets: env.JWT_PREVIOUS_SECRET_KEYS,
  }),
  settings: (env) => settingsFromVars(env as unknown as Record<string, unknown>),
  basePath: "/",
  originUrl: (env) => env.ORIGIN_URL,
  originTimeout: (env) => env.ORIGIN_TIMEOUT,
  names: { db: "DB", kv: "BLACKLIST", originUrl: "ORIGIN_URL", originTimeout: "ORIGIN_TIMEOUT", ...VAR_NAMES },
};

/** The configuration input of this Worker's env, for scripts that load its config directly. */
export function workerConfigInput(env: Partial<Env>): ConfigInput {
  return configInputFromVars(env as Record<string, unknown>);
}
