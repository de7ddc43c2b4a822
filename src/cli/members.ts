/** `member add|activate|deactivate|remove|list`: memberships of users in organizations. */
import {
  AdminError,
  type Command,
  type Context,
  type Db,
  locate,
  orgName,
  printDone,
  printList,
  username,
  type Value,
  yesNo,
} from "./context";

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

const MEMBERSHIP_WHERE = `user_id = (SELECT id FROM users_user WHERE username = ?1)
  AND org_id = (SELECT id FROM users_orgaccount WHERE name = ?2)`;

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
  const sql = `DELETE FROM users_membership WHERE ${MEMBERSHIP_WHERE} RETURNING id`;
  await changeMembership(await ctx.db(), user, organization, sql, []);
  printDone(ctx, { org: organization, username: user, removed: true }, `Removed ${user} from ${organization}`);
}

async function memberList(ctx: Context, [org]: string[]) {
  const organization = org === undefined ? null : orgName(org);
  const db = await ctx.db();
  const rows = await db.query<MemberRow>(
    `${MEMBER_SELECT} WHERE ?1 IS NULL OR o.name = ?1 ORDER BY o.name, u.username`,
    [organization],
  );
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

export const MEMBER_COMMANDS: Command[] = [
  {
    words: ["member", "add"],
    args: ["username", "org"],
    flags: ["active"],
    summary: "make a user a member (inactive unless --active)",
    run: memberAdd,
  },
  {
    words: ["member", "activate"],
    args: ["username", "org"],
    flags: [],
    summary: "activate a membership",
    run: memberSetActive(true),
  },
  {
    words: ["member", "deactivate"],
    args: ["username", "org"],
    flags: [],
    summary: "deactivate a membership",
    run: memberSetActive(false),
  },
  {
    words: ["member", "remove"],
    args: ["username", "org"],
    flags: [],
    summary: "delete a membership",
    run: memberRemove,
  },
  {
    words: ["member", "list"],
    args: ["org?"],
    flags: [],
    summary: "list memberships, of one organization or all",
    run: memberList,
  },
];
