/**
 * The sync's statements stay proportional to the delivery, not to the edge's tables: in
 * SQLite's query plan (schema.sql), none scans users, organizations, memberships, social
 * accounts or the kept versions, under their own names or an alias (`users_user AS u` plans
 * as `SCAN u`); they search them by key.
 */
import { describe, expect, it } from "vitest";
import { RECORD_STATEMENTS } from "../../src/storage/d1/sync-sql";
import { schemaDb, tableScans } from "./support/query-plan";

const BIG = ["users_user", "users_orgaccount", "users_membership", "socialaccount_socialaccount", "sync_version"];

const scans = (db: ReturnType<typeof schemaDb>, sql: string) => tableScans(db, sql, BIG);

const statements = RECORD_STATEMENTS.map(({ name, sql }) => [name, sql] as const);

describe("sync statements' query plans", () => {
  const db = schemaDb();
  it.each(statements)("%s scans no table of rows", (_name, sql) => {
    expect(scans(db, sql)).toEqual([]);
  });

  // The check has teeth: without the index migration 0008 added, a user's delete scans the
  // social accounts; without the organizations' UUID index, an aliased search becomes `SCAN o`.
  const named = (wanted: string) => statements.find(([name]) => name === wanted)![1];
  it("without socialaccount_socialaccount_user_id, DELETE_USERS_SOCIAL scans socialaccount_socialaccount", () => {
    const bare = schemaDb("DROP INDEX socialaccount_socialaccount_user_id");
    expect(scans(bare, named("DELETE_USERS_SOCIAL"))).toEqual(["SCAN socialaccount_socialaccount"]);
  });
  it("without users_user_origin_key, FIND_USERS (a UUID-keyed user's row) scans users_user", () => {
    const bare = schemaDb("DROP INDEX users_user_origin_key");
    expect(scans(bare, named("FIND_USERS"))).toEqual(["SCAN users_user"]);
  });
  it("without users_orgaccount_django_uuid, ADOPT_ORGS scans users_orgaccount AS o", () => {
    const bare = schemaDb("DROP INDEX users_orgaccount_django_uuid");
    expect(scans(bare, named("ADOPT_ORGS"))).toEqual(["SCAN o"]);
  });
});
