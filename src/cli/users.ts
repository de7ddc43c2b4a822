/** `user add|set-password|list|activate|deactivate`: user accounts, as Django's users_user. */

import { AdminError, type Command, type Context, printDone, printList, userId, username, yesNo } from "./context";
import { PasswordInputError } from "./lib/password";

type Hasher = (password: string) => Promise<string>;

/** src/passwords, loaded only by the commands that set a password. */
async function loadHasher(): Promise<Hasher> {
  try {
    const { hashPassword } = await import("../passwords/index");
    return hashPassword;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && String(error).includes("passwords")) {
      throw new AdminError("setting passwords needs src/passwords/index.ts, which is not there");
    }
    throw error;
  }
}

async function newPasswordHash(ctx: Context, hasher: Hasher): Promise<string> {
  try {
    return await hasher(await ctx.io.readPassword());
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
  const hash = hasher === undefined ? null : await newPasswordHash(ctx, hasher);
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
  const hash = await newPasswordHash(ctx, hasher);
  const [row] = await db.query<UserRow>(
    `UPDATE users_user SET password = ?2 WHERE username = ?1 RETURNING ${USER_COLUMNS}`,
    [user, hash],
  );
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

export const USER_COMMANDS: Command[] = [
  {
    words: ["user", "add"],
    args: ["username"],
    flags: ["id", "inactive", "password"],
    summary: "add a user (--id N: the Django user id; --password: ask for one)",
    run: userAdd,
  },
  {
    words: ["user", "set-password"],
    args: ["username"],
    flags: [],
    summary: "set a user's password",
    run: userSetPassword,
  },
  { words: ["user", "list"], args: [], flags: [], summary: "list users", run: userList },
  {
    words: ["user", "activate"],
    args: ["username"],
    flags: [],
    summary: "enable a user account",
    run: userSetActive(true),
  },
  {
    words: ["user", "deactivate"],
    args: ["username"],
    flags: [],
    summary: "disable a user account",
    run: userSetActive(false),
  },
];
