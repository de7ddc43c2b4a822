/**
 * Everything a password login asks of this module, as one object at one iteration count: the
 * check against a stored hash (and whether that hash must be upgraded), an unknown user's burn,
 * and the hash an upgrade stores. The routes take it from the context (src/app.ts's Internals):
 * production's is `passwordWork`, Django 4.2's 600000 iterations; a test that is not about
 * passwords passes `djangoPasswordWork` at a low count, the same code and the same real
 * PBKDF2-SHA256 in Django's format, with its seeds hashed at that count.
 */
import { burnPasswordTime } from "./burn";
import { ITERATIONS } from "./django-format";
import { hashPassword } from "./hash";
import { type PasswordCheck, verifyPassword } from "./verify";

export interface PasswordWork {
  /** The current scheme's count: what `hash` writes, `burn` and a failed check cost, and below which `verify` asks for an upgrade. */
  readonly iterations: number;
  /** As verifyPassword: a null hash for a user without one; `mustUpgrade` when the hash is weaker than this scheme. */
  verify(password: string, encoded: string | null): Promise<PasswordCheck>;
  /** As burnPasswordTime: a login naming no user costs one derivation too. */
  burn(password: string): Promise<void>;
  /** As hashPassword: the upgrade's new hash, in Django's format at `iterations`. */
  hash(password: string): Promise<string>;
}

/** The work at `iterations` (production's is ITERATIONS, `passwordWork`). */
export function djangoPasswordWork(iterations: number): PasswordWork {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new RangeError("iterations must be an integer >= 1");
  return {
    iterations,
    verify: (password, encoded) => verifyPassword(password, encoded, iterations),
    burn: (password) => burnPasswordTime(password, iterations),
    hash: (password) => hashPassword(password, iterations),
  };
}

/** Production's password work by default: Django 4.2's scheme, 600000 iterations. */
export const passwordWork: PasswordWork = djangoPasswordWork(ITERATIONS);

const works = new Map<number, PasswordWork>([[ITERATIONS, passwordWork]]);

/** The work at the origin's count (PASSWORD_ITERATIONS), one object per count. */
export function passwordWorkAt(iterations: number): PasswordWork {
  let work = works.get(iterations);
  if (work === undefined) {
    work = djangoPasswordWork(iterations);
    works.set(iterations, work);
  }
  return work;
}
