/**
 * The access-token checks read a session's end from D1 within the one read they already
 * make (membership status, the guard): in SQLite's query plan (schema.sql) neither scans the
 * token ledger, users, organizations or memberships. A family's logout is found through the
 * partial index on the ledger's logout rows.
 */
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { SCHEMA_PATH } from "../../src/cli/lib/project";
import { BEARER_STANDING, TOKEN_STANDING } from "../../src/storage/d1/members";

const BIG = ["token_ledger", "token_family_revocation", "users_user", "users_orgaccount", "users_membership"];

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
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql.replace(/\?\d/g, "'x'")}`).all() as { detail: string }[];
  return plan.map((row) => row.detail).filter((detail) => names.has(/^SCAN (\w+)/.exec(detail)?.[1] ?? ""));
}

describe("the access-token checks' D1 read", () => {
  const statements = [
    ["membership status (BEARER_STANDING)", BEARER_STANDING],
    ["the guard (TOKEN_STANDING)", TOKEN_STANDING],
  ] as const;

  it.each(statements)("%s scans no table of rows", (_name, sql) => {
    expect(tableScans(schemaDb(), sql)).toEqual([]);
  });

  it.each(statements)("%s without token_ledger_logout_family scans the ledger", (_name, sql) => {
    expect(tableScans(schemaDb("DROP INDEX token_ledger_logout_family"), sql)).toEqual(["SCAN token_ledger"]);
  });
});
