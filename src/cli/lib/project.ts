/**
 * Where things are, for the operator scripts and their tests: the project root (wherever the
 * scripts are run from, bundled or not), wrangler run with the project's Node, the wrangler
 * configuration a command works on, and the local state directory wrangler uses for it.
 */
import { type SpawnOptions, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

/** The package root: the nearest folder upwards holding this package's package.json (src/cli/lib/ here, dist/cli/ bundled). */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && /"name":\s*"org-token-edge"/.test(readFileSync(manifest, "utf8"))) return dir;
    if (dirname(dir) === dir) return resolve(from, "../..");
  }
}

export const ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));
export const CONFIG_PATH = join(ROOT, "wrangler.toml");
export const SCHEMA_PATH = join(ROOT, "schema.sql");
export const MIGRATIONS_DIR = join(ROOT, "migrations");
export const DEV_VARS_PATH = join(ROOT, ".dev.vars");

/** wrangler's own default for --persist-to: `.wrangler/state` next to its configuration. */
export const DEFAULT_STATE_DIR = join(ROOT, ".wrangler", "state");

/**
 * The local state directory of a configuration, as `wrangler dev` and `wrangler d1 execute
 * --local` choose it: --persist-to relative to the current directory, else `.wrangler/state`
 * next to the configuration file (getPlatformProxy alone defaults to the current directory,
 * so it is always given this path explicitly).
 */
export function stateDir(persistTo: string | undefined, configPath = CONFIG_PATH): string {
  return persistTo === undefined ? join(dirname(configPath), ".wrangler", "state") : resolve(process.cwd(), persistTo);
}

const CONFIG_NAMES = ["wrangler.jsonc", "wrangler.json", "wrangler.toml"];

/** The configuration wrangler would pick from `dir`: the nearest wrangler.{jsonc,json,toml} upwards. */
export function findConfig(dir = process.cwd()): string | undefined {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const found = CONFIG_NAMES.map((name) => join(current, name)).find((path) => existsSync(path));
    if (found !== undefined) return found;
    if (dirname(current) === current) return undefined;
  }
}

/**
 * Never report usage to Cloudflare from these scripts, nor fetch `request.cf` from it for
 * `wrangler dev`: the service runs locally without any network (a placeholder cf is used).
 */
export function wranglerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    ...extra,
  };
}

const require = createRequire(import.meta.url);

/** wrangler is an optional peer of the package: a host without it gets this, not a stack trace. */
export class MissingWrangler extends Error {
  override readonly name = "MissingWrangler";
  constructor() {
    super("this command needs wrangler, which is not installed here: npm install --save-dev wrangler");
  }
}

function wranglerBin(): string | undefined {
  try {
    return join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
  } catch {
    return undefined;
  }
}

const FOUND_WRANGLER_BIN = wranglerBin();
/** wrangler's CLI script; a command that runs it without wrangler installed gets MissingWrangler. */
export const WRANGLER_BIN = FOUND_WRANGLER_BIN ?? "";

function requireWranglerBin(): string {
  if (FOUND_WRANGLER_BIN === undefined) throw new MissingWrangler();
  return FOUND_WRANGLER_BIN;
}

/** The project's Node 22 (what `npx wrangler` uses) when there is one, else the Node that runs us. */
const PROJECT_NODE = join(ROOT, "node_modules", ".bin", "node");
export const NODE = existsSync(PROJECT_NODE) ? PROJECT_NODE : process.execPath;

/**
 * wrangler's API, in this process. Loaded with require: its 15 MB bundle is CommonJS, and
 * through tsx's ESM loader it takes a second longer to load.
 */
export function loadWrangler(): typeof import("wrangler") {
  // It logs to stdout; keep that to warnings so our own output stays clean.
  process.env.WRANGLER_LOG ??= "warn";
  requireWranglerBin();
  return require("wrangler") as typeof import("wrangler");
}

/** Start wrangler with the Node that runs us (the project's Node 22, not whatever `node` is). */
export function spawnWrangler(args: string[], options: SpawnOptions = {}) {
  return spawn(process.execPath, [requireWranglerBin(), ...args], { cwd: ROOT, env: wranglerEnv(), ...options });
}

/** A `.dev.vars` as wrangler reads it (dotenv syntax), or {} when there is none. */
export function readDevVars(path = DEV_VARS_PATH): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}
