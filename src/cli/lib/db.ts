/**
 * The one database interface the admin commands are written against, with two
 * implementations: a real local D1 binding (wrangler's getPlatformProxy, parameters bound),
 * and `wrangler d1 execute --json` (the only way to reach the deployed database from here),
 * where parameters are inlined as carefully checked literals. Which database: a D1 binding
 * of a wrangler configuration (this project's, or a host Worker's), local or remote.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { applyMigrations } from "./migrations";
import { collect } from "./process";
import { loadWrangler, spawnWrangler, stateDir as stateDirOf, wranglerEnv } from "./project";

export type Value = string | number | null;

export interface Statement {
  sql: string;
  params: readonly Value[];
}

export interface Db {
  /** Run one statement, with parameters ?1..?N; the rows it returns (RETURNING rows too). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly Value[]): Promise<T[]>;
  /**
   * Run statements in order, as one D1 batch locally (one transaction). Through wrangler they
   * go as one SQL file: one process, one request. Keep each within D1's limits (100 bound
   * parameters, 100 KB of SQL per statement).
   */
  batch(statements: readonly Statement[]): Promise<void>;
  close(): Promise<void>;
}

/** An error from the database or from reaching it (not from the command's own checks). */
export class DbError extends Error {
  override readonly name = "DbError";
}

/** Which database: a D1 binding of a wrangler configuration, and where its local state is. */
export interface DbTarget {
  configPath: string;
  binding: string;
  /** The local state directory (wrangler's --persist-to; the SQLite files are under `v3/`). */
  stateDir: string;
  /** The binding's migrations (wrangler's `migrations_dir`, default `migrations/` beside the config). */
  migrationsDir: string;
  migrationsTable: string;
}

/**
 * The target named by --config/--binding/--persist-to: the binding must be a D1 database of
 * that configuration; without --binding, `DB` or the configuration's only D1 database.
 */
export function resolveTarget(
  configPath: string,
  binding: string | undefined,
  persistTo: string | undefined,
): DbTarget {
  const path = resolve(configPath);
  if (!existsSync(path)) throw new DbError(`no wrangler configuration at ${path}`);
  let config;
  try {
    config = loadWrangler().unstable_readConfig({ config: path });
  } catch (error) {
    throw new DbError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const databases: { binding: string; migrations_dir?: string; migrations_table?: string }[] = config.d1_databases;
  const names = databases.map((database) => database.binding).join(", ") || "none";
  const chosen =
    binding !== undefined
      ? databases.find((database) => database.binding === binding)
      : (databases.find((database) => database.binding === "DB") ??
        (databases.length === 1 ? databases[0] : undefined));
  if (chosen === undefined) {
    throw new DbError(
      binding !== undefined
        ? `${path} has no D1 binding ${binding} (its D1 bindings: ${names})`
        : `choose the D1 binding of ${path} with --binding (its D1 bindings: ${names})`,
    );
  }
  return {
    configPath: path,
    binding: chosen.binding,
    stateDir: stateDirOf(persistTo, path),
    migrationsDir: resolve(dirname(path), chosen.migrations_dir ?? "migrations"),
    migrationsTable: chosen.migrations_table ?? "d1_migrations",
  };
}

/**
 * The local database of the target, as `wrangler dev --config <config>` sees it, brought up
 * to date with the binding's migrations when it has a migrations directory (as
 * `wrangler d1 migrations apply <binding> --local` would).
 */
export async function openLocal(target: DbTarget): Promise<Db> {
  const { getPlatformProxy } = loadWrangler();
  const proxy = await getPlatformProxy<Record<string, unknown>>({
    configPath: target.configPath,
    persist: { path: join(target.stateDir, "v3") }, // wrangler's --persist-to appends v3; this option does not
    remoteBindings: false,
  });
  const d1 = proxy.env[target.binding] as D1Database;
  const wrap = async <T>(work: () => Promise<T>) => {
    try {
      return await work();
    } catch (error) {
      throw new DbError(error instanceof Error ? error.message : String(error));
    }
  };
  const db: Db = {
    query: <T>(sql: string, params: readonly Value[] = []) =>
      wrap(
        async () =>
          (
            await d1
              .prepare(sql)
              .bind(...params)
              .all<T>()
          ).results,
      ),
    batch: (statements) =>
      wrap(async () => {
        if (statements.length > 0) await d1.batch(statements.map(({ sql, params }) => d1.prepare(sql).bind(...params)));
      }),
    close: () => proxy.dispose(),
  };
  try {
    if (existsSync(target.migrationsDir))
      await wrap(() => applyMigrations(d1, target.migrationsDir, target.migrationsTable));
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

/**
 * The database through `wrangler d1 execute <binding>`: `--remote` for the deployed one, or
 * `--local` (with its --persist-to) to run the very same code path against local state.
 */
export async function openViaWrangler(target: DbTarget, remote: boolean): Promise<Db> {
  const where = remote ? ["--remote"] : ["--local", "--persist-to", target.stateDir];
  const wrangler = (args: string[]) =>
    collect(
      spawnWrangler(args, {
        cwd: dirname(target.configPath),
        stdio: ["ignore", "pipe", "pipe"],
        // Its --json output goes through the logger: at least the default level, whatever ours is.
        env: wranglerEnv({ WRANGLER_LOG: "log" }),
      }),
    );
  const execute = async (extra: string[]) => {
    const { code, stdout, stderr } = await wrangler([
      "d1",
      "execute",
      target.binding,
      "--config",
      target.configPath,
      ...where,
      "--json",
      ...extra,
    ]);
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
  /** A new local database: apply the migrations, then try once more. The deployed one is never changed here. */
  const retryMigrated = async <T>(work: () => Promise<T>) => {
    try {
      return await work();
    } catch (error) {
      if (
        remote ||
        !(error instanceof DbError) ||
        !/no such table/.test(error.message) ||
        !existsSync(target.migrationsDir)
      )
        throw error;
      const migrate = await wrangler([
        "d1",
        "migrations",
        "apply",
        target.binding,
        "--config",
        target.configPath,
        ...where,
      ]);
      if (migrate.code !== 0)
        throw new DbError(`wrangler d1 migrations apply failed: ${(migrate.stderr || migrate.stdout).trim()}`);
      return await work();
    }
  };
  return {
    async query<T>(sql: string, params: readonly Value[] = []) {
      const results = await retryMigrated(() => execute(["--command", inlineParams(sql, params)]));
      return (results[0]?.results ?? []) as T[];
    },
    async batch(statements) {
      if (statements.length === 0) return;
      // A file, not --command: one argument may hold at most 128 KiB on Linux.
      const dir = mkdtempSync(join(tmpdir(), "org-token-admin-"));
      try {
        const file = join(dir, "batch.sql");
        writeFileSync(file, statements.map(({ sql, params }) => `${inlineParams(sql, params)};\n`).join(""));
        await retryMigrated(() => execute(["--file", file, "--yes"]));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close: async () => {},
  };
}
