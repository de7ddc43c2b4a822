/** `token mint`: a login pair for an active member, signed as the Worker signs it. */
import { AdminError, type Command, type Context, orgName, out, username } from "./context";
import { workerVars } from "./lib/worker-vars";

/** The Worker's configuration as `wrangler dev` would assemble it (src/cli/lib/worker-vars.ts), its secret required. */
async function workerConfig(ctx: Context) {
  const remote = ctx.flags.remote === true;
  const { loadConfig, ConfigError } = await import("../config");
  const { configInputFromVars, SECRET_VAR } = await import("../env-names");
  const vars = workerVars(ctx.target().configPath, remote, ctx.io.env);
  if (!vars[SECRET_VAR]) {
    throw new AdminError(
      remote
        ? `--remote token mint needs the deployed Worker's secret in the ${SECRET_VAR} environment variable`
        : `no ${SECRET_VAR}: set it in the environment, or run \`npm start\` once to create .dev.vars`,
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
