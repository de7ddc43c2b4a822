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
 * - Memberships are matched on (user, organization), which is unique here as at the origin;
 *   their UUIDs are not needed. A membership whose user or org is null is skipped, with why.
 * - Social accounts keep Django's ids and are matched on them; `login` is extra_data's. Other
 *   providers than GitHub are skipped, with why; a (provider, uid) held by another id refuses.
 *
 * The whole file is checked, and the database read, before the first write: a malformed
 * record or a clash with the database's rows (a username or organization name held by
 * another row) writes nothing. Only rows that differ are written, so a second run writes
 * nothing and reports everything unchanged. The rows are staged in tables of the run's own,
 * in batches within D1's limits (at most 100 bound parameters and well under 100 KB of SQL
 * per statement, a bounded number of statements per batch: one D1 batch locally, one
 * `wrangler d1 execute --file` through wrangler), then swapped into the real tables by one
 * batch of five statements, a transaction: a run that fails anywhere leaves them as they were.
 */
import { readFileSync } from "node:fs";
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

interface Plan {
  users: Counts;
  orgs: Counts;
  memberships: Counts;
  socialAccounts: Counts;
  userRows: DumpUser[];
  orgCreates: DumpOrg[];
  orgUpdates: { id: number; org: DumpOrg }[];
  /** Memberships to write; their organization's id is known once the organizations are written. */
  membershipRows: DumpMembership[];
  socialRows: DumpSocialAccount[];
}

/** What the import would change, from the dump and the database's current rows; throws on a clash. */
async function plan(db: Db, dump: Dump): Promise<Plan> {
  const result: Plan = {
    users: counts(),
    orgs: counts(),
    memberships: counts(),
    socialAccounts: counts(),
    userRows: [],
    orgCreates: [],
    orgUpdates: [],
    membershipRows: [],
    socialRows: [],
  };
  const clash = (index: number, model: string, pk: string | number, message: string) =>
    new AdminError(`record ${index} (${model}, pk ${JSON.stringify(pk)}): ${message}; nothing was written`);

  const users = await readAll<{ id: number; username: string; password: string | null; is_active: number }>(
    db,
    (where) => `SELECT id, username, password, is_active FROM users_user WHERE ${where}`,
  );
  const userById = new Map(users.map((row) => [row.id, row]));
  const userIdByName = new Map(users.map((row) => [row.username, row.id]));
  for (const user of dump.users) {
    const holder = userIdByName.get(user.username);
    if (holder !== undefined && holder !== user.id) {
      throw clash(
        user.index,
        "users.user",
        user.id,
        `username ${JSON.stringify(user.username)} belongs to user id ${holder} in the database`,
      );
    }
    const row = userById.get(user.id);
    if (row === undefined) result.users.created++;
    else if (row.username === user.username && row.password === user.password && row.is_active === user.is_active) {
      result.users.unchanged++;
      continue;
    } else result.users.updated++;
    result.userRows.push(user);
  }

  const orgs = await readAll<{ id: number; name: string; django_uuid: string | null }>(
    db,
    (where) => `SELECT id, name, django_uuid FROM users_orgaccount WHERE ${where}`,
  );
  const orgByUuid = new Map(orgs.filter((row) => row.django_uuid !== null).map((row) => [row.django_uuid!, row]));
  const orgByName = new Map(orgs.map((row) => [row.name, row]));
  const orgIdByUuid = new Map<string, number>();
  for (const org of dump.orgs) {
    const holder = orgByName.get(org.name);
    const row = orgByUuid.get(org.django_uuid) ?? (holder?.django_uuid === null ? holder : undefined);
    if (holder !== undefined && holder.id !== row?.id) {
      throw clash(
        org.index,
        "users.orgaccount",
        org.django_uuid,
        `organization name ${JSON.stringify(org.name)} belongs to organization id ${holder.id} (origin ${holder.django_uuid}) in the database`,
      );
    }
    if (row === undefined) {
      result.orgs.created++;
      result.orgCreates.push(org);
      continue;
    }
    orgIdByUuid.set(org.django_uuid, row.id);
    if (row.name === org.name && row.django_uuid === org.django_uuid) result.orgs.unchanged++;
    else {
      result.orgs.updated++;
      result.orgUpdates.push({ id: row.id, org });
    }
  }

  // Memberships of organizations new here are all new: no need to read them (a first import).
  const memberships =
    orgIdByUuid.size === 0
      ? []
      : await readAll<{ id: number; user_id: number; org_id: number; active: number }>(
          db,
          (where) => `SELECT id, user_id, org_id, active FROM users_membership WHERE ${where}`,
        );
  const activeByPair = new Map(memberships.map((row) => [`${row.user_id} ${row.org_id}`, row.active]));
  for (const membership of dump.memberships) {
    const orgId = orgIdByUuid.get(membership.org_uuid);
    const active = orgId === undefined ? undefined : activeByPair.get(`${membership.user_id} ${orgId}`);
    if (active === undefined) result.memberships.created++;
    else if (active === membership.active) {
      result.memberships.unchanged++;
      continue;
    } else result.memberships.updated++;
    result.membershipRows.push(membership);
  }

  if (dump.socialAccounts.length > 0) {
    const fileUsers = new Set(dump.users.map((user) => user.id));
    const accounts = await readAll<{
      id: number;
      user_id: number;
      provider: string;
      uid: string;
      login: string | null;
    }>(db, (where) => `SELECT id, user_id, provider, uid, login FROM socialaccount_socialaccount WHERE ${where}`);
    const accountById = new Map(accounts.map((row) => [row.id, row]));
    const idByUid = new Map(accounts.map((row) => [`${row.provider} ${row.uid}`, row.id]));
    for (const account of dump.socialAccounts) {
      if (!fileUsers.has(account.user_id) && !userById.has(account.user_id))
        throw clash(
          account.index,
          "socialaccount.socialaccount",
          account.id,
          `user ${account.user_id} is neither among the file's users nor in the database`,
        );
      const holder = idByUid.get(`${account.provider} ${account.uid}`);
      if (holder !== undefined && holder !== account.id)
        throw clash(
          account.index,
          "socialaccount.socialaccount",
          account.id,
          `${account.provider} uid ${JSON.stringify(account.uid)} belongs to social account id ${holder} in the database`,
        );
      const row = accountById.get(account.id);
      if (row === undefined) result.socialAccounts.created++;
      else if (
        row.user_id === account.user_id &&
        row.provider === account.provider &&
        row.uid === account.uid &&
        row.login === account.login
      ) {
        result.socialAccounts.unchanged++;
        continue;
      } else result.socialAccounts.updated++;
      result.socialRows.push(account);
    }
  }
  return result;
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
    `CREATE TABLE ${t.memberships} (user_id INTEGER NOT NULL, org_uuid TEXT NOT NULL, active INTEGER NOT NULL)`,
    `CREATE TABLE ${t.social} (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, provider TEXT NOT NULL, uid TEXT NOT NULL, login TEXT)`,
  ].map((sql) => ({ sql, params: [] }));
}

function dropStaging(t: Staging): Statement[] {
  return Object.values(t).map((table) => ({ sql: `DROP TABLE IF EXISTS ${table}`, params: [] }));
}

/** The plan's rows into the staging tables: nothing the API reads is touched yet. */
function stagingStatements(planned: Plan, t: Staging): { statement: Statement; rows: number }[] {
  return [
    ...rowStatements(
      `INSERT INTO ${t.users} (id, username, password, is_active)`,
      "",
      planned.userRows.map((user) => [user.id, user.username, user.password, user.is_active]),
    ),
    ...rowStatements(
      `INSERT INTO ${t.orgUpdates} (id, name, django_uuid)`,
      "",
      planned.orgUpdates.map(({ id, org }) => [id, org.name, org.django_uuid]),
    ),
    ...rowStatements(
      `INSERT INTO ${t.orgCreates} (seq, name, django_uuid)`,
      "",
      planned.orgCreates.map((org, seq) => [seq, org.name, org.django_uuid]),
    ),
    ...rowStatements(
      `INSERT INTO ${t.memberships} (user_id, org_uuid, active)`,
      "",
      planned.membershipRows.map((membership) => [membership.user_id, membership.org_uuid, membership.active]),
    ),
    ...rowStatements(
      `INSERT INTO ${t.social} (id, user_id, provider, uid, login)`,
      "",
      planned.socialRows.map((account) => [account.id, account.user_id, account.provider, account.uid, account.login]),
    ),
  ];
}

/**
 * The staged rows into the real tables: a handful of statements, one batch (one transaction
 * locally), users and organizations before the memberships that refer to them. A
 * membership finds its organization's id by UUID here: organizations created in the same
 * batch have no id the plan could know. ("WHERE true": SQLite's rule for an upsert's SELECT.)
 */
function swapStatements(t: Staging): Statement[] {
  return [
    `INSERT INTO users_user (id, username, password, is_active) SELECT id, username, password, is_active FROM ${t.users} WHERE true
       ON CONFLICT (id) DO UPDATE SET username = excluded.username, password = excluded.password, is_active = excluded.is_active`,
    `UPDATE users_orgaccount SET name = s.name, django_uuid = s.django_uuid FROM ${t.orgUpdates} AS s WHERE users_orgaccount.id = s.id`,
    `INSERT INTO users_orgaccount (name, django_uuid) SELECT name, django_uuid FROM ${t.orgCreates} ORDER BY seq`,
    `INSERT INTO users_membership (user_id, org_id, active)
       SELECT s.user_id, o.id, s.active FROM ${t.memberships} AS s JOIN users_orgaccount AS o ON o.django_uuid = s.org_uuid WHERE true
       ON CONFLICT (user_id, org_id) DO UPDATE SET active = excluded.active`,
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
    users: planned.users,
    organizations: planned.orgs,
    memberships: planned.memberships,
    socialAccounts: planned.socialAccounts,
    skipped: dump.skipped,
    dryRun,
  };
  if (ctx.flags.json) return out(ctx, JSON.stringify(summary));
  out(ctx, `${dryRun ? "Would import" : "Imported"} ${file}:`);
  out(ctx, `  ${line("users", planned.users)}`);
  out(ctx, `  ${line("organizations", planned.orgs)}`);
  out(ctx, `  ${line("memberships", planned.memberships)}`);
  out(ctx, `  ${line("social accounts", planned.socialAccounts)}`);
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
