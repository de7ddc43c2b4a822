/**
 * This repository's Worker: its bindings and vars, as wrangler.toml and the secrets declare
 * them, and how they map onto the API's bindings and settings (worker/index.ts builds the
 * Worker from these with the same factory a host uses). Names, kinds and defaults are the
 * settings table's (src/settings.ts); README's Configuration table says what each means.
 */
import type { OrgTokenApiOptions } from "../src/api";
import type { ConfigInput } from "../src/config";
import {
  configInputFromVars,
  ORIGIN_TIMEOUT_VAR,
  ORIGIN_URL_VAR,
  SETTING_VARS,
  type SettingVar,
  settingsFromVars,
  VAR_NAMES,
} from "../src/env-names";
import { BINDINGS } from "../src/settings";

type Bindings = typeof BINDINGS;

/** The bindings (DB, BLACKLIST) and every var or secret of the settings table, each optional. */
export type Env = { [K in Bindings["db"]["env"]]: D1Database } & { [K in Bindings["kv"]["env"]]: KVNamespace } & {
  [K in SettingVar]?: string;
};

export { SETTING_VARS };

export const workerApiOptions: OrgTokenApiOptions<Env> = {
  bindings: (env) => ({
    db: env[BINDINGS.db.env],
    kv: env[BINDINGS.kv.env],
    secret: env.JWT_SECRET_KEY,
    previousSecrets: env.JWT_PREVIOUS_SECRET_KEYS,
  }),
  settings: (env) => settingsFromVars(env),
  basePath: "/",
  originUrl: (env) => env[ORIGIN_URL_VAR],
  originTimeout: (env) => env[ORIGIN_TIMEOUT_VAR],
  names: {
    db: BINDINGS.db.env,
    kv: BINDINGS.kv.env,
    originUrl: ORIGIN_URL_VAR,
    originTimeout: ORIGIN_TIMEOUT_VAR,
    ...VAR_NAMES,
  },
};

/** The configuration input of this Worker's env, for scripts that load its config directly. */
export function workerConfigInput(env: Partial<Env>): ConfigInput {
  return configInputFromVars(env);
}
