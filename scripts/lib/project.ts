/**
 * Where things are, for the operator scripts: the project root (wherever the scripts are run
 * from), wrangler run with the same Node as us, and the local state directory wrangler uses.
 */
import { spawn, type SpawnOptions } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CONFIG_PATH = join(ROOT, "wrangler.toml");
export const SCHEMA_PATH = join(ROOT, "schema.sql");
export const DEV_VARS_PATH = join(ROOT, ".dev.vars");

/** wrangler's own default for --persist-to: `.wrangler/state` next to its configuration. */
export const DEFAULT_STATE_DIR = join(ROOT, ".wrangler", "state");

/** A --persist-to argument as wrangler reads it: relative to the current directory. */
export function stateDir(persistTo: string | undefined): string {
  return persistTo === undefined ? DEFAULT_STATE_DIR : resolve(process.cwd(), persistTo);
}

/**
 * Never report usage to Cloudflare from these scripts, nor fetch `request.cf` from it for
 * `wrangler dev`: the service runs locally without any network (a placeholder cf is used).
 */
export function wranglerEnv(): NodeJS.ProcessEnv {
  return { CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env, WRANGLER_SEND_METRICS: "false" };
}

const require = createRequire(import.meta.url);
const WRANGLER_BIN = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

/**
 * wrangler's API, in this process. Loaded with require: its 15 MB bundle is CommonJS, and
 * through tsx's ESM loader it takes a second longer to load.
 */
export function loadWrangler(): typeof import("wrangler") {
  // It logs to stdout; keep that to warnings so our own output stays clean.
  process.env.WRANGLER_LOG ??= "warn";
  return require("wrangler") as typeof import("wrangler");
}

/** Start wrangler with the Node that runs us (the project's Node 22, not whatever `node` is). */
export function spawnWrangler(args: string[], options: SpawnOptions = {}) {
  return spawn(process.execPath, [WRANGLER_BIN, ...args], { cwd: ROOT, env: wranglerEnv(), ...options });
}

/** `.dev.vars` as wrangler reads it (dotenv syntax), or {} when there is none. */
export function readDevVars(): Record<string, string> {
  if (!existsSync(DEV_VARS_PATH)) return {};
  return parseEnv(readFileSync(DEV_VARS_PATH, "utf8")) as Record<string, string>;
}
