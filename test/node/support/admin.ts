/**
 * The admin CLI for tests, two ways: as the operator runs it (a child process per command,
 * bounded in time), and in this process (`runAdmin` with captured output) over one local
 * database opened once per test file, so most cases cost a query, not a process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Io } from "../../../src/cli/context";
import { type Db, openLocal, resolveTarget } from "../../../src/cli/lib/db";
import { readNewPassword } from "../../../src/cli/lib/password";
import { runProcess } from "../../../src/cli/lib/process";
import { CONFIG_PATH, ROOT } from "../../../src/cli/lib/project";
import { runAdmin } from "../../../src/cli/main";

export const SECRET = "admin-cli-test-secret-that-is-long-enough-0123456789";

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string | undefined>;
}

/**
 * No command takes this long even on a loaded two-core machine (about 5 s there); past it
 * the child's process group is ended and the result says so, rather than the test hanging.
 */
export const COMMAND_TIMEOUT_MS = 60_000;

function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    JWT_SECRET_KEY: SECRET,
    ...env,
  };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  return merged;
}

/** `npm run admin -- <args>` as a child process (`node --import tsx`, without npm's wrapper). */
export async function spawnAdmin(args: string[], { input, env = {} }: RunOptions = {}): Promise<Result> {
  const result = await runProcess(process.execPath, ["--import", "tsx", "src/cli/npm-admin.ts", ...args], {
    cwd: ROOT,
    env: childEnv(env),
    input,
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
  if (result.timedOut)
    throw new Error(`admin ${args.join(" ")} did not finish within ${COMMAND_TIMEOUT_MS} ms\n${result.stderr}`);
  return result;
}

/** Run the CLI in this process, output captured; a local database is opened as the CLI does unless `openLocal` says otherwise. */
export async function runInProcess(
  args: string[],
  {
    input,
    env = {},
    configPath = CONFIG_PATH,
    openLocal: open,
    putKv,
  }: RunOptions & { configPath?: string; openLocal?: Io["openLocal"]; putKv?: Io["putKv"] } = {},
): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    program: "npm run admin --",
    defaultConfig: () => configPath,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    stderrIsTTY: false,
    env: childEnv(env),
    readPassword: () => readNewPassword(Readable.from(input === undefined ? [] : [input])),
    ...(open === undefined ? {} : { openLocal: open }),
    ...(putKv === undefined ? {} : { putKv }),
  };
  const code = await runAdmin(args, io);
  return { code, stdout, stderr };
}

export interface SharedAdmin {
  /** The local state directory (--persist-to). */
  dir: string;
  /** The database every in-process command uses, for setup and for reading back. */
  db: Db;
  /** Run the CLI in this process against `dir`'s database. */
  admin(args: string[], options?: RunOptions): Promise<Result>;
  close(): Promise<void>;
}

/** A fresh local state, opened once (migrations applied), shared by in-process commands. */
export async function sharedAdmin(): Promise<SharedAdmin> {
  const dir = mkdtempSync(join(tmpdir(), "admin-test-"));
  const db = await openLocal(resolveTarget(CONFIG_PATH, "DB", dir));
  const shared: Db = {
    query: (sql, params) => db.query(sql, params),
    batch: (statements) => db.batch(statements),
    close: async () => {},
  };
  return {
    dir,
    db,
    admin: (args, options) =>
      runInProcess(["--persist-to", dir, ...args], { ...options, openLocal: async () => shared }),
    close: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
