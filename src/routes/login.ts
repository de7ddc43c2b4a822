/** POST /api/org_token/: a token pair for a username, password and organization. */
import type { Context } from "hono";
import type { AppEnv } from "../types";
import { fail } from "../errors";
import { readFields } from "../http/body";
import { burnPasswordTime, hashPassword, verifyPassword } from "../passwords";
import type { ThrottleKey } from "../storage/attempts";
import { issueLoginPair, pairBody } from "../tokens/issue";
import { opaqueId } from "../tokens/opaque-id";
import { requireMember } from "../policy/membership";

export async function login(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const { username, password, org_name: orgName } = await readFields(c.req.raw, ["username", "password", "org_name"]);
  const now = clock();

  const throttle: ThrottleKey[] = [{ key: await opaqueId(config, `user:${username}`), limit: config.loginUserFailureLimit }];
  const address = c.req.header("CF-Connecting-IP");
  if (address !== undefined) {
    throttle.push({ key: await opaqueId(config, `ip:${address}`), limit: config.loginAddressFailureLimit });
  }
  const retryAfter = await stores.attempts.retryAfter(throttle, now);
  if (retryAfter > 0) throw fail({ kind: "too_many_attempts", retryAfter });

  // As Django's ModelBackend: an unknown user costs a hash too, and a disabled one fails alike.
  const account = await stores.members.credentials(username);
  const verdict = account
    ? await verifyPassword(password, account.passwordHash)
    : await burnPasswordTime(password).then(() => ({ ok: false, mustUpgrade: undefined }));
  if (account === undefined || !verdict.ok || !account.userActive) {
    await stores.attempts.recordFailure(throttle, now);
    throw fail({ kind: "bad_credentials" });
  }
  if (verdict.mustUpgrade && account.passwordHash !== null) {
    // Rehash under the current scheme after the response; a failure costs nothing but the upgrade.
    const oldHash = account.passwordHash;
    const upgrade = hashPassword(password).then((newHash) => stores.members.setPasswordHash(account.userId, oldHash, newHash));
    c.executionCtx.waitUntil(upgrade.catch(() => undefined));
  }

  const standing = await stores.members.standing(account.userId, orgName);
  if (!requireMember(standing, account.userName, orgName).active) {
    throw fail({ kind: "member_not_active", user: account.userName, org: orgName });
  }
  const pair = await issueLoginPair(config, { userId: account.userId, userName: account.userName, orgName }, now);
  return c.json(pairBody(pair, config));
}
