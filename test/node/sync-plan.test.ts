/**
 * The sync's statements stay proportional to the delivery, not to the edge's tables: in
 * SQLite's query plan (schema.sql), none scans users, organizations, memberships, social
 * accounts or the kept versions, under their own names or an alias (`users_user AS u` plans
 * as `SCAN u`); they search them by key.
 */
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { SCHEMA_PATH } from "../../src/cli/lib/project";
import { RECORD_STATEMENTS } from "../../src/storage/d1/sync-sql";

const BIG = ["users_user", "users_orgaccount", "users_membership", "socialaccount_socialaccount", "sync_version"];

function schemaDb(...after: string[]) {
  const db = new DatabaseSync(":memory:");
  db.exec(readFileSync(SCHEMA_PATH, "utf8"));
  for (const statement of after) db.exec(statement);
  return db;
}

/** The plan's SCAN lines over BIG's tables, by name or by the alias the statement gives one. */
function tableScans(db: DatabaseSync, sql: string): string[] {
  const names = new Set(BIG);
  for (const [, table, alias] of sql.matchAll(/\b(\w+)\s+AS\s+(\w+)/gi)) {
    if (BIG.includes(table!)) names.add(alias!);
  }
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql.replace(/\?\d/g, "1")}`).all() as { detail: string }[];
  return plan.map((row) => row.detail).filter((detail) => names.has(/^SCAN (\w+)/.exec(detail)?.[1] ?? ""));
}

const statements = RECORD_STATEMENTS.map(({ name, sql }) => [name, sql] as const);

describe("sync statements' query plans", () => {
  const db = schemaDb();
  it.each(statements)("%s scans no table of rows", (_name, sql) => {
    expect(tableScans(db, sql)).toEqual([]);
  });

  // The check has teeth: without the index migration 0008 added, a user's delete scans the
  // social accounts; without the organizations' UUID index, an aliased search becomes `SCAN o`.
  const named = (wanted: string) => statements.find(([name]) => name === wanted)![1];
  it("without socialaccount_socialaccount_user_id, DELETE_USERS_SOCIAL scans socialaccount_socialaccount", () => {
    const bare = schemaDb("DROP INDEX socialaccount_socialaccount_user_id");
    expect(tableScans(bare, named("DELETE_USERS_SOCIAL"))).toEqual(["SCAN socialaccount_socialaccount"]);
  });
  it("without users_orgaccount_django_uuid, ADOPT_ORGS scans users_orgaccount AS o", () => {
    const bare = schemaDb("DROP INDEX users_orgaccount_django_uuid");
    expect(tableScans(bare, named("ADOPT_ORGS"))).toEqual(["SCAN o"]);
  });
});
