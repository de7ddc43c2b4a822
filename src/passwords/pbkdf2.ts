/**
 * PBKDF2-HMAC-SHA256, one 32-byte block (what Django stores), at any iteration count: the
 * runtime's native WebCrypto PBKDF2 up to the count Cloudflare's production runtime allows in
 * one call, the portable implementation above it. Both give the same bytes.
 */
import { pbkdf2Sha256Portable } from "./pbkdf2-portable";

/** workerd's DEFAULT_MAX_PBKDF2_ITERATIONS: production refuses a single PBKDF2 call above this. */
export const NATIVE_PBKDF2_MAX_ITERATIONS = 100_000;

export async function pbkdf2Sha256(password: Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  if (iterations <= NATIVE_PBKDF2_MAX_ITERATIONS) {
    try {
      return await pbkdf2Sha256Native(password, salt, iterations);
    } catch {
      // A runtime that refuses this input natively (an empty password, a lower limit): the
      // portable implementation computes the same function.
    }
  }
  return pbkdf2Sha256Portable(password, salt, iterations);
}

export async function pbkdf2Sha256Native(password: Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  // Copies over plain ArrayBuffers: WebCrypto's BufferSource type (DOM lib) excludes shared ones.
  const key = await crypto.subtle.importKey("raw", new Uint8Array(password), "PBKDF2", false, ["deriveBits"]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(salt), iterations };
  const bits = await crypto.subtle.deriveBits(params, key, 256);
  return new Uint8Array(bits);
}
