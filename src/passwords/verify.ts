/**
 * Password checks against hashes stored by Django (or by hashPassword), as Django's
 * check_password: any pbkdf2_sha256 iteration count, constant-time comparison of the whole
 * encoded string, and an upgraded hash when the stored one is weaker than the current scheme.
 *
 * A check costs at least about one current-scheme derivation whatever the outcome: a null,
 * unusable or malformed hash burns that time, and a wrong password against a weaker hash pays
 * the difference (Django's harden_runtime), so timing says little about which accounts exist
 * or how their hashes are stored. Pass a missing user's hash as null.
 */

import { constantTimeEqual } from "../crypto/constant-time";
import { burnPasswordTime } from "./burn";
import { encodeDjangoPbkdf2, ITERATIONS, mustUpdate, parseDjangoPbkdf2 } from "./django-format";
import { utf8 } from "./encoding";
import { pbkdf2Sha256, pbkdf2Sha256Padding } from "./pbkdf2";

export interface PasswordCheck {
  ok: boolean;
  /** On success, when the stored hash is weaker than the current scheme: store hashPassword's instead
   * (off the response path: that is another full derivation). */
  mustUpgrade?: true;
}

/** `iterations`: the current scheme's count (a test's password work passes a lower one, src/passwords/work.ts). */
export async function verifyPassword(
  password: string,
  encoded: string | null,
  iterations: number = ITERATIONS,
): Promise<PasswordCheck> {
  const bytes = typeof password === "string" ? utf8(password) : undefined;
  // Django's unusable passwords ("!" + random) and every other algorithm fail to parse.
  const parsed = typeof encoded === "string" ? parseDjangoPbkdf2(encoded) : undefined;
  if (bytes === undefined || parsed === undefined) {
    await burnPasswordTime(password, iterations);
    return { ok: false };
  }

  const derived = await pbkdf2Sha256(bytes, parsed.saltBytes, parsed.iterations);
  if (!constantTimeEqual(encodeDjangoPbkdf2(parsed.iterations, parsed.salt, derived), encoded!)) {
    // Django's harden_runtime: a weaker hash costs as much as a current one when the password is wrong.
    if (parsed.iterations < iterations)
      await pbkdf2Sha256Padding(bytes, parsed.saltBytes, parsed.iterations, iterations);
    return { ok: false };
  }
  return mustUpdate(parsed, iterations) ? { ok: true, mustUpgrade: true } : { ok: true };
}
