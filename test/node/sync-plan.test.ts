/**
 * The sync's statements stay proportional to the delivery, not to the edge's tables: in
 * SQLite's query plan (schema.sql), none scans users, organizations, memberships or the kept
 * versions; they search them by key.
 */
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { SCHEMA_PATH } from "../../src/cli/lib/project";
import { RECORD_STATEMENTS } from "../../src/storage/d1/sync-sql";

const BIG = ["users_user", "users_orgaccount", "users_membership", "sync_version"];

describe("sync statements' query plans", () => {
  const db = new DatabaseSync(":memory:");
  db.exec(readFileSync(SCHEMA_PATH, "utf8"));
  it.each(RECORD_STATEMENTS.map(({ name, sql }) => [name, sql]))("%s scans no table of rows", (_name, sql) => {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql.replace(/\?1/g, "1")}`).all() as { detail: string }[];
    const scans = plan.map((row) => row.detail).filter((detail) => /^SCAN (\w+)/.test(detail));
    for (const table of BIG) expect(scans.filter((detail) => detail.startsWith(`SCAN ${table}`))).toEqual([]);
  });
});
