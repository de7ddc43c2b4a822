/**
 * The env var names of this package's own Worker (worker/env.ts) and of the admin CLI's
 * `token mint`, which signs as that Worker signs: one table, so the two cannot drift.
 * A host names its own in `orgTokenApi({ settings, names })`.
 */
import type { ConfigInput, SettingNames, Settings } from "./config";

/** Each setting's env var. A new setting: its field in Settings (src/config.ts), its var here and in worker/env.ts. */
export const SETTING_VARS = {
  accessTokenLifetime: "ACCESS_TOKEN_LIFETIME",
  refreshTokenLifetime: "REFRESH_TOKEN_LIFETIME",
  refreshReuseInterval: "REFRESH_REUSE_INTERVAL",
  corsAllowedOrigins: "CORS_ALLOWED_ORIGINS",
  requestLog: "REQUEST_LOG",
  loginPairFailureLimit: "LOGIN_PAIR_FAILURE_LIMIT",
  loginUserFailureLimit: "LOGIN_USER_FAILURE_LIMIT",
  loginAddressFailureLimit: "LOGIN_ADDRESS_FAILURE_LIMIT",
  githubApiUrl: "GITHUB_API_URL",
  githubTimeout: "GITHUB_TIMEOUT",
  syncSecret: "SYNC_SECRET",
  syncPreviousSecret: "SYNC_PREVIOUS_SECRET",
  syncRevokeOnPasswordChange: "SYNC_REVOKE_ON_PASSWORD_CHANGE",
} as const satisfies Required<Record<keyof Settings, string>>;

export const SECRET_VAR = "JWT_SECRET_KEY";
export const PREVIOUS_SECRETS_VAR = "JWT_PREVIOUS_SECRET_KEYS";

/** How 500s' log lines name the secret and the settings under these names. */
export const VAR_NAMES: SettingNames = { secret: SECRET_VAR, previousSecrets: PREVIOUS_SECRETS_VAR, ...SETTING_VARS };

/** The settings under these names, from an env (or any table of vars). */
export function settingsFromVars(vars: Readonly<Record<string, unknown>>): Settings {
  const settings: Record<string, string | undefined> = {};
  for (const [key, name] of Object.entries(SETTING_VARS)) {
    const value = vars[name];
    settings[key] = typeof value === "string" ? value : undefined;
  }
  return settings as Settings;
}

/** The configuration input of vars under these names. */
export function configInputFromVars(vars: Readonly<Record<string, unknown>>): ConfigInput {
  const text = (name: string) => (typeof vars[name] === "string" ? (vars[name] as string) : undefined);
  return {
    secret: text(SECRET_VAR),
    previousSecrets: text(PREVIOUS_SECRETS_VAR),
    settings: settingsFromVars(vars),
    names: VAR_NAMES,
  };
}
