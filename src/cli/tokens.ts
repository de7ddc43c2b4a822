/** `token mint`: a login pair for an active member, signed as the Worker signs it. */
import { dirname, join } from "node:path";
import { AdminError, type Command, type Context, orgName, out, username } from "./context";
import { loadWrangler, readDevVars } from "./lib/project";

/**
 * The Worker's configuration as `wrangler dev` would assemble it: the configuration's
 * [vars], then the .dev.vars beside it, then the environment for any of those names or the
 * secret's. For --remote, .dev.vars (the local secret) does not count: the deployed Worker
 * only accepts its own secret.
 */
async function workerConfig(ctx: Context) {
  const remote = ctx.flags.remote === true;
  const { configPath } = ctx.target();
  const { loadConfig, ConfigError } = await import("../config");
  const { configInputFromVars } = await import("../env-names");
  const vars: Record<string, string> = {};
  const devVars = remote ? {} : readDevVars(join(dirname(configPath), ".dev.vars"));
  for (const source of [loadWrangler().unstable_readConfig({ config: configPath }).vars, devVars]) {
    for (const [name, value] of Object.entries(source)) if (typeof value === "string") vars[name] = value;
  }
  for (const name of [...Object.keys(vars), "JWT_SECRET_KEY"]) {
    const value = ctx.io.env[name];
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
    return await loadConfig(configInputFromVars(vars));
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
  const config = await workerConfig(ctx);
  const [{ standingFromRow }, { issueLoginPair, pairBody }] = await Promise.all([
    import("../storage/d1/members"),
    import("../tokens/issue"),
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
  out(ctx, JSON.stringify(pairBody(pair, config)));
}

export const TOKEN_COMMANDS: Command[] = [
  {
    words: ["token", "mint"],
    args: ["username", "org"],
    flags: [],
    summary: "print a token pair for an active member, as the API's login answers",
    run: tokenMint,
  },
];
