/** POST /api/org_token/: a token pair for a username, password and organization. */
import type { Context } from "hono";
import { fail } from "../errors";
import { readFields } from "../http/body";
import { log, noteRequest } from "../log";
import { admit, refused, succeeded, throttleKeys } from "../login/throttle";
import { burnPasswordTime, hashPassword, verifyPassword } from "../passwords";
import { requireMember } from "../policy/membership";
import { issueLoginPair, pairBody } from "../tokens/issue";
import type { AppEnv } from "../types";

export async function login(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const { username, password, org_name: orgName } = await readFields(c.req.raw, ["username", "password", "org_name"]);
  const now = clock();

  // Counted before the password is derived: of a burst, at most the limit is checked.
  const keys = throttleKeys(config, username, c.req.header("CF-Connecting-IP"));
  const admission = await admit(config, stores.attempts, keys, now);
  if (!admission.allowed) {
    c.var.background(quietly("attempts_refund", refused(stores.attempts, admission)));
    throw fail({ kind: "too_many_attempts", retryAfter: admission.retryAfter });
  }

  // As Django's ModelBackend: an unknown user costs a hash too, and a disabled one fails alike.
  const account = await stores.members.credentials(username);
  const verdict = account
    ? await verifyPassword(password, account.passwordHash)
    : await burnPasswordTime(password).then(() => ({ ok: false, mustUpgrade: undefined }));
  if (account === undefined || !verdict.ok || !account.userActive) {
    throw fail({ kind: "bad_credentials" }); // the attempt stays counted
  }
  noteRequest(c, { userId: account.userId });
  c.var.background(quietly("attempts_success", succeeded(stores.attempts, admission)));
  if (verdict.mustUpgrade && account.passwordHash !== null) {
    // Rehash under the current scheme after the response; a failure costs nothing but the upgrade.
    const oldHash = account.passwordHash;
    const upgrade = hashPassword(password).then((newHash) =>
      stores.members.setPasswordHash(account.userId, oldHash, newHash),
    );
    c.var.background(upgrade.catch(() => undefined));
  }

  const standing = await stores.members.standing(account.userId, orgName);
  // The name is the client's text until the database knows it: only a real organization is logged.
  if (standing.kind !== "no_organization") noteRequest(c, { org: orgName });
  if (!requireMember(standing, account.userName, orgName).active) {
    throw fail({ kind: "member_not_active", user: account.userName, org: orgName });
  }
  const pair = await issueLoginPair(config, { userId: account.userId, userName: account.userName, orgName }, now);
  noteRequest(c, { outcome: "logged_in" });
  return c.json(pairBody(pair, config));
}

/** Giving attempts back is a courtesy: a failure costs at most one counted attempt, never a 503. */
function quietly(event: string, work: Promise<void>): Promise<void> {
  return work.catch((error: unknown) => log("error", `${event}_failed`, { error: String(error) }));
}
