/** `org add|list`: organizations. */
import { AdminError, type Command, type Context, orgName, printDone, printList } from "./context";

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

export const ORG_COMMANDS: Command[] = [
  { words: ["org", "add"], args: ["name"], flags: [], summary: "add an organization", run: orgAdd },
  { words: ["org", "list"], args: [], flags: [], summary: "list organizations with member counts", run: orgList },
];
