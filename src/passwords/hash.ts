/** New password hashes: Django 4.2's own make_password output, computed within the runtime's limits. */
import { encodeDjangoPbkdf2, ITERATIONS } from "./django-format";
import { utf8 } from "./encoding";
import { pbkdf2Sha256 } from "./pbkdf2";
import { newSalt } from "./salt";

/**
 * `pbkdf2_sha256$600000$<22-character salt>$<base64 hash>` (at another count for a test's
 * password work, src/passwords/work.ts). Throws a TypeError where Django would raise.
 */
export async function hashPassword(password: string, iterations: number = ITERATIONS): Promise<string> {
  const bytes = typeof password === "string" ? utf8(password) : undefined;
  if (bytes === undefined) throw new TypeError("A password must be a string of well-formed Unicode");
  const salt = newSalt();
  return encodeDjangoPbkdf2(iterations, salt, await pbkdf2Sha256(bytes, utf8(salt)!, iterations));
}
