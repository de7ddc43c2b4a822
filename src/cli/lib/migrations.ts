/**
 * D1 migrations as `wrangler d1 migrations apply` does them, in this process over a D1
 * binding: the same bookkeeping table (`d1_migrations` unless the binding names another), the
 * same file order, each file recorded by name. So the admin CLI can bring a local database up
 * to date without starting wrangler, and wrangler later finds nothing left to apply.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadWrangler } from "./project";

/** The migration files of `dir` (`NNNN_name.sql`), in wrangler's order: by number, then name. */
export function migrationFiles(dir: string): string[] {
  const number = (name: string) => Number.parseInt(name.split("_")[0]!, 10);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".sql"))
    .map((entry) => entry.name)
    .sort((a, b) => number(a) - number(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** wrangler's own definition of the bookkeeping table. */
export function migrationsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${identifier(table)}(
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;
}

/** The statements of one SQL file, comments and all, split as wrangler splits them. */
export function sqlStatements(text: string): string[] {
  return loadWrangler().unstable_splitSqlQuery(text);
}

/**
 * Apply the files of `dir` that `table` does not list, each in one batch (one transaction)
 * together with its bookkeeping row. Returns the names applied, in order.
 */
export async function applyMigrations(d1: D1Database, dir: string, table = "d1_migrations"): Promise<string[]> {
  await d1.prepare(migrationsTableSql(table)).run();
  const applied = new Set(
    (await d1.prepare(`SELECT name FROM ${identifier(table)}`).all<{ name: string }>()).results.map((row) => row.name),
  );
  const pending = migrationFiles(dir).filter((name) => !applied.has(name));
  for (const name of pending) {
    const statements = sqlStatements(readFileSync(join(dir, name), "utf8")).map((sql) => d1.prepare(sql));
    await d1.batch([...statements, d1.prepare(`INSERT INTO ${identifier(table)} (name) VALUES (?1)`).bind(name)]);
  }
  return pending;
}
