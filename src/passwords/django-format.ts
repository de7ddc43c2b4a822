/**
 * Django's PBKDF2PasswordHasher format, `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, and
 * the scheme this service writes: Django 4.2's own defaults, so the Django origin sharing the
 * tables verifies our hashes and never rewrites them (its must_update is false for them).
 */
import { base64, utf8 } from "./encoding";
import { saltTooWeak } from "./salt";

export const ALGORITHM = "pbkdf2_sha256";
/** Django 4.2's default and OWASP's Password Storage Cheat Sheet figure for PBKDF2-HMAC-SHA256. */
export const ITERATIONS = 600_000;
/**
 * The iteration ceiling: a stored count above it is unusable, never computed (a login against
 * it does the work of an unknown user's: one derivation at ITERATIONS), and import-django
 * refuses it, naming the record. 2,000,000 lets every Django default so far verify (4.2:
 * 600,000; 5.2: 1,000,000; 6.0: 1,200,000; 6.1: 1,500,000; 6.2: 1,800,000), so a hash the
 * origin wrote never locks its user out, while no stored hash can make a request cost more
 * than about 3.3 of this scheme's derivations (10^7 cost 16.7, about 3.5 s of CPU). The
 * origin-sync receiver stores hashes as sent and relies on this rule at login.
 */
export const MAX_ITERATIONS = 2_000_000;

export interface DjangoPbkdf2Hash {
  iterations: number;
  salt: string;
  /** The salt as PBKDF2 takes it: UTF-8, as Django's force_bytes. */
  saltBytes: Uint8Array;
  hash: string;
}

/** The parts of a Django pbkdf2_sha256 hash, or undefined for anything this module cannot verify. */
export function parseDjangoPbkdf2(encoded: string): DjangoPbkdf2Hash | undefined {
  const parts = encoded.split("$");
  if (parts.length !== 4) return undefined;
  const [algorithm, count, salt, hash] = parts as [string, string, string, string];
  // Canonical decimal only: Django recomputes the whole string, so "0600000" could never match.
  if (algorithm !== ALGORITHM || !/^[1-9][0-9]{0,9}$/.test(count) || salt === "") return undefined;
  const iterations = Number(count);
  const saltBytes = utf8(salt);
  if (iterations > MAX_ITERATIONS || saltBytes === undefined) return undefined;
  return { iterations, salt, saltBytes, hash };
}

export function encodeDjangoPbkdf2(iterations: number, salt: string, derived: Uint8Array): string {
  return `${ALGORITHM}$${iterations}$${salt}$${base64(derived)}`;
}

/**
 * Django's must_update, except that a stronger count is kept: a hash below the current count
 * (`iterations`) or with a short salt gets rewritten; one above it (a newer Django wrote it) is
 * left alone.
 */
export function mustUpdate(parsed: DjangoPbkdf2Hash, iterations: number = ITERATIONS): boolean {
  return parsed.iterations < iterations || saltTooWeak(parsed.salt);
}
