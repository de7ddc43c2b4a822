/** SQLite's query plan over schema.sql, for the tests that hold statements to their indexes. */
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { SCHEMA_PATH } from "../../../src/cli/lib/project";

/** A fresh in-memory database of schema.sql, with `after` applied (an index dropped, say). */
export function schemaDb(...after: string[]): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  db.exec(readFileSync(SCHEMA_PATH, "utf8"));
  for (const statement of after) db.exec(statement);
  return db;
}

/** The plan's SCAN lines over `tables`, by name or by the alias the statement gives one (`users_user AS u` plans as `SCAN u`). */
export function tableScans(db: DatabaseSync, sql: string, tables: readonly string[]): string[] {
  const names = new Set(tables);
  for (const [, table, alias] of sql.matchAll(/\b(\w+)\s+AS\s+(\w+)/gi)) {
    if (tables.includes(table!)) names.add(alias!);
  }
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql.replace(/\?\d/g, "1")}`).all() as { detail: string }[];
  return plan.map((row) => row.detail).filter((detail) => names.has(/^SCAN (\w+)/.exec(detail)?.[1] ?? ""));
}
