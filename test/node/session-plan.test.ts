/**
 * The access-token checks read a session's end from D1 within the one read they already
 * make (membership status, the guard): in SQLite's query plan (schema.sql) neither scans the
 * token ledger, users, organizations or memberships. A family's logout is found through the
 * partial index on the ledger's logout rows.
 */
import { describe, expect, it } from "vitest";
import { BEARER_STANDING, TOKEN_STANDING, USER_SESSION } from "../../src/storage/d1/members";
import { schemaDb, tableScans } from "./support/query-plan";

const BIG = ["token_ledger", "token_family_revocation", "users_user", "users_orgaccount", "users_membership"];

const scans = (db: ReturnType<typeof schemaDb>, sql: string) => tableScans(db, sql, BIG);

describe("the access-token checks' D1 read", () => {
  const statements = [
    ["membership status (BEARER_STANDING)", BEARER_STANDING],
    ["the guard (TOKEN_STANDING)", TOKEN_STANDING],
    ["the simplejwt guard (USER_SESSION)", USER_SESSION],
  ] as const;

  it.each(statements)("%s scans no table of rows", (_name, sql) => {
    expect(scans(schemaDb(), sql)).toEqual([]);
  });

  it.each(statements)("%s without token_ledger_logout_family scans the ledger", (_name, sql) => {
    expect(scans(schemaDb("DROP INDEX token_ledger_logout_family"), sql)).toEqual(["SCAN token_ledger"]);
  });
});
