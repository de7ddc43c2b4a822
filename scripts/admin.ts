/**
 * Administration of org-token-edge's users, organizations and memberships, for whoever runs
 * the service: `npm run admin -- <command>` (see --help). Works on the local database that
 * `npm start` uses, or with --remote on the deployed one.
 */
import * as nodeModule from "node:module";
import { parseArgs } from "node:util";
import { type Db, DbError, openLocal, openViaWrangler, resolveTarget, type Value } from "./lib/db";
import { PasswordInputError, readNewPassword } from "./lib/password";
import { CONFIG_PATH, loadWrangler, readDevVars } from "./lib/project";

// wrangler is a 15 MB bundle; caching its compiled code saves a good part of every start.
nodeModule.enableCompileCache?.();

/** A failure the operator caused or can fix: printed as is, exit status 1. */
class AdminError extends Error {
  override readonly name = "AdminError";
}

/** A command line that does not parse: exit status 2, with a pointer to --help. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

const OPTIONS = {
  remote: { type: "boolean" },
  "persist-to": { type: "string" },
  "via-wrangler": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  id: { type: "string" },
  inactive: { type: "boolean" },
  active: { type: "boolean" },
  password: { type: "boolean" },
} as const;

type CommandFlag = "id" | "inactive" | "active" | "password";

interface Flags {
  remote?: boolean;
  "persist-to"?: string;
  "via-wrangler"?: boolean;
  json?: boolean;
  id?: string;
  inactive?: boolean;
  active?: boolean;
  password?: boolean;
}

interface Context {
  flags: Flags;
  /** The database, opened on first use (so a password is asked for before wrangler starts). */
  db(): Promise<Db>;
}

// ---------------------------------------------------------------------------------------
// Arguments

// Django's username validator (UnicodeUsernameValidator) and length.
const USERNAME = /^[\p{L}\p{N}_.@+-]{1,150}$/u;

function username(value: string): string {
  if (!USERNAME.test(value)) {
    throw new UsageError(`invalid username ${JSON.stringify(value)}: up to 150 letters, digits and @ . + - _`);
  }
  return value;
}

function orgName(value: string): string {
  // It becomes a path segment (/api/membership_status/<org>/) and a token claim.
  if (value === "" || value.trim() !== value || value.length > 255 || /[\p{Cc}/]/u.test(value)) {
    throw new UsageError(
      `invalid organization name ${JSON.stringify(value)}: 1 to 255 characters, no surrounding spaces, no control characters, no "/"`,
    );
  }
  return value;
}

function userId(value: string): number {
  const id = Number(value);
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(id)) {
    throw new UsageError(`--id must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return id;
}

// ---------------------------------------------------------------------------------------
// Output

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A list as aligned columns for people, or with --json as an array of objects. */
function printList<T>(ctx: Context, rows: T[], columns: [header: string, cell: (row: T) => string][]) {
  if (ctx.flags.json) return out(JSON.stringify(rows, null, 2));
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => cell(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  for (const line of cells) out(line.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

/** What a change did: a sentence, or with --json the affected row. */
function printDone(ctx: Context, row: Record<string, unknown>, sentence: string) {
  out(ctx.flags.json ? JSON.stringify(row) : sentence);
}

const yesNo = (flag: boolean) => (flag ? "yes" : "no");

// ---------------------------------------------------------------------------------------
// Lookups shared by the membership commands

interface Target {
  user_id: number | null;
  org_id: number | null;
  membership_id: number | null;
}

/** Who and what a (username, org) pair names; throws for an unknown user or organization. */
async function locate(db: Db, user: string, org: string): Promise<Target & { user_id: number; org_id: number }> {
  const [target] = await db.query<Target>(
    `SELECT (SELECT id FROM users_user WHERE username = ?1) AS user_id,
            (SELECT id FROM users_orgaccount WHERE name = ?2) AS org_id,
            (SELECT m.id FROM users_membership AS m
               JOIN users_user AS u ON u.id = m.user_id
               JOIN users_orgaccount AS o ON o.id = m.org_id
              WHERE u.username = ?1 AND o.name = ?2) AS membership_id`,
    [user, org],
  );
  if (target?.user_id == null) throw new AdminError(`unknown user: ${user}`);
  if (target.org_id == null) throw new AdminError(`unknown organization: ${org}`);
  return target as Target & { user_id: number; org_id: number };
}

const MEMBERSHIP_WHERE = `user_id = (SELECT id FROM users_user WHERE username = ?1)
  AND org_id = (SELECT id FROM users_orgaccount WHERE name = ?2)`;

// ---------------------------------------------------------------------------------------
// Commands

async function orgAdd(ctx: Context, [name]: string[]) {
  const db = await ctx.db();
  const [row] = await db.query<{ id: number; name: string }>(
    "INSERT INTO users_orgaccount (name) VALUES (?1) ON CONFLICT DO NOTHING RETURNING id, name",
    [orgName(name!)],
  );
  if (row === undefined) throw new AdminError(`organization already exists: ${name}`);
  printDone(ctx, row, `Added organization ${row.name} (id ${row.id})`);
}

async function orgList(ctx: Context) {
  const rows = await (await ctx.db()).query<{ id: number; name: string; members: number; active_members: number }>(
    `SELECT o.id, o.name, COUNT(m.id) AS members, COALESCE(SUM(m.active), 0) AS active_members
       FROM users_orgaccount AS o LEFT JOIN users_membership AS m ON m.org_id = o.id
      GROUP BY o.id ORDER BY o.name`,
  );
  printList(ctx, rows, [
    ["ID", (r) => String(r.id)],
    ["NAME", (r) => r.name],
    ["MEMBERS", (r) => String(r.members)],
    ["ACTIVE", (r) => String(r.active_members)],
  ]);
}

type Hasher = (password: string) => Promise<string>;

/** src/passwords, loaded only by the commands that set a password. */
async function loadHasher(): Promise<Hasher> {
  try {
    const { hashPassword } = await import("../src/passwords/index");
    return hashPassword;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && String(error).includes("passwords")) {
      throw new AdminError("setting passwords needs src/passwords/index.ts, which is not there");
    }
    throw error;
  }
}

async function newPasswordHash(hasher: Hasher): Promise<string> {
  try {
    return await hasher(await readNewPassword());
  } catch (error) {
    // TypeError: hashPassword refuses what Django would (a string that is not well-formed Unicode).
    if (error instanceof PasswordInputError || error instanceof TypeError) throw new AdminError(error.message);
    throw error;
  }
}

interface UserRow {
  id: number;
  username: string;
  is_active: number;
  has_password: number;
  date_joined: string;
}

// Django's unusable passwords start with "!"; an empty or NULL one cannot log in either.
const USER_COLUMNS = `id, username, is_active,
  (password IS NOT NULL AND password <> '' AND substr(password, 1, 1) <> '!') AS has_password, date_joined`;

const userJson = (row: UserRow) => ({
  id: row.id,
  username: row.username,
  is_active: row.is_active === 1,
  has_password: row.has_password === 1,
  date_joined: row.date_joined,
});

async function userAdd(ctx: Context, [name]: string[]) {
  const user = username(name!);
  const id = ctx.flags.id === undefined ? null : userId(ctx.flags.id);
  const hasher = ctx.flags.password ? await loadHasher() : undefined;
  const db = await ctx.db();
  const taken = async () => {
    const [clash] = await db.query<{ id: number; username: string }>(
      "SELECT id, username FROM users_user WHERE username = ?1 OR id = ?2 ORDER BY username = ?1 DESC",
      [user, id],
    );
    if (clash?.username === user) throw new AdminError(`user already exists: ${user}`);
    if (clash !== undefined) throw new AdminError(`user id ${clash.id} is already taken by ${clash.username}`);
  };
  await taken(); // before asking for a password that would be thrown away
  const hash = hasher === undefined ? null : await newPasswordHash(hasher);
  const [row] = await db.query<UserRow>(
    `INSERT INTO users_user (id, username, password, is_active) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT DO NOTHING RETURNING ${USER_COLUMNS}`,
    [id, user, hash, ctx.flags.inactive ? 0 : 1],
  );
  if (row === undefined) {
    await taken();
    throw new AdminError(`could not add user ${user}`);
  }
  const state = `${row.is_active ? "active" : "inactive"}, ${row.has_password ? "with a password" : "no password"}`;
  printDone(ctx, userJson(row), `Added user ${row.username} (id ${row.id}, ${state})`);
}

async function userSetPassword(ctx: Context, [name]: string[]) {
  const user = username(name!);
  const hasher = await loadHasher();
  const db = await ctx.db();
  const known = async () => (await db.query("SELECT id FROM users_user WHERE username = ?1", [user])).length > 0;
  if (!(await known())) throw new AdminError(`unknown user: ${user}`);
  const hash = await newPasswordHash(hasher);
  const [row] = await db.query<UserRow>(`UPDATE users_user SET password = ?2 WHERE username = ?1 RETURNING ${USER_COLUMNS}`, [
    user,
    hash,
  ]);
  if (row === undefined) throw new AdminError(`unknown user: ${user}`);
  printDone(ctx, userJson(row), `Set the password of ${row.username}`);
}

async function userList(ctx: Context) {
  const rows = await (await ctx.db()).query<UserRow>(`SELECT ${USER_COLUMNS} FROM users_user ORDER BY id`);
  printList(ctx, rows.map(userJson), [
    ["ID", (r) => String(r.id)],
    ["USERNAME", (r) => r.username],
    ["ACTIVE", (r) => yesNo(r.is_active)],
    ["PASSWORD", (r) => yesNo(r.has_password)],
    ["JOINED", (r) => r.date_joined],
  ]);
}

function userSetActive(active: boolean) {
  return async (ctx: Context, [name]: string[]) => {
    const [row] = await (await ctx.db()).query<UserRow>(
      `UPDATE users_user SET is_active = ?2 WHERE username = ?1 RETURNING ${USER_COLUMNS}`,
      [username(name!), active ? 1 : 0],
    );
    if (row === undefined) throw new AdminError(`unknown user: ${name}`);
    printDone(ctx, userJson(row), `User ${row.username} is now ${active ? "active" : "inactive"}`);
  };
}

interface MemberRow {
  org: string;
  username: string;
  user_id: number;
  active: number;
  user_active: number;
}

const MEMBER_SELECT = `SELECT o.name AS org, u.username, u.id AS user_id, m.active, u.is_active AS user_active
  FROM users_membership AS m
  JOIN users_user AS u ON u.id = m.user_id
  JOIN users_orgaccount AS o ON o.id = m.org_id`;

const memberJson = (row: MemberRow) => ({
  org: row.org,
  username: row.username,
  user_id: row.user_id,
  active: row.active === 1,
  user_active: row.user_active === 1,
});

async function memberAdd(ctx: Context, [name, org]: string[]) {
  const [user, organization] = [username(name!), orgName(org!)];
  const db = await ctx.db();
  const active = ctx.flags.active ? 1 : 0;
  // WHERE, not JOIN ... ON: SQLite needs it to tell the upsert clause from a join constraint.
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO users_membership (user_id, org_id, active)
     SELECT u.id, o.id, ?3 FROM users_user AS u, users_orgaccount AS o WHERE u.username = ?1 AND o.name = ?2
     ON CONFLICT DO NOTHING RETURNING id`,
    [user, organization, active],
  );
  if (row === undefined) {
    const target = await locate(db, user, organization);
    if (target.membership_id !== null) throw new AdminError(`${user} is already a member of ${organization}`);
    throw new AdminError(`could not add ${user} to ${organization}`);
  }
  const json = { org: organization, username: user, active: active === 1 };
  printDone(ctx, json, `Added ${user} to ${organization} as an ${active ? "active" : "inactive"} member`);
}

/** Change or delete one membership; names what is missing when it does not exist. */
async function changeMembership(db: Db, user: string, org: string, sql: string, params: Value[]) {
  const rows = await db.query(sql, [user, org, ...params]);
  if (rows.length === 0) {
    await locate(db, user, org);
    throw new AdminError(`${user} is not a member of ${org}`);
  }
}

function memberSetActive(active: boolean) {
  return async (ctx: Context, [name, org]: string[]) => {
    const [user, organization] = [username(name!), orgName(org!)];
    const sql = `UPDATE users_membership SET active = ?3 WHERE ${MEMBERSHIP_WHERE} RETURNING id`;
    await changeMembership(await ctx.db(), user, organization, sql, [active ? 1 : 0]);
    const json = { org: organization, username: user, active };
    printDone(ctx, json, `${user} is now an ${active ? "active" : "inactive"} member of ${organization}`);
  };
}

async function memberRemove(ctx: Context, [name, org]: string[]) {
  const [user, organization] = [username(name!), orgName(org!)];
  await changeMembership(await ctx.db(), user, organization, `DELETE FROM users_membership WHERE ${MEMBERSHIP_WHERE} RETURNING id`, []);
  printDone(ctx, { org: organization, username: user, removed: true }, `Removed ${user} from ${organization}`);
}

async function memberList(ctx: Context, [org]: string[]) {
  const organization = org === undefined ? null : orgName(org);
  const db = await ctx.db();
  const rows = await db.query<MemberRow>(`${MEMBER_SELECT} WHERE ?1 IS NULL OR o.name = ?1 ORDER BY o.name, u.username`, [
    organization,
  ]);
  if (rows.length === 0 && organization !== null) {
    const known = await db.query("SELECT id FROM users_orgaccount WHERE name = ?1", [organization]);
    if (known.length === 0) throw new AdminError(`unknown organization: ${organization}`);
  }
  printList(ctx, rows.map(memberJson), [
    ["ORG", (r) => r.org],
    ["USERNAME", (r) => r.username],
    ["USER_ID", (r) => String(r.user_id)],
    ["ACTIVE", (r) => yesNo(r.active)],
    ["USER_ACTIVE", (r) => yesNo(r.user_active)],
  ]);
}

/**
 * The Worker's configuration as `wrangler dev` would assemble it: wrangler.toml's [vars],
 * then .dev.vars, then this process's environment for any of those names or the secret's.
 * For --remote, .dev.vars (the local secret) does not count: the deployed Worker only
 * accepts its own secret.
 */
async function workerConfig(remote: boolean) {
  const { loadConfig, ConfigError } = await import("../src/config");
  const vars: Record<string, string> = {};
  const files = [loadWrangler().unstable_readConfig({ config: CONFIG_PATH }).vars, remote ? {} : readDevVars()];
  for (const source of files) {
    for (const [name, value] of Object.entries(source)) if (typeof value === "string") vars[name] = value;
  }
  for (const name of [...Object.keys(vars), "JWT_SECRET_KEY"]) {
    const value = process.env[name];
    if (value !== undefined) vars[name] = value;
  }
  if (!vars.JWT_SECRET_KEY) {
    throw new AdminError(
      remote
        ? "--remote token mint needs the deployed Worker's secret in the JWT_SECRET_KEY environment variable"
        : "no JWT_SECRET_KEY: set it in the environment, or run `npm start` once to create .dev.vars",
    );
  }
  try {
    return await loadConfig(vars as unknown as Parameters<typeof loadConfig>[0]);
  } catch (error) {
    if (error instanceof ConfigError) throw new AdminError(error.message);
    throw error;
  }
}

interface StandingRow {
  user_id: number | null;
  user_name: string | null;
  org_name: string;
  user_active: number | null;
  member_active: number | null;
}

async function tokenMint(ctx: Context, [name, org]: string[]) {
  const [user, organization] = [username(name!), orgName(org!)];
  const config = await workerConfig(ctx.flags.remote === true);
  const [{ standingFromRow }, { issueLoginPair, pairBody }] = await Promise.all([
    import("../src/storage/members"),
    import("../src/tokens/issue"),
  ]);
  // The API's standing query, by username instead of the token's user id.
  const [row] = await (await ctx.db()).query<StandingRow>(
    `SELECT u.id AS user_id, u.username AS user_name, o.name AS org_name,
            u.is_active AS user_active, m.active AS member_active
       FROM users_orgaccount AS o
       LEFT JOIN users_user AS u ON u.username = ?1
       LEFT JOIN users_membership AS m ON m.org_id = o.id AND m.user_id = u.id
      WHERE o.name = ?2`,
    [user, organization],
  );
  if (row?.user_id === null) throw new AdminError(`unknown user: ${user}`);
  const standing = standingFromRow(row ?? null);
  switch (standing.kind) {
    case "no_organization":
      throw new AdminError(`${organization} is NOT a valid organization name`);
    case "not_member":
      throw new AdminError(`${user} is NOT a member of ${organization}`);
    case "user_inactive":
      throw new AdminError(`user ${user} is inactive`);
    case "inactive_member":
      throw new AdminError(`${user} is NOT an active Member of ${organization}`);
    case "active_member":
      break;
  }
  const subject = { userId: row!.user_id!, userName: row!.user_name!, orgName: row!.org_name };
  const pair = await issueLoginPair(config, subject, Date.now());
  out(JSON.stringify(pairBody(pair, config)));
}

// ---------------------------------------------------------------------------------------
// The command table

interface Command {
  words: [string, string];
  /** Positional arguments; a trailing "?" marks an optional one. */
  args: string[];
  flags: CommandFlag[];
  summary: string;
  run(ctx: Context, args: string[]): Promise<void>;
}

const COMMANDS: Command[] = [
  { words: ["org", "add"], args: ["name"], flags: [], summary: "add an organization", run: orgAdd },
  { words: ["org", "list"], args: [], flags: [], summary: "list organizations with member counts", run: orgList },
  {
    words: ["user", "add"],
    args: ["username"],
    flags: ["id", "inactive", "password"],
    summary: "add a user (--id N: the Django user id; --password: ask for one)",
    run: userAdd,
  },
  { words: ["user", "set-password"], args: ["username"], flags: [], summary: "set a user's password", run: userSetPassword },
  { words: ["user", "list"], args: [], flags: [], summary: "list users", run: userList },
  { words: ["user", "activate"], args: ["username"], flags: [], summary: "enable a user account", run: userSetActive(true) },
  { words: ["user", "deactivate"], args: ["username"], flags: [], summary: "disable a user account", run: userSetActive(false) },
  {
    words: ["member", "add"],
    args: ["username", "org"],
    flags: ["active"],
    summary: "make a user a member (inactive unless --active)",
    run: memberAdd,
  },
  { words: ["member", "activate"], args: ["username", "org"], flags: [], summary: "activate a membership", run: memberSetActive(true) },
  { words: ["member", "deactivate"], args: ["username", "org"], flags: [], summary: "deactivate a membership", run: memberSetActive(false) },
  { words: ["member", "remove"], args: ["username", "org"], flags: [], summary: "delete a membership", run: memberRemove },
  { words: ["member", "list"], args: ["org?"], flags: [], summary: "list memberships, of one organization or all", run: memberList },
  {
    words: ["token", "mint"],
    args: ["username", "org"],
    flags: [],
    summary: "print a token pair for an active member, as the API's login answers",
    run: tokenMint,
  },
];

function synopsis(command: Command): string {
  const args = command.args.map((arg) => (arg.endsWith("?") ? `[<${arg.slice(0, -1)}>]` : `<${arg}>`));
  const flags = command.flags.map((flag) => (flag === "id" ? "[--id N]" : `[--${flag}]`));
  return [...command.words, ...args, ...flags].join(" ");
}

function help(group?: string): string {
  const commands = COMMANDS.filter((command) => group === undefined || command.words[0] === group);
  const width = Math.max(...commands.map((command) => synopsis(command).length));
  return `Usage: npm run admin -- <command> [options]

Commands:
${commands.map((command) => `  ${synopsis(command).padEnd(width)}  ${command.summary}`).join("\n")}

Options:
  --remote          the deployed database (wrangler d1 execute DB --remote)
  --persist-to DIR  the local state directory, as for wrangler (default: .wrangler/state,
                    which \`npm start\` uses too)
  --json            machine-readable output
  --via-wrangler    run SQL through \`wrangler d1 execute\` on the local database too
                    (the code path of --remote; slower)
  -h, --help        this help

Passwords are never taken from the command line: they are asked for at a terminal, or read
from stdin when it is not one (printf '%s' "$PW" | npm run admin -- user set-password alice).
token mint signs with JWT_SECRET_KEY from the environment or .dev.vars, and takes the token
lifetimes from the environment, .dev.vars or wrangler.toml [vars], as the Worker does.
`;
}

// ---------------------------------------------------------------------------------------
// Main

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const flags: Flags = parsed.values;
  const positionals = parsed.positionals;
  if (parsed.values.help) {
    out(help(COMMANDS.some((command) => command.words[0] === positionals[0]) ? positionals[0] : undefined));
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("no command given");
  const command = COMMANDS.find((c) => c.words[0] === positionals[0] && c.words[1] === positionals[1]);
  if (command === undefined) {
    const known = COMMANDS.some((c) => c.words[0] === positionals[0]);
    throw new UsageError(known ? `unknown ${positionals[0]} command: ${positionals[1] ?? "(none)"}` : `unknown command: ${positionals[0]}`);
  }
  const args = positionals.slice(2);
  const required = command.args.filter((arg) => !arg.endsWith("?")).length;
  if (args.length < required || args.length > command.args.length) {
    throw new UsageError(`usage: ${synopsis(command)}`);
  }
  for (const flag of ["id", "inactive", "active", "password"] as const) {
    if (flags[flag] !== undefined && !command.flags.includes(flag)) {
      throw new UsageError(`--${flag} does not apply to ${command.words.join(" ")}`);
    }
  }
  if (flags.remote && (flags["persist-to"] !== undefined || flags["via-wrangler"])) {
    throw new UsageError("--remote goes with neither --persist-to nor --via-wrangler");
  }

  let opened: Promise<Db> | undefined;
  const ctx: Context = {
    flags,
    db: () =>
      (opened ??= (async () => {
        const target = resolveTarget(CONFIG_PATH, "DB", flags["persist-to"]);
        return flags.remote || flags["via-wrangler"] ? openViaWrangler(target, flags.remote === true) : openLocal(target);
      })()),
  };
  try {
    await command.run(ctx, args);
  } catch (error) {
    if (flags.remote && error instanceof DbError && /no such table/.test(error.message)) {
      throw new AdminError(`${error.message}\n(apply the migrations first: npx wrangler d1 migrations apply DB --remote)`);
    }
    throw error;
  } finally {
    if (opened !== undefined) await (await opened.catch(() => undefined))?.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`admin: ${error.message}\nRun \`npm run admin -- --help\` for the commands.\n`);
      process.exitCode = 2;
    } else if (error instanceof AdminError || error instanceof DbError) {
      process.stderr.write(`admin: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`admin: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
