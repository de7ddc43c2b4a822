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
import { burnPasswordTime } from "./burn";
import { constantTimeEqual } from "./constant-time";
import { ITERATIONS, encodeDjangoPbkdf2, mustUpdate, parseDjangoPbkdf2 } from "./django-format";
import { utf8 } from "./encoding";
import { hashPassword } from "./hash";
import { pbkdf2Sha256 } from "./pbkdf2";
import { pbkdf2Sha256Portable } from "./pbkdf2-portable";

export interface PasswordCheck {
  ok: boolean;
  /** On success, when the stored hash is weaker than the current scheme: store this instead. */
  upgradedHash?: string;
}

export async function verifyPassword(password: string, encoded: string | null): Promise<PasswordCheck> {
  const bytes = typeof password === "string" ? utf8(password) : undefined;
  // Django's unusable passwords ("!" + random) and every other algorithm fail to parse.
  const parsed = typeof encoded === "string" ? parseDjangoPbkdf2(encoded) : undefined;
  if (bytes === undefined || parsed === undefined) {
    await burnPasswordTime(password);
    return { ok: false };
  }

  const derived = await pbkdf2Sha256(bytes, parsed.saltBytes, parsed.iterations);
  if (!constantTimeEqual(encodeDjangoPbkdf2(parsed.iterations, parsed.salt, derived), encoded!)) {
    // harden_runtime: make up the difference to the current count in portable iterations, what
    // a current-scheme check spends beyond the native prefix (exact above 100000 iterations).
    if (parsed.iterations < ITERATIONS) pbkdf2Sha256Portable(bytes, parsed.saltBytes, ITERATIONS - parsed.iterations);
    return { ok: false };
  }
  return mustUpdate(parsed) ? { ok: true, upgradedHash: await hashPassword(password) } : { ok: true };
}
