/**
 * PBKDF2-HMAC-SHA256, one 32-byte block (what Django stores), at any iteration count, never
 * asking the runtime for more than Cloudflare's production allows in one native call.
 *
 * Up to the limit: one native call. Above it: PBKDF2 cannot be split into shorter PBKDF2 calls,
 * but its first `limit` iterations can be taken natively, since T(k) = U1 ^ ... ^ Uk comes from
 * one call and U(k) = T(k) ^ T(k-1) from a second; the portable implementation resumes the
 * chain from there. Two native calls cost less than the portable iterations they replace
 * (2-8% of a 600000-iteration derivation, measured by scripts/bench-passwords.ts).
 */
import { pbkdf2Sha256Portable, pbkdf2Sha256Resume } from "./pbkdf2-portable";

/** workerd's DEFAULT_MAX_PBKDF2_ITERATIONS: production refuses a single PBKDF2 call above this. */
export const NATIVE_PBKDF2_MAX_ITERATIONS = 100_000;

export async function pbkdf2Sha256(password: Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  try {
    if (iterations <= NATIVE_PBKDF2_MAX_ITERATIONS) return await pbkdf2Sha256Native(password, salt, iterations);
    const done = NATIVE_PBKDF2_MAX_ITERATIONS;
    const previous = await pbkdf2Sha256Native(password, salt, done - 1);
    const prefix = await pbkdf2Sha256Native(password, salt, done);
    return pbkdf2Sha256Resume(password, previous, prefix, done, iterations);
  } catch {
    // A runtime that refuses this natively (an empty password, a lower limit): the portable
    // implementation computes the same function on its own.
    return pbkdf2Sha256Portable(password, salt, iterations);
  }
}

/**
 * Spends what pbkdf2Sha256 at `target` iterations costs beyond what it cost at `done`, the same
 * native and portable work, and computes nothing useful: Django's harden_runtime, so a wrong
 * password against a weaker hash takes as long as against a current one.
 */
export async function pbkdf2Sha256Padding(
  password: Uint8Array,
  salt: Uint8Array,
  done: number,
  target: number,
): Promise<void> {
  const [nativeDone, portableDone] = work(done);
  const [nativeTarget, portableTarget] = work(target);
  for (let left = nativeTarget - nativeDone; left > 0; left -= NATIVE_PBKDF2_MAX_ITERATIONS) {
    await pbkdf2Sha256Native(password, salt, Math.min(left, NATIVE_PBKDF2_MAX_ITERATIONS)).catch(() => undefined);
  }
  if (portableTarget > portableDone) pbkdf2Sha256Portable(password, salt, portableTarget - portableDone);
}

/** [native, portable] iterations pbkdf2Sha256 runs for a count. */
function work(iterations: number): [number, number] {
  const limit = NATIVE_PBKDF2_MAX_ITERATIONS;
  return iterations <= limit ? [iterations, 0] : [2 * limit - 1, iterations - limit];
}

export async function pbkdf2Sha256Native(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  // Copies over plain ArrayBuffers: WebCrypto's BufferSource type (DOM lib) excludes shared ones.
  const key = await crypto.subtle.importKey("raw", new Uint8Array(password), "PBKDF2", false, ["deriveBits"]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(salt), iterations };
  const bits = await crypto.subtle.deriveBits(params, key, 256);
  return new Uint8Array(bits);
}
