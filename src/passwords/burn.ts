/**
 * The cost of one verification at the current scheme, with nothing to verify: for a login
 * naming no user, so it takes as long as a wrong password (Django's ModelBackend runs
 * make_password for the same reason). verifyPassword already does this for a null, unusable or
 * malformed hash; call this where no verification happens at all. `iterations`: the scheme's
 * count (a test's password work passes a lower one, src/passwords/work.ts).
 */
import { ITERATIONS } from "./django-format";
import { pbkdf2Sha256 } from "./pbkdf2";
import { newSalt } from "./salt";

export async function burnPasswordTime(password: string, iterations: number = ITERATIONS): Promise<void> {
  const bytes = new TextEncoder().encode(typeof password === "string" ? password : "");
  await pbkdf2Sha256(bytes, new TextEncoder().encode(newSalt()), iterations);
}
