/**
 * `admin import-django`: a generated dumpdata of a few thousand rows (made here, not
 * committed) upserted into a local D1, rerun without changes, changed at the origin and rerun;
 * null memberships skipped with their reason; broken files and clashes refused with the
 * record named and nothing written. In-process over one local D1 for the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DumpRecord, generateDjangoDump } from "../../scripts/lib/django-fixture";
import { type Db, openLocal, resolveTarget } from "../../src/cli/lib/db";
import { progressBar } from "../../src/cli/lib/progress";
import { CONFIG_PATH } from "../../src/cli/lib/project";
import { MAX_ITERATIONS } from "../../src/passwords/django-format";
import { runInProcess, type SharedAdmin, sharedAdmin } from "./support/admin";

let shared: SharedAdmin;
let files: string;
beforeAll(async () => {
  shared = await sharedAdmin();
  files = mkdtempSync(join(tmpdir(), "admin-import-"));
});
afterAll(async () => {
  await shared?.close();
  rmSync(files, { recursive: true, force: true });
});
beforeEach(async () => {
  await shared.db.batch(
    ["socialaccount_socialaccount", "users_membership", "users_orgaccount", "users_user"].map((table) => ({
      sql: `DELETE FROM ${table}`,
      params: [],
    })),
  );
  await shared.db.batch([{ sql: "DROP TRIGGER IF EXISTS fail_last_membership", params: [] }]);
});

let fileCount = 0;
function file(content: DumpRecord[] | string): string {
  const path = join(files, `dump-${fileCount++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** Everything the import may write, in a stable order. */
async function snapshot(db: Db = shared.db) {
  return {
    users: await db.query("SELECT id, username, password, is_active FROM users_user ORDER BY id"),
    social: await db.query("SELECT id, user_id, provider, uid, login FROM socialaccount_socialaccount ORDER BY id"),
    orgs: await db.query("SELECT id, name, django_uuid FROM users_orgaccount ORDER BY id"),
    memberships: await db.query(
      "SELECT user_id, org_id, active, django_uuid FROM users_membership ORDER BY user_id, org_id",
    ),
  };
}

async function importJson(path: string) {
  const result = await shared.admin(["import-django", path, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe("admin import-django", { timeout: 120_000 }, () => {
  it("imports a few thousand rows keeping Django's ids and hashes, and a rerun changes nothing", async () => {
    const records = generateDjangoDump({ users: 3000, nullMemberships: 3, seed: 11 });
    const dump = file(records);
    const users = records.filter((r) => r.model === "users.user");
    const orgs = records.filter((r) => r.model === "users.orgaccount");
    const memberships = records.filter(
      (r) => r.model === "users.membership" && r.fields.user !== null && r.fields.org !== null,
    );
    expect(memberships.length).toBeGreaterThan(4000);

    const first = await importJson(dump);
    expect(first).toEqual({
      users: { created: 3000, updated: 0, unchanged: 0 },
      organizations: { created: orgs.length, updated: 0, unchanged: 0 },
      memberships: { created: memberships.length, updated: 0, unchanged: 0 },
      socialAccounts: { created: 0, updated: 0, unchanged: 0 },
      displaced: [],
      skipped: [
        { index: records.length - 3, model: "users.membership", pk: records.at(-3)!.pk, reason: "user is null" },
        { index: records.length - 2, model: "users.membership", pk: records.at(-2)!.pk, reason: "org is null" },
        { index: records.length - 1, model: "users.membership", pk: records.at(-1)!.pk, reason: "user is null" },
      ],
      dryRun: false,
    });
    const after = await snapshot();
    expect(after.users).toEqual(
      users.map((u) => ({
        id: u.pk,
        username: u.fields.username,
        password: u.fields.password,
        is_active: u.fields.is_active ? 1 : 0,
      })),
    );
    const orgId = new Map(after.orgs.map((row) => [row.django_uuid, row.id]));
    expect([...orgId.keys()].sort()).toEqual(orgs.map((o) => o.pk).sort());
    const expectedMemberships = memberships
      .map((m) => ({
        user_id: m.fields.user,
        org_id: orgId.get(m.fields.org),
        active: m.fields.active ? 1 : 0,
        // The origin's membership UUID, as the sync writes it (membershipRow).
        django_uuid: m.pk,
      }))
      .sort((a, b) => (a.user_id as number) - (b.user_id as number) || (a.org_id as number) - (b.org_id as number));
    expect(after.memberships).toEqual(expectedMemberships);

    // Run twice: the same result, nothing written.
    const second = await importJson(dump);
    expect(second.users).toEqual({ created: 0, updated: 0, unchanged: 3000 });
    expect(second.organizations).toEqual({ created: 0, updated: 0, unchanged: orgs.length });
    expect(second.memberships).toEqual({ created: 0, updated: 0, unchanged: memberships.length });
    expect(await snapshot()).toEqual(after);

    // Changes at the origin: a new hash, a renamed organization (same row here), a membership switched off.
    const changed = structuredClone(records);
    const user = changed.find((r) => r.model === "users.user" && r.pk === 12)!;
    user.fields.password = "pbkdf2_sha256$720000$newsalt$newhash=";
    const org = changed.find((r) => r.model === "users.orgaccount")!;
    org.fields.name = "Renamed at the origin";
    const membership = changed.find((r) => r.model === "users.membership" && r.fields.active === true)!;
    membership.fields.active = false;
    const third = await importJson(file(changed));
    expect([third.users, third.organizations, third.memberships].map((c) => c.updated)).toEqual([1, 1, 1]);
    const renamed = await shared.db.query("SELECT id, name FROM users_orgaccount WHERE django_uuid = ?1", [org.pk]);
    expect(renamed).toEqual([{ id: orgId.get(org.pk), name: "Renamed at the origin" }]);
    const [hash] = await shared.db.query<{ password: string }>("SELECT password FROM users_user WHERE id = 12");
    expect(hash!.password).toBe("pbkdf2_sha256$720000$newsalt$newhash=");
  });

  it("prints a summary with the skipped records and their reasons; --dry-run writes nothing", async () => {
    const records = generateDjangoDump({ users: 10, orgs: 2, nullMemberships: 2, seed: 3 });
    const path = file(records);
    const dry = await shared.admin(["import-django", path, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Would import ${path}:\n  users: 10 created, 0 updated, 0 unchanged\n`);
    expect(await snapshot()).toEqual({ users: [], orgs: [], memberships: [], social: [] });

    const run = await shared.admin(["import-django", path]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 3)).toEqual([
      `Imported ${path}:`,
      "  users: 10 created, 0 updated, 0 unchanged",
      "  organizations: 2 created, 0 updated, 0 unchanged",
    ]);
    expect(lines.slice(-3)).toEqual([
      "  skipped: 2",
      `    record ${records.length - 2} (users.membership, pk "${records.at(-2)!.pk}"): user is null`,
      `    record ${records.length - 1} (users.membership, pk "${records.at(-1)!.pk}"): org is null`,
    ]);
    // Not a terminal: progress as plain lines, ending at the total.
    expect(run.stderr).toMatch(/^import-django: \d+\/\d+\n/);
    expect(run.stderr.trimEnd().split("\n").at(-1)).toMatch(/^import-django: (\d+)\/\1$/);
  });

  it("adopts an organization made here under the same name, keeping its id", async () => {
    await shared.admin(["org", "add", "Org1-here"]);
    const [{ id }] = (await shared.db.query<{ id: number }>(
      "SELECT id FROM users_orgaccount WHERE name = 'Org1-here'",
    )) as [{ id: number }];
    const records: DumpRecord[] = [
      { model: "users.user", pk: 3, fields: { username: "ceu", password: "!unusable", is_active: true } },
      { model: "users.orgaccount", pk: "0b7f3c1e-4a5d-4e8f-9a0b-1c2d3e4f5a6b", fields: { name: "Org1-here" } },
      {
        model: "users.membership",
        pk: "1b7f3c1e-4a5d-4e8f-9a0b-1c2d3e4f5a6b",
        fields: { user: 3, org: "0B7F3C1E-4A5D-4E8F-9A0B-1C2D3E4F5A6B", active: true },
      },
    ];
    const summary = await importJson(file(records));
    expect(summary.organizations).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect((await snapshot()).orgs).toEqual([
      { id, name: "Org1-here", django_uuid: "0b7f3c1e-4a5d-4e8f-9a0b-1c2d3e4f5a6b" },
    ]);
    expect((await snapshot()).memberships).toEqual([
      { user_id: 3, org_id: id, active: 1, django_uuid: "1b7f3c1e-4a5d-4e8f-9a0b-1c2d3e4f5a6b" },
    ]);
  });

  it("displaces, as the sync does, a row here whose name the file gives another row: the file's row gets it, and names can swap", async () => {
    const records = generateDjangoDump({ users: 40, orgs: 3, seed: 7 });
    await importJson(file(records));
    const stale = "ffffffff-0000-4000-a000-000000000001";
    // Rows the origin no longer has under these names (deleted or renamed there, not synced yet).
    await shared.db.batch([
      { sql: "INSERT INTO users_user (id, username) VALUES (500, 'taken')", params: [] },
      { sql: "INSERT INTO users_orgaccount (name, django_uuid) VALUES ('Taken here', ?1)", params: [stale] },
      {
        sql: "INSERT INTO socialaccount_socialaccount (id, user_id, provider, uid, login) VALUES (50, 500, 'github', '101', 'old')",
        params: [],
      },
    ]);
    const [{ id: staleOrg }] = (await shared.db.query<{ id: number }>(
      "SELECT id FROM users_orgaccount WHERE django_uuid = ?1",
      [stale],
    )) as [{ id: number }];
    const [user1, user2, user3] = records as [DumpRecord, DumpRecord, DumpRecord];
    [user1.fields.username, user2.fields.username] = [user2.fields.username, user1.fields.username];
    user3.fields.username = "taken";
    const org = records.find((r) => r.model === "users.orgaccount")!;
    org.fields.name = "Taken here";
    records.push({
      model: "socialaccount.socialaccount",
      pk: 7,
      fields: { user: 1, provider: "github", uid: "101", extra_data: { login: "octo" } },
    });
    const path = file(records);
    const displaced = [
      { model: "users.user", id: 500, field: "username", value: "taken", record: 2 },
      { model: "users.orgaccount", id: staleOrg, field: "name", value: "Taken here", record: records.indexOf(org) },
      { model: "socialaccount.socialaccount", id: 50, field: "uid", value: "github 101", record: records.length - 1 },
    ];

    const before = await snapshot();
    const dry = await shared.admin(["import-django", path, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      [
        "  displaced: 3 (rows here whose name the file gives another row, as the sync does)",
        `    users.user id 500: username "taken" is record 2's; renamed`,
        `    users.orgaccount id ${staleOrg}: name "Taken here" is record ${records.indexOf(org)}'s; renamed`,
        `    socialaccount.socialaccount id 50: uid "github 101" is record ${records.length - 1}'s; removed`,
      ].join("\n"),
    );
    expect(await snapshot()).toEqual(before);

    const summary = await importJson(path);
    expect(summary.displaced).toEqual(displaced);
    expect(summary.users).toEqual({ created: 0, updated: 3, unchanged: 37 });
    expect(summary.organizations).toEqual({ created: 0, updated: 1, unchanged: 2 });
    expect(summary.socialAccounts).toEqual({ created: 1, updated: 0, unchanged: 0 });
    const users = await shared.db.query("SELECT id, username FROM users_user WHERE id IN (1, 2, 3, 500) ORDER BY id");
    expect(users).toEqual([
      { id: 1, username: user1.fields.username },
      { id: 2, username: user2.fields.username },
      { id: 3, username: "taken" },
      { id: 500, username: "\0displaced:500" },
    ]);
    const orgs = await shared.db.query("SELECT id, name FROM users_orgaccount WHERE id = ?1 OR django_uuid = ?2", [
      staleOrg,
      org.pk,
    ]);
    expect(orgs).toContainEqual({ id: staleOrg, name: `\0displaced:${staleOrg}` });
    expect(orgs).toContainEqual({ id: expect.any(Number), name: "Taken here" });
    expect((await snapshot()).social).toEqual([{ id: 7, user_id: 1, provider: "github", uid: "101", login: "octo" }]);

    // The displaced rows keep their new names until their own change comes; a rerun changes nothing.
    const again = await importJson(path);
    expect([again.users.updated, again.organizations.updated, again.displaced]).toEqual([0, 0, []]);
  });

  it("keeps the origin's membership UUID (users_membership.django_uuid, as the sync): adopts a pair made here, moves one the origin moved", async () => {
    const records = generateDjangoDump({ users: 10, orgs: 3, seed: 4 });
    await importJson(file(records));
    const memberships = records.filter((r) => r.model === "users.membership");
    const moved = memberships.find((m) => m.fields.user === 1)!;
    const other = records.find((r) => r.model === "users.orgaccount" && r.pk !== moved.fields.org)!;
    const [{ id: fromOrg }] = (await shared.db.query<{ id: number }>(
      "SELECT id FROM users_orgaccount WHERE django_uuid = ?1",
      [moved.fields.org as string],
    )) as [{ id: number }];
    // A pair made here (no UUID) that the origin also has: it takes the origin's UUID.
    const adopted = memberships.find((m) => m.fields.user === 2)!;
    await shared.db.batch([
      { sql: "UPDATE users_membership SET django_uuid = NULL WHERE django_uuid = ?1", params: [adopted.pk] },
    ]);
    moved.fields.org = other.pk;
    const summary = await importJson(file(records));
    expect(summary.memberships.updated).toBe(2);
    const rows = await shared.db.query<{ user_id: number; org_id: number; django_uuid: string }>(
      "SELECT m.user_id, m.org_id, m.django_uuid, o.django_uuid AS org FROM users_membership AS m JOIN users_orgaccount AS o ON o.id = m.org_id WHERE m.django_uuid IN (?1, ?2) ORDER BY m.user_id",
      [moved.pk, adopted.pk],
    );
    expect(rows).toEqual([
      { user_id: 1, org_id: expect.any(Number), django_uuid: moved.pk, org: other.pk },
      { user_id: 2, org_id: expect.any(Number), django_uuid: adopted.pk, org: adopted.fields.org },
    ]);
    // The moved membership left its old pair.
    expect(
      await shared.db.query("SELECT 1 FROM users_membership WHERE user_id = 1 AND org_id = ?1", [fromOrg]),
    ).toEqual([]);
    expect((await importJson(file(records))).memberships.updated).toBe(0);
  });

  it("writes the same rows through `wrangler d1 execute --file` (the --remote code path)", async () => {
    const records = generateDjangoDump({ users: 30, orgs: 3, nullMemberships: 1, seed: 9 });
    records.find((r) => r.model === "users.orgaccount")!.fields.name = "O'Reilly; DROP TABLE users_user; -- ?1";
    const path = file(records);
    // A state directory of its own, migrated by the command itself: no other process holds
    // its SQLite file while wrangler writes it (local state is one process's at a time).
    const dir = mkdtempSync(join(files, "via-wrangler-"));
    const viaWrangler = await runInProcess(["--persist-to", dir, "--via-wrangler", "import-django", path, "--json"]);
    expect(viaWrangler.code, viaWrangler.stderr).toBe(0);
    expect(JSON.parse(viaWrangler.stdout).memberships.created).toBeGreaterThan(30);
    const db = await openLocal(resolveTarget(CONFIG_PATH, "DB", dir));
    let written;
    try {
      written = await snapshot(db);
    } finally {
      await db.close();
    }
    // The same file through the bound path: the same rows.
    await importJson(path);
    expect(await snapshot()).toEqual(written);
  });

  describe("refuses a broken file, naming the record, with nothing written", () => {
    const valid = () => generateDjangoDump({ users: 40, orgs: 3, seed: 7 });
    const firstMembership = (records: DumpRecord[]) => records.findIndex((r) => r.model === "users.membership");
    const cases: [string, () => DumpRecord[] | string, RegExp][] = [
      ["bad JSON", () => JSON.stringify(valid()).slice(0, -40), /: not JSON: /],
      [
        "not a list",
        () => JSON.stringify({ model: "users.user" }),
        /expected a JSON array of records \(dumpdata's format\), not an object/,
      ],
      [
        "an unknown model",
        () => [...valid(), { model: "auth.group", pk: 1, fields: { name: "staff" } }],
        /record \d+ \(auth\.group, pk 1\): unknown model; expected users\.user, users\.orgaccount, users\.membership/,
      ],
      [
        "a missing field",
        () => {
          const records = valid();
          delete records[30]!.fields.is_active;
          return records;
        },
        /record 30 \(users\.user, pk 31\): missing field "is_active"/,
      ],
      [
        "a wrong type",
        () => {
          const records = valid();
          records[35]!.fields.is_active = "yes";
          return records;
        },
        /record 35 \(users\.user, pk 36\): field "is_active" must be true or false, not a string/,
      ],
      [
        "a membership pointing at a missing user",
        () => {
          const records = valid();
          const i = firstMembership(records) + 5;
          records[i]!.fields.user = 99999;
          return records;
        },
        /record \d+ \(users\.membership, pk "[0-9a-f-]{36}"\): user 99999 is not among the file's users/,
      ],
      [
        "an organization without a UUID",
        () => {
          const records = valid();
          records.find((r) => r.model === "users.orgaccount")!.pk = 12;
          return records;
        },
        /record \d+ \(users\.orgaccount, pk 12\): pk must be a UUID/,
      ],
      [
        "a user id twice",
        () => [
          ...valid(),
          { model: "users.user", pk: 2, fields: { username: "other", password: "", is_active: true } },
        ],
        /user id 2 appears twice \(also record 1\)/,
      ],
    ];
    for (const [what, content, message] of cases) {
      it(what, async () => {
        await shared.db.batch([{ sql: "INSERT INTO users_user (id, username) VALUES (500, 'kept')", params: [] }]);
        const before = await snapshot();
        const result = await shared.admin(["import-django", file(content())]);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(message);
        expect(result.stderr).toMatch(/nothing was written\n$/);
        expect(await snapshot()).toEqual(before);
      });
    }

    // Inside the file, names are the origin's and unique: a clash there is malformed input.
    it("a username twice in the file, naming both records", async () => {
      const records = valid();
      records[20]!.fields.username = records[3]!.fields.username;
      const result = await shared.admin(["import-django", file(records)]);
      expect([result.code, result.stdout]).toEqual([1, ""]);
      expect(result.stderr).toMatch(
        /record 20 \(users\.user, pk 21\): username "[^"]+" appears twice \(also record 3, pk 4\); nothing was written/,
      );
      expect((await snapshot()).users).toEqual([]);
    });

    it("an organization name twice in the file, naming both records", async () => {
      const records = valid();
      const [first, second] = records.filter((r) => r.model === "users.orgaccount");
      second!.fields.name = first!.fields.name;
      const result = await shared.admin(["import-django", file(records)]);
      expect([result.code, result.stdout]).toEqual([1, ""]);
      expect(result.stderr).toContain(
        `record ${records.indexOf(second!)} (users.orgaccount, pk "${second!.pk}"): organization name ${JSON.stringify(first!.fields.name)} appears twice (also record ${records.indexOf(first!)}, pk "${first!.pk}"); nothing was written`,
      );
      expect((await snapshot()).orgs).toEqual([]);
    });

    it("two usernames that differ only by a lone surrogate (SQLite would store both as U+FFFD)", async () => {
      const records = valid();
      records[10]!.fields.username = "sur\ud800";
      records[11]!.fields.username = "sur\udc00";
      const result = await shared.admin(["import-django", file(records)]);
      expect([result.code, result.stdout]).toEqual([1, ""]);
      expect(result.stderr).toMatch(
        /record 10 \(users\.user, pk 11\): field "username" holds a lone surrogate, which SQLite would store as U\+FFFD .*nothing was written/,
      );
      expect((await snapshot()).users).toEqual([]);
    });

    it("an organization name with a lone surrogate", async () => {
      const records = valid();
      const index = records.findIndex((r) => r.model === "users.orgaccount");
      records[index]!.fields.name = "Org\udfff";
      const result = await shared.admin(["import-django", file(records)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`record ${index} \\(users\\.orgaccount, .*lone surrogate`));
      expect((await snapshot()).orgs).toEqual([]);
    });

    it("a password hash above the iteration ceiling", async () => {
      const records = valid();
      records[25]!.fields.password = `pbkdf2_sha256$${MAX_ITERATIONS + 1}$abcdefghijklmnopqrstuv$${"A".repeat(43)}=`;
      const result = await shared.admin(["import-django", file(records)]);
      expect([result.code, result.stdout]).toEqual([1, ""]);
      expect(result.stderr).toMatch(
        new RegExp(
          `record 25 \\(users\\.user, pk 26\\): password hash has ${MAX_ITERATIONS + 1} iterations, above the ceiling of ${MAX_ITERATIONS}`,
        ),
      );
      expect((await snapshot()).users).toEqual([]);
      // At the ceiling itself: accepted.
      records[25]!.fields.password = `pbkdf2_sha256$${MAX_ITERATIONS}$abcdefghijklmnopqrstuv$${"A".repeat(43)}=`;
      expect((await importJson(file(records))).users.created).toBe(40);
    });

    it("the sync's rules for a row: a username counted in code points (150 astral ones pass, 151 refused), a null password", async () => {
      const records = valid();
      records[15]!.fields.username = "\u{1f600}".repeat(151);
      const result = await shared.admin(["import-django", file(records)]);
      expect([result.code, result.stdout]).toEqual([1, ""]);
      expect(result.stderr).toMatch(
        /record 15 \(users\.user, pk 16\): field "username" must be 1 to 150 characters; nothing was written/,
      );
      expect((await snapshot()).users).toEqual([]);
      records[15]!.fields.username = "\u{1f600}".repeat(150);
      records[16]!.fields.password = null;
      expect((await importJson(file(records))).users.created).toBe(40);
      const rows = await shared.db.query(
        "SELECT id, username, password FROM users_user WHERE id IN (16, 17) ORDER BY id",
      );
      expect(rows).toEqual([
        { id: 16, username: "\u{1f600}".repeat(150), password: records[15]!.fields.password },
        { id: 17, username: records[16]!.fields.username, password: null },
      ]);
    });

    it("a file that is not there", async () => {
      const result = await shared.admin(["import-django", join(files, "missing.json")]);
      expect([result.code, result.stdout]).toEqual([1, ""]);
      expect(result.stderr).toMatch(/cannot read .*missing\.json: ENOENT/);
    });
  });

  it("what SQLite stores: a lone surrogate becomes U+FFFD, so two such names collide (why the file check exists)", async () => {
    await shared.db.batch([{ sql: "INSERT INTO users_user (id, username) VALUES (?1, ?2)", params: [1, "sur\ud800"] }]);
    const [row] = await shared.db.query<{ username: string }>("SELECT username FROM users_user WHERE id = 1");
    expect(row!.username).toBe("sur\ufffd");
    await expect(
      shared.db.batch([{ sql: "INSERT INTO users_user (id, username) VALUES (?1, ?2)", params: [2, "sur\udc00"] }]),
    ).rejects.toThrow(/UNIQUE/);
  });

  /** A real SQLite failure on the file's very last membership: the last statement of the import. */
  async function failOnLastMembership(records: DumpRecord[], db: Db = shared.db) {
    const last = records.filter((r) => r.model === "users.membership" && r.fields.user !== null).at(-1)!;
    await db.batch([
      {
        sql: `CREATE TRIGGER fail_last_membership BEFORE INSERT ON users_membership WHEN NEW.user_id = ${Number(last.fields.user)} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
        params: [],
      },
    ]);
  }

  it("a run that fails in its last statement leaves the database as it was (6000 users, one transaction)", async () => {
    const records = generateDjangoDump({ users: 6002, seed: 5 });
    await shared.db.batch([{ sql: "INSERT INTO users_user (id, username) VALUES (90000, 'kept')", params: [] }]);
    const before = await snapshot();
    await failOnLastMembership(records);
    const result = await shared.admin(["import-django", file(records)]);
    expect([result.code, result.stdout]).toEqual([1, ""]);
    expect(result.stderr).toMatch(/the database refused the import \(.*injected failure.*\); nothing was written/);
    expect(await snapshot()).toEqual(before);
  });

  it("the same through `wrangler d1 execute --file` (the --remote code path): one file, nothing written", async () => {
    const records = generateDjangoDump({ users: 300, seed: 6 });
    // A state directory of its own, open in no other process while wrangler writes it.
    const target = resolveTarget(CONFIG_PATH, "DB", mkdtempSync(join(files, "via-wrangler-")));
    const withDb = async <T>(work: (db: Db) => Promise<T>) => {
      const db = await openLocal(target);
      try {
        return await work(db);
      } finally {
        await db.close();
      }
    };
    const before = await withDb(async (db) => {
      await db.batch([{ sql: "INSERT INTO users_user (id, username) VALUES (90000, 'kept')", params: [] }]);
      await failOnLastMembership(records, db);
      return snapshot(db);
    });
    const result = await runInProcess([
      "--persist-to",
      target.stateDir,
      "--via-wrangler",
      "import-django",
      file(records),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/injected failure/);
    expect(await withDb(snapshot)).toEqual(before);
  });

  it("refuses a user whose id a user of a UUID-keyed origin holds here (one edge serves one origin), nothing written", async () => {
    const records = generateDjangoDump({ users: 40, orgs: 3, seed: 7 });
    const first = records.find((r) => r.model === "users.user")!;
    const uuid = crypto.randomUUID();
    await shared.db.batch([
      {
        sql: "INSERT INTO users_user (id, username, origin_key, simplejwt_id) VALUES (?1, 'uuid-user', ?2, ?2)",
        params: [Number(first.pk), uuid],
      },
    ]);
    const before = await snapshot();
    const result = await shared.admin(["import-django", file(records)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `(users.user, pk ${first.pk}): a user of an origin keyed by UUIDs holds id ${first.pk} here (${uuid}); nothing was written`,
    );
    expect(await snapshot()).toEqual(before);
  });

  it("imports GitHub social accounts (extra_data as a dict or a JSON string), skips other providers, and a rerun changes nothing", async () => {
    const records = generateDjangoDump({ users: 40, orgs: 3, seed: 7 });
    records.push(
      {
        model: "socialaccount.socialaccount",
        pk: 7,
        fields: { user: 1, provider: "github", uid: "101", extra_data: { login: "octo", id: 101 } },
      },
      {
        model: "socialaccount.socialaccount",
        pk: 8,
        fields: { user: 2, provider: "github", uid: "102", extra_data: JSON.stringify({ login: "cat" }) },
      },
      {
        model: "socialaccount.socialaccount",
        pk: 9,
        fields: { user: 3, provider: "github", uid: "103", extra_data: {} },
      },
      {
        model: "socialaccount.socialaccount",
        pk: 10,
        fields: { user: 4, provider: "google", uid: "g-1", extra_data: { email: "x@example.org" } },
      },
    );
    const path = file(records);
    const first = await importJson(path);
    expect(first.socialAccounts).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect(first.skipped).toEqual([
      {
        index: records.length - 1,
        model: "socialaccount.socialaccount",
        pk: "10",
        reason: 'provider "google" is not served here',
      },
    ]);
    expect((await snapshot()).social).toEqual([
      { id: 7, user_id: 1, provider: "github", uid: "101", login: "octo" },
      { id: 8, user_id: 2, provider: "github", uid: "102", login: "cat" },
      { id: 9, user_id: 3, provider: "github", uid: "103", login: null },
    ]);
    const second = await importJson(path);
    expect(second.socialAccounts).toEqual({ created: 0, updated: 0, unchanged: 3 });
    // A renamed GitHub login at the origin updates the same row.
    (records.at(-4)!.fields.extra_data as { login: string }).login = "octo2";
    const third = await importJson(file(records));
    expect(third.socialAccounts).toEqual({ created: 0, updated: 1, unchanged: 2 });
  });

  it("refuses a social account whose user is nowhere, or whose uid another id holds, with nothing written", async () => {
    const records = generateDjangoDump({ users: 40, orgs: 3, seed: 7 });
    const orphan = [
      ...records,
      {
        model: "socialaccount.socialaccount",
        pk: 5,
        fields: { user: 77, provider: "github", uid: "1", extra_data: {} },
      },
    ];
    const result = await shared.admin(["import-django", file(orphan)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /socialaccount\.socialaccount, pk 5\): user 77 is neither among the file's users nor in the database; nothing was written/,
    );
    expect((await snapshot()).users).toEqual([]);
    const twice = [
      ...records,
      {
        model: "socialaccount.socialaccount",
        pk: 5,
        fields: { user: 1, provider: "github", uid: "1", extra_data: {} },
      },
      {
        model: "socialaccount.socialaccount",
        pk: 6,
        fields: { user: 2, provider: "github", uid: "1", extra_data: {} },
      },
    ];
    const again = await shared.admin(["import-django", file(twice)]);
    expect(again.stderr).toMatch(/github uid "1" appears twice/);
  });

  it("draws the progress bar in place at a terminal, and plain lines elsewhere", () => {
    let tty = "";
    const bar = progressBar((text) => (tty += text), true, "import", 200);
    bar.advance(50);
    bar.advance(150);
    bar.finish();
    expect(tty).toBe(
      `\rimport [${"#".repeat(8)}${"-".repeat(22)}] 25% 50/200\rimport [${"#".repeat(30)}] 100% 200/200\n`,
    );
    let log = "";
    const plain = progressBar((text) => (log += text), false, "import", 1000);
    for (let i = 0; i < 100; i++) plain.advance(10);
    plain.finish();
    expect(log.split("\n").filter(Boolean)).toEqual(
      Array.from({ length: 10 }, (_, i) => `import: ${(i + 1) * 100}/1000`),
    );
  });
});
