/**
 * `session end-user|end-org|end-family`: end sessions, as for a compromised account or
 * organization. D1 first (the authority: sessions_revoked_at, or the family's revocation;
 * refresh and logout refuse from then on), then the KV blacklist of ended sessions (the
 * edge: membership status and requireOrgToken refuse the access tokens within KV's
 * propagation, about 90 s). Locally, the KV state `wrangler dev` uses (the same
 * --persist-to); with --remote, `wrangler kv key put --remote`. Keys, values and lifetimes
 * are the Worker's own (src/storage/kv/ended-keys.ts).
 */
import { dirname } from "node:path";
import { expirationTtl, familyKey, orgKey, userKey } from "../storage/kv/ended-keys";
import { AdminError, type Command, type Context, orgName, printDone, UsageError, username } from "./context";
import { collect } from "./lib/process";
import { loadWrangler, spawnWrangler, wranglerEnv } from "./lib/project";
import { workerSetting, workerVars } from "./lib/worker-vars";

const FAMILY = /^[0-9a-f]{32}$/;

/** The Worker's token lifetimes as `wrangler dev` would see them (vars, .dev.vars unless remote, environment). */
function lifetimes(ctx: Context): { access: number; refresh: number } {
  const vars = workerVars(ctx.target().configPath, ctx.flags.remote === true, ctx.io.env);
  const asError = (message: string) => new AdminError(message);
  return {
    access: workerSetting(vars, "accessTokenLifetime", asError),
    refresh: workerSetting(vars, "refreshTokenLifetime", asError),
  };
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

/** Write one KV entry where the Worker reads it, until `lastExpiresAt` (unix s): the local state, or the deployed namespace. */
async function kvPut(ctx: Context, key: string, value: string, lastExpiresAt: number, nowMs: number): Promise<void> {
  const target = ctx.target();
  const binding = kvBinding(ctx);
  const ttl = expirationTtl(lastExpiresAt, nowMs);
  if (ctx.io.putKv !== undefined) return ctx.io.putKv(target, binding, key, value, ttl);
  const where = ctx.flags.remote ? ["--remote"] : ["--local", "--persist-to", target.stateDir];
  const args = ["kv", "key", "put", key, value, "--binding", binding, "--config", target.configPath, "--ttl"];
  const { code, stdout, stderr } = await collect(
    spawnWrangler([...args, String(ttl), ...where], {
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

// sessions_revoked_at is unix ms, only ever raised: every token issued at or before it is refused.
async function endUser(ctx: Context, [name]: string[]) {
  const user = username(name!);
  const nowMs = Date.now();
  const { access } = lifetimes(ctx);
  const [row] = await (await ctx.db()).query<{ id: number; sessions_revoked_at: number }>(
    `UPDATE users_user SET sessions_revoked_at = max(coalesce(sessions_revoked_at, -1), ?2)
      WHERE username = ?1 RETURNING id, sessions_revoked_at`,
    [user, nowMs],
  );
  if (row === undefined) throw new AdminError(`unknown user: ${user}`);
  const lastExpiresAt = row.sessions_revoked_at / 1000 + access;
  await kvPut(ctx, userKey(row.id), String(row.sessions_revoked_at), lastExpiresAt, nowMs);
  printDone(ctx, row, `Ended every session of ${user} (id ${row.id}) issued up to ${iso(row.sessions_revoked_at)}`);
}

async function endOrg(ctx: Context, [name]: string[]) {
  const org = orgName(name!);
  const nowMs = Date.now();
  const { access } = lifetimes(ctx);
  const [row] = await (await ctx.db()).query<{ id: number; name: string; sessions_revoked_at: number }>(
    `UPDATE users_orgaccount SET sessions_revoked_at = max(coalesce(sessions_revoked_at, -1), ?2)
      WHERE name = ?1 RETURNING id, name, sessions_revoked_at`,
    [org, nowMs],
  );
  if (row === undefined) throw new AdminError(`unknown organization: ${org}`);
  const lastExpiresAt = row.sessions_revoked_at / 1000 + access;
  await kvPut(ctx, orgKey(row.name), String(row.sessions_revoked_at), lastExpiresAt, nowMs);
  printDone(ctx, row, `Ended every session in ${org} issued up to ${iso(row.sessions_revoked_at)}`);
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
  await kvPut(ctx, familyKey(family!), "1", Math.ceil(nowMs / 1000 + access), nowMs);
  printDone(ctx, { family, revoked_at: nowMs, expires_at: expiresAt }, `Ended session family ${family}`);
}

const iso = (ms: number) => new Date(ms).toISOString();

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
