/** POST /api/org_token/: a token pair for a username, password and organization. */
import type { Context } from "hono";
import { fail } from "../errors";
import { readFields } from "../http/body";
import { quietly, startSession } from "../login/session";
import { admit, refused, throttleKeys } from "../login/throttle";
import type { AppEnv } from "../types";

export async function login(c: Context<AppEnv>) {
  const { config, clock, stores, passwords } = c.var;
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
    ? await passwords.verify(password, account.passwordHash)
    : await passwords.burn(password).then(() => ({ ok: false, mustUpgrade: undefined }));
  if (account === undefined || !verdict.ok || !account.userActive) {
    throw fail({ kind: "bad_credentials" }); // the attempt stays counted
  }
  if (verdict.mustUpgrade && account.passwordHash !== null) {
    // Rehash under the current scheme after the response; a failure costs nothing but the upgrade.
    const oldHash = account.passwordHash;
    const upgrade = passwords
      .hash(password)
      .then((newHash) => stores.members.setPasswordHash(account.userId, oldHash, newHash));
    c.var.background(upgrade.catch(() => undefined));
  }
  return startSession(c, account, orgName, now, [admission]);
}
