/**
 * `session end-user|end-org|end-family`: end sessions, as for a compromised account or
 * organization. D1 first (the authority: sessions_revoked_at, or the family's revocation;
 * refresh and logout refuse from then on), then the KV blacklist of ended sessions (the
 * edge: membership status and requireOrgToken refuse the access tokens within KV's
 * propagation, about 90 s). Locally, the KV state `wrangler dev` uses (the same
 * --persist-to); with --remote, `wrangler kv key put --remote`. Keys and values are those
 * of src/storage/kv/ended-sessions.ts.
 */
import { dirname, join } from "node:path";
import { AdminError, type Command, type Context, orgName, printDone, UsageError, username } from "./context";
import { collect } from "./lib/process";
import { loadWrangler, readDevVars, spawnWrangler, wranglerEnv } from "./lib/project";

const FAMILY = /^[0-9a-f]{32}$/;
const MIN_TTL = 60; // KV's minimum expiration ahead, seconds

/** The Worker's token lifetimes as `wrangler dev` would see them (vars, .dev.vars unless remote, environment). */
function lifetimes(ctx: Context): { access: number; refresh: number } {
  const { configPath } = ctx.target();
  const vars: Record<string, unknown> = { ...loadWrangler().unstable_readConfig({ config: configPath }).vars };
  if (!ctx.flags.remote) Object.assign(vars, readDevVars(join(dirname(configPath), ".dev.vars")));
  const read = (name: string, fallback: number) => {
    const raw = ctx.io.env[name] ?? vars[name];
    const value = raw === undefined || raw === "" ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new AdminError(`${name} is not a number of seconds: ${raw}`);
    return value;
  };
  return { access: read("ACCESS_TOKEN_LIFETIME", 86400), refresh: read("REFRESH_TOKEN_LIFETIME", 2592000) };
}

/** The configuration's KV namespace binding: BLACKLIST, or its only one. */
function kvBinding(ctx: Context): string {
  const { configPath } = ctx.target();
  const namespaces: { binding: string }[] = loadWrangler().unstable_readConfig({ config: configPath }).kv_namespaces;
  const chosen =
    namespaces.find((n) => n.binding === "BLACKLIST") ?? (namespaces.length === 1 ? namespaces[0] : undefined);
  if (chosen === undefined) throw new AdminError(`${configPath} has no KV namespace BLACKLIST (nor a single one)`);
  return chosen.binding;
}

/** Write one KV entry where the Worker reads it: the local state, or the deployed namespace. */
async function kvPut(ctx: Context, key: string, value: string, ttl: number): Promise<void> {
  const target = ctx.target();
  const binding = kvBinding(ctx);
  const expirationTtl = Math.max(MIN_TTL, Math.ceil(ttl));
  if (ctx.io.putKv !== undefined) return ctx.io.putKv(target, binding, key, value, expirationTtl);
  const where = ctx.flags.remote ? ["--remote"] : ["--local", "--persist-to", target.stateDir];
  const args = ["kv", "key", "put", key, value, "--binding", binding, "--config", target.configPath, "--ttl"];
  const { code, stdout, stderr } = await collect(
    spawnWrangler([...args, String(expirationTtl), ...where], {
      cwd: dirname(target.configPath),
      stdio: ["ignore", "pipe", "pipe"],
      env: wranglerEnv(),
    }),
  );
  if (code !== 0) {
    throw new AdminError(
      `D1 is done, but the KV write failed (exit ${code}); run the command again: ${(stderr || stdout).trim()}`,
    );
  }
}

const nowSeconds = () => Math.ceil(Date.now() / 1000);

async function endUser(ctx: Context, [name]: string[]) {
  const user = username(name!);
  // Tokens issued in this second or before are ended (iat < revokedAt): ceil, so none slips through.
  const revokedAt = nowSeconds();
  const { access } = lifetimes(ctx);
  const [row] = await (await ctx.db()).query<{ id: number; sessions_revoked_at: number }>(
    `UPDATE users_user SET sessions_revoked_at = max(coalesce(sessions_revoked_at, 0), ?2)
      WHERE username = ?1 RETURNING id, sessions_revoked_at`,
    [user, revokedAt],
  );
  if (row === undefined) throw new AdminError(`unknown user: ${user}`);
  await kvPut(
    ctx,
    `ended:user:${row.id}`,
    String(row.sessions_revoked_at),
    row.sessions_revoked_at + access - revokedAt,
  );
  printDone(ctx, row, `Ended every session of ${user} (id ${row.id}) issued before ${iso(row.sessions_revoked_at)}`);
}

async function endOrg(ctx: Context, [name]: string[]) {
  const org = orgName(name!);
  const revokedAt = nowSeconds();
  const { access } = lifetimes(ctx);
  const [row] = await (await ctx.db()).query<{ id: number; name: string; sessions_revoked_at: number }>(
    `UPDATE users_orgaccount SET sessions_revoked_at = max(coalesce(sessions_revoked_at, 0), ?2)
      WHERE name = ?1 RETURNING id, name, sessions_revoked_at`,
    [org, revokedAt],
  );
  if (row === undefined) throw new AdminError(`unknown organization: ${org}`);
  await kvPut(
    ctx,
    `ended:org:${row.name}`,
    String(row.sessions_revoked_at),
    row.sessions_revoked_at + access - revokedAt,
  );
  printDone(ctx, row, `Ended every session in ${org} issued before ${iso(row.sessions_revoked_at)}`);
}

async function endFamily(ctx: Context, [family]: string[]) {
  if (!FAMILY.test(family!)) {
    throw new UsageError(`a family is 32 hex characters (a token's fam claim, or its jti if it has none): ${family}`);
  }
  const nowMs = Date.now();
  const { access, refresh } = lifetimes(ctx);
  // Until no token of the family can still be valid: a rotation now would last the refresh lifetime.
  const expiresAt = Math.ceil(nowMs / 1000 + refresh);
  await (await ctx.db()).query(
    `INSERT INTO token_family_revocation (family, revoked_at, expires_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    [family!, nowMs, expiresAt],
  );
  await kvPut(ctx, `ended:family:${family}`, "1", access);
  printDone(ctx, { family, revoked_at: nowMs, expires_at: expiresAt }, `Ended session family ${family}`);
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

export const SESSION_COMMANDS: Command[] = [
  {
    words: ["session", "end-user"],
    args: ["username"],
    flags: [],
    summary: "end all of a user's sessions (refresh and access tokens issued until now)",
    run: endUser,
  },
  {
    words: ["session", "end-org"],
    args: ["org"],
    flags: [],
    summary: "end every session in an organization (a compromised organization)",
    run: endOrg,
  },
  {
    words: ["session", "end-family"],
    args: ["family"],
    flags: [],
    summary: "end one session: a token family (a token's fam claim)",
    run: endFamily,
  },
];
