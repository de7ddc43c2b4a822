/**
 * `import-django <file>`: the Django origin's users, organizations, memberships and GitHub
 * social accounts, from `manage.py dumpdata users.User users.OrgAccount users.Membership
 * socialaccount.SocialAccount`, upserted into D1.
 *
 * - Users keep Django's ids and password hashes; matched on the id.
 * - Organizations' UUID primary keys become integer ids given here; the UUID is kept in
 *   users_orgaccount.django_uuid (migration 0004) and matched on, so a rerun or a rename at
 *   the origin updates the same row. An organization made here with the same name (and no
 *   UUID yet) is adopted.
 * - Memberships are matched on (user, organization), unique here as at the origin, and keep
 *   the origin's UUID in users_membership.django_uuid (migration 0006), as the sync does; one
 *   whose UUID is on another pair here was moved at the origin and leaves that pair. A
 *   membership whose user or org is null is skipped, with why.
 * - Social accounts keep Django's ids and are matched on them; `login` is extra_data's. Other
 *   providers than GitHub are skipped, with why.
 *
 * Rows are mapped by the sync's rules (src/sync/records.ts, through parseDump), and names
 * clash by them too. The file is the origin's whole snapshot, where a username, an
 * organization's name and a (provider, uid) are unique: two records of the file holding one
 * are malformed input, refused naming both (parseDump). One that a row here holds while the
 * file gives it to another row means the row here is stale: as the sync, it is displaced
 * (a user or organization renamed to NUL + `displaced:<id>`, a social account removed), and
 * the summary lists it. A row the file also renames (two names swapped) is not displaced.
 *
 * The whole file is checked, and the database read, before the first write: a malformed
 * record, or a social account whose user is nowhere, writes nothing. Only rows that differ
 * are written, so a second run writes nothing and reports everything unchanged. The rows
 * are staged in tables of the run's own, in batches within D1's limits (at most 100 bound
 * parameters and well under 100 KB of SQL per statement, a bounded number of statements per
 * batch: one D1 batch locally, one `wrangler d1 execute --file` through wrangler), then
 * moved into the real tables by one batch of nine statements, a transaction: a run that
 * fails anywhere leaves them as they were.
 */
import { readFileSync } from "node:fs";
import { DISPLACED_NAME_SQL } from "../sync/records";
import { AdminError, type Command, type Context, out } from "./context";
import {
  type Dump,
  DumpError,
  type DumpMembership,
  type DumpOrg,
  type DumpSocialAccount,
  type DumpUser,
  parseDump,
} from "./django-dump";
import type { Db, Statement, Value } from "./lib/db";
import { DbError } from "./lib/db";
import { progressBar } from "./lib/progress";

/** D1: at most 100 bound parameters per statement. */
const MAX_PARAMS = 100;
/** Rows read per query when looking at what the database holds. */
const PAGE = 10_000;

interface Counts {
  created: number;
  updated: number;
  unchanged: number;
}

const counts = (): Counts => ({ created: 0, updated: 0, unchanged: 0 });

/** A multi-row statement: `head` + (?1, ?2, ...), (...) + `tail`, as many rows as the parameters allow. */
function rowStatements(head: string, tail: string, rows: Value[][]): { statement: Statement; rows: number }[] {
  if (rows.length === 0) return [];
  const width = rows[0]!.length;
  const perStatement = Math.floor(MAX_PARAMS / width);
  const statements = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const values = chunk.map(
      (_, r) => `(${Array.from({ length: width }, (_, c) => `?${r * width + c + 1}`).join(", ")})`,
    );
    statements.push({
      statement: { sql: `${head} VALUES ${values.join(", ")}${tail}`, params: chunk.flat() },
      rows: chunk.length,
    });
  }
  return statements;
}

async function readAll<T extends { id: number }>(db: Db, sql: (where: string) => string): Promise<T[]> {
  const rows: T[] = [];
  for (let after = 0; ; ) {
    const page = await db.query<T>(`${sql("id > ?1")} ORDER BY id LIMIT ${PAGE}`, [after]);
    rows.push(...page);
    if (page.length < PAGE) return rows;
    after = page.at(-1)!.id;
  }
}

/** A row of the file against the edge's row it was matched to, if any. */
interface Write<F, R extends object> {
  row: F;
  edge: R | undefined;
}

/** One table's changes: how many rows are created, updated and unchanged, and those to write. */
interface Diff<F, R extends object> {
  counts: Counts;
  writes: Write<F, R>[];
}

/**
 * The file's rows of one table against the edge's: each matched to an edge row by `edgeOf`
 * (none: created), unchanged when every one of `columns` agrees, else updated.
 */
function diff<F, R extends object>(
  rows: readonly F[],
  edgeOf: (row: F) => R | undefined,
  columns: readonly (keyof F & keyof R)[],
) {
  const result: Diff<F, R> = { counts: counts(), writes: [] };
  for (const row of rows) {
    const edge = edgeOf(row);
    if (edge === undefined) result.counts.created++;
    else if (columns.every((column) => (edge[column] as unknown) === row[column])) {
      result.counts.unchanged++;
      continue;
    } else result.counts.updated++;
    result.writes.push({ row, edge });
  }
  return result;
}

interface EdgeUser {
  id: number;
  username: string;
  password: string | null;
  is_active: number;
  /** Set: a user of an origin keyed by UUIDs, whose id the edge gave (docs/sync.md). */
  origin_key: string | null;
}
interface EdgeOrg {
  id: number;
  name: string;
  django_uuid: string | null;
}
interface EdgeMembership {
  id: number;
  user_id: number;
  org_id: number;
  active: number;
  django_uuid: string | null;
}
interface EdgeSocialAccount {
  id: number;
  user_id: number;
  provider: string;
  uid: string;
  login: string | null;
}
/** A membership of the file with its organization's id here, when the organization is here already. */
type PlannedMembership = DumpMembership & { org_id: number | undefined };

/**
 * A row here whose unique value (a username, an organization's name, a GitHub uid) the file
 * gives to another row that the file does not also move it from: the edge row is stale. As
 * the sync does, a user or organization is renamed (NUL + `displaced:<id>`) and a social
 * account removed, in the same transaction as the rest.
 */
export interface Displaced {
  model: string;
  id: number;
  field: "username" | "name" | "uid";
  value: string;
  /** The file's record that holds the value now. */
  record: number;
}

interface Plan {
  users: Diff<DumpUser, EdgeUser>;
  orgs: Diff<DumpOrg, EdgeOrg>;
  memberships: Diff<PlannedMembership, EdgeMembership>;
  socialAccounts: Diff<DumpSocialAccount, EdgeSocialAccount>;
  displaced: Displaced[];
}

/**
 * What the import would change, from the dump and the database's current rows. The file is
 * the origin's whole snapshot, where names are unique (parseDump refuses a file where they
 * are not): a name here that the file gives another row is a stale row here, displaced.
 */
async function plan(db: Db, dump: Dump): Promise<Plan> {
  const displaced: Displaced[] = [];

  const users = await readAll<EdgeUser>(
    db,
    (where) => `SELECT id, username, password, is_active, origin_key FROM users_user WHERE ${where}`,
  );
  const userById = new Map(users.map((row) => [row.id, row]));
  // One edge serves one origin: a file's user never overwrites one of a UUID-keyed origin.
  for (const user of dump.users) {
    const held = userById.get(user.id);
    if (held !== undefined && held.origin_key !== null)
      throw new AdminError(
        `record ${user.index} (users.user, pk ${user.id}): a user of an origin keyed by UUIDs holds id ${user.id} here (${held.origin_key}); nothing was written`,
      );
  }
  const userByName = new Map(users.map((row) => [row.username, row]));
  const fileUsers = new Set(dump.users.map((user) => user.id));
  for (const user of dump.users) {
    const holder = userByName.get(user.username);
    if (holder !== undefined && holder.id !== user.id && !fileUsers.has(holder.id))
      displaced.push({
        model: "users.user",
        id: holder.id,
        field: "username",
        value: user.username,
        record: user.index,
      });
  }

  const orgs = await readAll<EdgeOrg>(
    db,
    (where) => `SELECT id, name, django_uuid FROM users_orgaccount WHERE ${where}`,
  );
  const orgByUuid = new Map(orgs.filter((row) => row.django_uuid !== null).map((row) => [row.django_uuid!, row]));
  const orgByName = new Map(orgs.map((row) => [row.name, row]));
  const fileOrgs = new Set(dump.orgs.map((org) => org.django_uuid));
  // Matched on the UUID; an organization made here under the same name (no UUID yet) is adopted.
  const edgeOrg = (org: DumpOrg) => {
    const named = orgByName.get(org.name);
    return orgByUuid.get(org.django_uuid) ?? (named?.django_uuid === null ? named : undefined);
  };
  const orgIdByUuid = new Map<string, number>();
  for (const org of dump.orgs) {
    const row = edgeOrg(org);
    if (row !== undefined) orgIdByUuid.set(org.django_uuid, row.id);
    const holder = orgByName.get(org.name);
    if (
      holder !== undefined &&
      holder.id !== row?.id &&
      !(holder.django_uuid !== null && fileOrgs.has(holder.django_uuid))
    )
      displaced.push({ model: "users.orgaccount", id: holder.id, field: "name", value: org.name, record: org.index });
  }

  // Matched on (user, organization), or else on the origin's UUID: a membership moved at the
  // origin to another user or organization (its old pair goes, as the sync's MOVE_MEMBERSHIPS).
  const memberships = await readAll<EdgeMembership>(
    db,
    (where) => `SELECT id, user_id, org_id, active, django_uuid FROM users_membership WHERE ${where}`,
  );
  const membershipByPair = new Map(memberships.map((row) => [`${row.user_id} ${row.org_id}`, row]));
  const membershipByUuid = new Map(
    memberships.filter((row) => row.django_uuid !== null).map((row) => [row.django_uuid!, row]),
  );
  const plannedMemberships = dump.memberships.map((m) => ({ ...m, org_id: orgIdByUuid.get(m.org_uuid) }));

  let accounts: EdgeSocialAccount[] = [];
  if (dump.socialAccounts.length > 0) {
    accounts = await readAll<EdgeSocialAccount>(
      db,
      (where) => `SELECT id, user_id, provider, uid, login FROM socialaccount_socialaccount WHERE ${where}`,
    );
    const accountByUid = new Map(accounts.map((row) => [`${row.provider} ${row.uid}`, row]));
    const fileAccounts = new Set(dump.socialAccounts.map((account) => account.id));
    for (const account of dump.socialAccounts) {
      if (!fileUsers.has(account.user_id) && !userById.has(account.user_id))
        throw new AdminError(
          `record ${account.index} (socialaccount.socialaccount, pk ${account.id}): user ${account.user_id} is neither among the file's users nor in the database; nothing was written`,
        );
      const holder = accountByUid.get(`${account.provider} ${account.uid}`);
      if (holder !== undefined && holder.id !== account.id && !fileAccounts.has(holder.id))
        displaced.push({
          model: "socialaccount.socialaccount",
          id: holder.id,
          field: "uid",
          value: `${account.provider} ${account.uid}`,
          record: account.index,
        });
    }
  }
  const accountById = new Map(accounts.map((row) => [row.id, row]));

  return {
    users: diff(dump.users, (user) => userById.get(user.id), ["username", "password", "is_active"]),
    orgs: diff(dump.orgs, edgeOrg, ["name", "django_uuid"]),
    memberships: diff(
      plannedMemberships,
      (m) =>
        (m.org_id === undefined ? undefined : membershipByPair.get(`${m.user_id} ${m.org_id}`)) ??
        membershipByUuid.get(m.django_uuid),
      ["user_id", "org_id", "active", "django_uuid"],
    ),
    socialAccounts: diff(dump.socialAccounts, (account) => accountById.get(account.id), [
      "user_id",
      "provider",
      "uid",
      "login",
    ]),
    displaced: displaced.sort((a, b) => a.record - b.record),
  };
}

/** Statements per batch while staging: a D1 batch over the local binding, or one SQL file through wrangler. */
const STATEMENTS_PER_BATCH = { local: 200, wrangler: 500 };

/** The staging tables of one run: the plan's rows, written in as many batches as they take. */
function stagingTables(run: string) {
  const name = (what: string) => `_import_django_${run}_${what}`;
  return {
    users: name("users"),
    orgUpdates: name("org_updates"),
    orgCreates: name("org_creates"),
    memberships: name("memberships"),
    social: name("social"),
  };
}

type Staging = ReturnType<typeof stagingTables>;

function createStaging(t: Staging): Statement[] {
  return [
    `CREATE TABLE ${t.users} (id INTEGER PRIMARY KEY, username TEXT NOT NULL, password TEXT, is_active INTEGER NOT NULL)`,
    `CREATE TABLE ${t.orgUpdates} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, django_uuid TEXT NOT NULL)`,
    `CREATE TABLE ${t.orgCreates} (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, django_uuid TEXT NOT NULL)`,
    `CREATE TABLE ${t.memberships} (django_uuid TEXT PRIMARY KEY, user_id INTEGER NOT NULL, org_uuid TEXT NOT NULL, active INTEGER NOT NULL)`,
    `CREATE TABLE ${t.social} (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, provider TEXT NOT NULL, uid TEXT NOT NULL, login TEXT)`,
  ].map((sql) => ({ sql, params: [] }));
}

function dropStaging(t: Staging): Statement[] {
  return Object.values(t).map((table) => ({ sql: `DROP TABLE IF EXISTS ${table}`, params: [] }));
}

/** The plan's rows into the staging tables: nothing the API reads is touched yet. */
function stagingStatements(planned: Plan, t: Staging): { statement: Statement; rows: number }[] {
  const orgs = planned.orgs.writes;
  return [
    ...rowStatements(
      `INSERT INTO ${t.users} (id, username, password, is_active)`,
      "",
      planned.users.writes.map(({ row }) => [row.id, row.username, row.password, row.is_active]),
    ),
    ...rowStatements(
      `INSERT INTO ${t.orgUpdates} (id, name, django_uuid)`,
      "",
      orgs.flatMap(({ row, edge }) => (edge === undefined ? [] : [[edge.id, row.name, row.django_uuid]])),
    ),
    ...rowStatements(
      `INSERT INTO ${t.orgCreates} (seq, name, django_uuid)`,
      "",
      orgs.filter(({ edge }) => edge === undefined).map(({ row }, seq) => [seq, row.name, row.django_uuid]),
    ),
    ...rowStatements(
      `INSERT INTO ${t.memberships} (django_uuid, user_id, org_uuid, active)`,
      "",
      planned.memberships.writes.map(({ row }) => [row.django_uuid, row.user_id, row.org_uuid, row.active]),
    ),
    ...rowStatements(
      `INSERT INTO ${t.social} (id, user_id, provider, uid, login)`,
      "",
      planned.socialAccounts.writes.map(({ row }) => [row.id, row.user_id, row.provider, row.uid, row.login]),
    ),
  ];
}

/**
 * The staged rows into the real tables: a handful of statements, one batch (one transaction
 * locally), users and organizations before the memberships that refer to them. The sync's
 * rules (src/storage/d1/sync.ts): a username, organization name or GitHub uid that a staged
 * row takes is first taken from whichever other row holds it here (renamed to
 * DISPLACED_NAME_SQL; a social account removed), which also lets two rows swap names; a
 * membership keeps the origin's UUID, and one whose UUID is on another pair here leaves it.
 * A membership finds its organization's id by UUID here: organizations created in the same
 * batch have no id the plan could know. ("WHERE true": SQLite's rule for an upsert's SELECT.)
 */
function swapStatements(t: Staging): Statement[] {
  return [
    `UPDATE users_user SET username = ${DISPLACED_NAME_SQL} WHERE id IN (
       SELECT u.id FROM ${t.users} AS s JOIN users_user AS u ON u.username = s.username WHERE u.id <> s.id)`,
    `INSERT INTO users_user (id, username, password, is_active) SELECT id, username, password, is_active FROM ${t.users} WHERE true
       ON CONFLICT (id) DO UPDATE SET username = excluded.username, password = excluded.password, is_active = excluded.is_active`,
    `UPDATE users_orgaccount SET name = ${DISPLACED_NAME_SQL} WHERE id IN (
       SELECT o.id FROM (SELECT id, name FROM ${t.orgUpdates} UNION ALL SELECT NULL, name FROM ${t.orgCreates}) AS s
       JOIN users_orgaccount AS o ON o.name = s.name WHERE o.id IS NOT s.id)`,
    `UPDATE users_orgaccount SET name = s.name, django_uuid = s.django_uuid FROM ${t.orgUpdates} AS s WHERE users_orgaccount.id = s.id`,
    `INSERT INTO users_orgaccount (name, django_uuid) SELECT name, django_uuid FROM ${t.orgCreates} ORDER BY seq`,
    `DELETE FROM users_membership WHERE id IN (
       SELECT m.id FROM ${t.memberships} AS s JOIN users_membership AS m ON m.django_uuid = s.django_uuid
       LEFT JOIN users_orgaccount AS o ON o.django_uuid = s.org_uuid WHERE m.user_id <> s.user_id OR o.id IS NOT m.org_id)`,
    `INSERT INTO users_membership (user_id, org_id, active, django_uuid)
       SELECT s.user_id, o.id, s.active, s.django_uuid FROM ${t.memberships} AS s JOIN users_orgaccount AS o ON o.django_uuid = s.org_uuid WHERE true
       ON CONFLICT (user_id, org_id) DO UPDATE SET active = excluded.active, django_uuid = excluded.django_uuid`,
    `DELETE FROM socialaccount_socialaccount WHERE id IN (
       SELECT a.id FROM ${t.social} AS s JOIN socialaccount_socialaccount AS a ON a.provider = s.provider AND a.uid = s.uid
       WHERE a.id <> s.id)`,
    `INSERT INTO socialaccount_socialaccount (id, user_id, provider, uid, login) SELECT id, user_id, provider, uid, login FROM ${t.social} WHERE true
       ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, provider = excluded.provider, uid = excluded.uid, login = excluded.login`,
  ].map((sql) => ({ sql, params: [] }));
}

/**
 * All or nothing: the rows are staged in tables of their own over as many batches as D1's
 * limits need, then swapped in by one batch of a few statements. A failure while staging
 * leaves the real tables untouched; the swap is one transaction (one D1 batch locally, one
 * `wrangler d1 execute --file` through wrangler). The staging tables are dropped either way.
 */
async function execute(ctx: Context, db: Db, planned: Plan) {
  const perBatch =
    ctx.flags.remote || ctx.flags["via-wrangler"] ? STATEMENTS_PER_BATCH.wrangler : STATEMENTS_PER_BATCH.local;
  const tables = stagingTables(crypto.randomUUID().replaceAll("-", "").slice(0, 12));
  const staged = stagingStatements(planned, tables);
  const total = staged.reduce((sum, { rows }) => sum + rows, 0);
  const progress = progressBar(ctx.io.stderr, ctx.io.stderrIsTTY, "import-django", total);
  if (total === 0) return progress.finish();
  const refused = (error: unknown) => {
    if (error instanceof DbError)
      return new AdminError(`the database refused the import (${error.message}); nothing was written`);
    return error;
  };
  try {
    await db.batch(createStaging(tables));
    for (let start = 0; start < staged.length; start += perBatch) {
      const batch = staged.slice(start, start + perBatch);
      await db.batch(batch.map(({ statement }) => statement));
      progress.advance(batch.reduce((sum, { rows }) => sum + rows, 0));
    }
    await db.batch(swapStatements(tables));
  } catch (error) {
    throw refused(error);
  } finally {
    await db.batch(dropStaging(tables)).catch(() => undefined);
  }
  progress.finish();
}

const line = (what: string, c: Counts) =>
  `${what}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`;

async function importDjango(ctx: Context, [file]: string[]) {
  let text;
  try {
    text = readFileSync(file!, "utf8");
  } catch (error) {
    throw new AdminError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let dump;
  try {
    dump = parseDump(text);
  } catch (error) {
    if (error instanceof DumpError) throw new AdminError(`${file}: ${error.message}; nothing was written`);
    throw error;
  }
  const db = await ctx.db();
  const planned = await plan(db, dump);
  const dryRun = ctx.flags["dry-run"] === true;
  if (!dryRun) await execute(ctx, db, planned);

  const summary = {
    users: planned.users.counts,
    organizations: planned.orgs.counts,
    memberships: planned.memberships.counts,
    socialAccounts: planned.socialAccounts.counts,
    displaced: planned.displaced,
    skipped: dump.skipped,
    dryRun,
  };
  if (ctx.flags.json) return out(ctx, JSON.stringify(summary));
  out(ctx, `${dryRun ? "Would import" : "Imported"} ${file}:`);
  out(ctx, `  ${line("users", summary.users)}`);
  out(ctx, `  ${line("organizations", summary.organizations)}`);
  out(ctx, `  ${line("memberships", summary.memberships)}`);
  out(ctx, `  ${line("social accounts", summary.socialAccounts)}`);
  if (planned.displaced.length > 0) {
    out(
      ctx,
      `  displaced: ${planned.displaced.length} (rows here whose name the file gives another row, as the sync does)`,
    );
    for (const d of planned.displaced) {
      const fate = d.model === "socialaccount.socialaccount" ? "removed" : "renamed";
      out(ctx, `    ${d.model} id ${d.id}: ${d.field} ${JSON.stringify(d.value)} is record ${d.record}'s; ${fate}`);
    }
  }
  out(ctx, `  skipped: ${dump.skipped.length}`);
  for (const skip of dump.skipped)
    out(ctx, `    record ${skip.index} (${skip.model}, pk "${skip.pk}"): ${skip.reason}`);
}

export const IMPORT_COMMANDS: Command[] = [
  {
    words: ["import-django"],
    args: ["file"],
    flags: ["dry-run"],
    summary: "upsert users, organizations, memberships and GitHub social accounts from Django's dumpdata JSON",
    run: importDjango,
  },
];
