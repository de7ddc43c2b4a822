/**
 * The env var names of this package's own Worker (worker/env.ts) and of the admin CLI, which
 * signs as that Worker signs: each setting's `env` in the table (src/settings.ts), so the two
 * cannot drift. A host names its own in `orgTokenApi({ settings, names })`.
 */
import type { ConfigInput, SettingNames } from "./config";
import { SETTINGS, SETTINGS_KEYS, type SettingKey, type Settings, type SettingsKey } from "./settings";

/** Every env var of the table (secrets, settings, the origin's), in its order. */
export type SettingVar = (typeof SETTINGS)[SettingKey]["env"];

/** Each setting's env var (the settings a host passes as `settings`). */
export const SETTING_VARS = Object.fromEntries(SETTINGS_KEYS.map((key) => [key, SETTINGS[key].env])) as {
  readonly [K in SettingsKey]: (typeof SETTINGS)[K]["env"];
};

export const SECRET_VAR = SETTINGS.secret.env;
export const PREVIOUS_SECRETS_VAR = SETTINGS.previousSecrets.env;
export const ORIGIN_URL_VAR = SETTINGS.originUrl.env;
export const ORIGIN_TIMEOUT_VAR = SETTINGS.originTimeout.env;

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
