/**
 * A password login's authentication, for the org-token login and simplejwt's obtain view
 * alike: the attempt counted by the throttle before any password is derived (./throttle.ts),
 * then Django's ModelBackend (an unknown user costs a hash too; a disabled one fails alike),
 * and the hash upgraded after the response when the scheme is old.
 */
import type { Context } from "hono";
import { fail, type Problem } from "../errors";
import { storedScheme } from "../passwords";
import type { Credentials } from "../storage/members";
import type { AppEnv } from "../types";
import { quietly } from "./session";
import { type Admission, admit, refused, throttleKeys } from "./throttle";

/**
 * The account and its admission (to settle as a success), or `refusal` (the attempt stays
 * counted); 429 when throttled. `checkedBy: "origin"`: a user whose stored hash the edge does
 * not verify (argon2, bcrypt…), whatever the account's state: the origin's view decides
 * (src/login/origin-login.ts), the attempt counted.
 */
export async function authenticate(
  c: Context<AppEnv>,
  username: string,
  password: string,
  nowMs: number,
  refusal: Problem,
): Promise<{ checkedBy: "edge" | "origin"; account: Credentials; admission: Admission }> {
  const { config, stores, passwords } = c.var;
  // Counted before the password is derived: of a burst, at most the limit is checked.
  const keys = throttleKeys(config, username, c.req.header("CF-Connecting-IP"));
  const admission = await admit(config, stores.attempts, keys, nowMs);
  if (!admission.allowed) {
    c.var.background(quietly("attempts_refund", refused(stores.attempts, admission)));
    throw fail({ kind: "too_many_attempts", retryAfter: admission.retryAfter });
  }

  // As Django's ModelBackend: an unknown user costs a hash too, and a disabled one fails alike.
  const account = await stores.members.credentials(username);
  if (account !== undefined && storedScheme(account.passwordHash) === "origin") {
    return { checkedBy: "origin", account, admission };
  }
  const verdict = account
    ? await passwords.verify(password, account.passwordHash)
    : await passwords.burn(password).then(() => ({ ok: false, mustUpgrade: undefined }));
  if (account === undefined || !verdict.ok || !account.userActive) {
    throw fail(refusal); // the attempt stays counted
  }
  if (verdict.mustUpgrade && account.passwordHash !== null) {
    // Rehash under the current scheme after the response; a failure costs nothing but the upgrade.
    const oldHash = account.passwordHash;
    const upgrade = passwords
      .hash(password)
      .then((newHash) => stores.members.setPasswordHash(account.userId, oldHash, newHash));
    c.var.background(upgrade.catch(() => undefined));
  }
  return { checkedBy: "edge", account, admission };
}
