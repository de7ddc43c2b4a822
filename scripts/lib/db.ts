/**
 * The one database interface the admin commands are written against, with two
 * implementations: a real local D1 binding (wrangler's getPlatformProxy, parameters bound),
 * and `wrangler d1 execute --json --command` (the only way to reach the deployed database
 * from here), where parameters are inlined as carefully checked literals.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_PATH, loadWrangler, SCHEMA_PATH, spawnWrangler, wranglerEnv } from "./project";
import { collect } from "./process";

export type Value = string | number | null;

export interface Db {
  /** Run one statement, with parameters ?1..?N; the rows it returns (RETURNING rows too). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly Value[]): Promise<T[]>;
  close(): Promise<void>;
}

/** An error from the database itself (not from the command's own checks). */
export class DbError extends Error {
  override readonly name = "DbError";
}

const SCHEMA_TABLES = [...readFileSync(SCHEMA_PATH, "utf8").matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map((m) => m[1]!);

/** Tables of schema.sql that the database lacks (all of them when it is new). */
async function missingTables(db: Db): Promise<string[]> {
  const rows = await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
  const present = new Set(rows.map((row) => row.name));
  return SCHEMA_TABLES.filter((table) => !present.has(table));
}

/** The local database in `<stateDir>/v3`, as `wrangler dev --persist-to <stateDir>` sees it. */
export async function openLocal(stateDir: string): Promise<Db> {
  const { getPlatformProxy, unstable_splitSqlQuery } = loadWrangler();
  const proxy = await getPlatformProxy<{ DB: D1Database }>({
    configPath: CONFIG_PATH,
    persist: { path: join(stateDir, "v3") }, // wrangler's --persist-to appends v3; this option does not
    remoteBindings: false,
  });
  const d1 = proxy.env.DB;
  const db: Db = {
    async query<T>(sql: string, params: readonly Value[] = []) {
      try {
        return (await d1.prepare(sql).bind(...params).all<T>()).results;
      } catch (error) {
        throw new DbError(error instanceof Error ? error.message : String(error));
      }
    },
    close: () => proxy.dispose(),
  };
  try {
    if ((await missingTables(db)).length > 0) {
      const statements = unstable_splitSqlQuery(readFileSync(SCHEMA_PATH, "utf8"));
      await d1.batch(statements.map((statement) => d1.prepare(statement)));
    }
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

/** A parameter as an SQL literal: integers and strings only, nothing that could end the literal early. */
export function sqlLiteral(value: Value): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new DbError(`not an integer parameter: ${value}`);
    return String(value);
  }
  if (value.includes("\0")) throw new DbError("a text parameter contains a NUL character");
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Replace ?1..?N with literals. The statements are this program's constants, none with a
 * `?` inside a quoted string, and the replacement is one pass, so an inlined literal is
 * never scanned again.
 */
export function inlineParams(sql: string, params: readonly Value[]): string {
  return sql.replace(/\?(\d+)/g, (_, index: string) => {
    const i = Number(index) - 1;
    if (i < 0 || i >= params.length) throw new DbError(`no parameter ?${index}`);
    return sqlLiteral(params[i]!);
  });
}

function runWrangler(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Its --json output goes through the logger: at least the default level, whatever ours is.
  return collect(spawnWrangler(args, { stdio: ["ignore", "pipe", "pipe"], env: { ...wranglerEnv(), WRANGLER_LOG: "log" } }));
}

/**
 * The database through `wrangler d1 execute DB`: `--remote` for the deployed one, or
 * `--local` (with its --persist-to) to run the very same code path against local state.
 */
export async function openViaWrangler(location: { remote: true } | { remote: false; stateDir: string }): Promise<Db> {
  const where = location.remote ? ["--remote"] : ["--local", "--persist-to", location.stateDir];
  const execute = async (extra: string[]) => {
    const { code, stdout, stderr } = await runWrangler(["d1", "execute", "DB", "--config", CONFIG_PATH, ...where, "--json", ...extra]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new DbError(`wrangler d1 execute failed (exit ${code}): ${(stderr || stdout).trim()}`);
    }
    if (code !== 0 || !Array.isArray(parsed)) {
      const text = (parsed as { error?: { text?: string } } | null)?.error?.text;
      throw new DbError(text ?? `wrangler d1 execute failed (exit ${code}): ${stdout.trim()}`);
    }
    return parsed as { results?: unknown[] }[];
  };
  return {
    async query<T>(sql: string, params: readonly Value[] = []) {
      const command = ["--command", inlineParams(sql, params)];
      let results;
      try {
        results = await execute(command);
      } catch (error) {
        // A new local database: apply the schema, then try once more (one process less
        // per command than checking first). The deployed database is never changed here.
        if (location.remote || !(error instanceof DbError) || !/no such table/.test(error.message)) throw error;
        await execute(["--file", SCHEMA_PATH]);
        results = await execute(command);
      }
      return (results[0]?.results ?? []) as T[];
    },
    close: async () => {},
  };
}
