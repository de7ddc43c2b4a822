/**
 * The Worker's vars as `wrangler dev` would assemble them, for the commands that act as the
 * Worker does (`token mint` signs as it, `session end-*` keeps KV entries for its lifetimes):
 * the configuration's [vars], then the .dev.vars beside it, then the environment for any
 * var or secret of the settings table (src/settings.ts). For --remote, .dev.vars (the local
 * secrets) does not count: the deployed Worker only has its own.
 */
import { dirname, join } from "node:path";
import type { SettingVar } from "../../env-names";
import { ConfigError, readSetting, SETTINGS, type SettingOutput, type SettingsKey } from "../../settings";
import { loadWrangler, readDevVars } from "./project";

export function workerVars(
  configPath: string,
  remote: boolean,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const vars: Record<string, string> = {};
  const devVars = remote ? {} : readDevVars(join(dirname(configPath), ".dev.vars"));
  for (const source of [loadWrangler().unstable_readConfig({ config: configPath }).vars, devVars]) {
    for (const [name, value] of Object.entries(source)) if (typeof value === "string") vars[name] = value;
  }
  for (const name of new Set<string>([...Object.keys(vars), ...Object.values(SETTINGS).map((s) => s.env)])) {
    const value = env[name];
    if (value !== undefined) vars[name] = value;
  }
  return vars;
}

/** One setting of these vars, read as the Worker reads it (src/settings.ts: default, bounds, message). */
export function workerSetting<K extends SettingsKey>(
  vars: Readonly<Record<string, string>>,
  key: K,
  asError: (message: string) => Error,
): SettingOutput<K> {
  const name: SettingVar = SETTINGS[key].env;
  try {
    return readSetting(key, vars[name], name);
  } catch (error) {
    if (error instanceof ConfigError) throw asError(error.message);
    throw error;
  }
}
