/**
 * schema.sql (the whole current schema) and migrations/ (the versioned path) describe the
 * same database: each is applied to a fresh SQLite, and the two are compared table by table
 * (columns with type, NOT NULL, default and key; foreign keys; indexes and unique
 * constraints; CHECK constraints), then index by index. Whatever files migrations/ holds
 * are covered. Also: schema.sql stays idempotent, and so does the migrations path as wrangler
 * runs it (the in-process runner of the admin CLI keeps wrangler's bookkeeping).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { migrationFiles, migrationsTableSql } from "../../src/cli/lib/migrations";
import { MIGRATIONS_DIR, SCHEMA_PATH } from "../../src/cli/lib/project";

type Row = Record<string, unknown>;

const normalizeSql = (sql: string) =>
  sql
    .replace(/--[^\n]*/g, " ")
    .replace(/\s+/g, " ")
    .replace(/\bIF NOT EXISTS\b/gi, "")
    .replace(/\s*([(),])\s*/g, "$1")
    .trim()
    .toLowerCase();

/** CHECK (...) clauses of a CREATE TABLE, normalized, with nested parentheses. */
function checks(sql: string): string[] {
  const text = normalizeSql(sql);
  const found: string[] = [];
  for (let at = text.indexOf("check("); at !== -1; at = text.indexOf("check(", at + 1)) {
    let depth = 0;
    let end = at + 5;
    for (; end < text.length; end++) {
      if (text[end] === "(") depth++;
      else if (text[end] === ")" && --depth === 0) break;
    }
    found.push(text.slice(at, end + 1));
  }
  return found.sort();
}

/** The structure of a database, in a form where the way it was built does not show. */
function shape(db: DatabaseSync) {
  const all = (sql: string) => db.prepare(sql).all() as Row[];
  const objects = all(
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> 'd1_migrations' ORDER BY type, name",
  );
  const tables = Object.fromEntries(
    objects
      .filter((object) => object.type === "table")
      .map((table) => {
        const name = table.name as string;
        const quoted = `"${name}"`;
        const columns = all(`PRAGMA table_xinfo(${quoted})`)
          .map(({ cid: _cid, ...column }) => column)
          .sort((a, b) => String(a.name).localeCompare(String(b.name)));
        const foreignKeys = all(`PRAGMA foreign_key_list(${quoted})`).map(({ id: _id, seq: _seq, ...key }) => key);
        const indexes = all(`PRAGMA index_list(${quoted})`)
          .map((index) => ({
            unique: index.unique,
            origin: index.origin,
            partial: index.partial,
            // Autoindexes (UNIQUE, PRIMARY KEY constraints) are named by position: compare by columns.
            name: String(index.name).startsWith("sqlite_autoindex_") ? "(constraint)" : index.name,
            columns: all(`PRAGMA index_info("${index.name as string}")`).map((column) => column.name),
          }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        const withoutRowid = /\bwithout rowid\s*$/.test(normalizeSql(table.sql as string));
        return [name, { columns, foreignKeys, indexes, checks: checks(table.sql as string), withoutRowid }];
      }),
  );
  const others = objects
    .filter((object) => object.type !== "table" && object.sql !== null)
    .map((object) => ({
      type: object.type,
      name: object.name,
      table: object.tbl_name,
      sql: normalizeSql(object.sql as string),
    }));
  return { tables, others };
}

function fresh(): DatabaseSync {
  return new DatabaseSync(":memory:");
}

function fromSchema(): DatabaseSync {
  const db = fresh();
  db.exec(readFileSync(SCHEMA_PATH, "utf8"));
  return db;
}

/** The migrations as wrangler applies them: each file, then its row in d1_migrations. */
function fromMigrations(): DatabaseSync {
  const db = fresh();
  db.exec(migrationsTableSql("d1_migrations"));
  for (const name of migrationFiles(MIGRATIONS_DIR)) {
    db.exec(readFileSync(join(MIGRATIONS_DIR, name), "utf8"));
    db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").run(name);
  }
  return db;
}

describe("schema.sql and migrations/", () => {
  it("are numbered files that start from the initial schema", () => {
    const files = migrationFiles(MIGRATIONS_DIR);
    expect(files[0]).toBe("0001_initial.sql");
    for (const name of files) expect(name).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/);
    const numbers = files.map((name) => name.slice(0, 4));
    expect(new Set(numbers).size, `two migrations share a number: ${files.join(", ")}`).toBe(files.length);
  });

  it("build the same database", () => {
    const expected = shape(fromSchema());
    const actual = shape(fromMigrations());
    expect(Object.keys(actual.tables)).toEqual(Object.keys(expected.tables));
    for (const table of Object.keys(expected.tables))
      expect(actual.tables[table], table).toEqual(expected.tables[table]);
    expect(actual.others).toEqual(expected.others);
    // The comparison sees what matters: a column more on one side is a difference.
    const altered = fromMigrations();
    altered.exec("ALTER TABLE users_orgaccount ADD COLUMN extra TEXT");
    expect(shape(altered)).not.toEqual(expected);
  });

  it("schema.sql applies twice, and over a database the migrations made", () => {
    const twice = fromSchema();
    twice.exec(readFileSync(SCHEMA_PATH, "utf8"));
    expect(shape(twice)).toEqual(shape(fromSchema()));
    const migrated = fromMigrations();
    migrated.exec(readFileSync(SCHEMA_PATH, "utf8"));
    expect(shape(migrated)).toEqual(shape(fromSchema()));
  });
});
