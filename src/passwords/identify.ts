/**
 * Which of Django's hashers wrote a stored password (django/contrib/auth/hashers.py
 * identify_hasher): the algorithm is the text before the first `$`, but for the unsalted
 * legacy formats; `!…` (or no hash) is Django's unusable password, which never verifies.
 * A login's password is checked here only for `pbkdf2_sha256`; every other algorithm
 * (argon2, bcrypt_sha256, bcrypt, scrypt, pbkdf2_sha1, md5…) is the origin's to check.
 */
import { ALGORITHM } from "./django-format";

export type StoredScheme = "pbkdf2_sha256" | "unusable" | "origin";

/** Django's UNUSABLE_PASSWORD_PREFIX. */
const UNUSABLE = "!";

export function storedScheme(encoded: string | null): StoredScheme {
  // Django's is_password_usable: only `!…` (and None) are unusable; "" goes to the hashers (and fails there).
  if (encoded === null || encoded.startsWith(UNUSABLE)) return "unusable";
  const algorithm = encoded.includes("$") ? encoded.slice(0, encoded.indexOf("$")) : undefined;
  return algorithm === ALGORITHM ? "pbkdf2_sha256" : "origin";
}
