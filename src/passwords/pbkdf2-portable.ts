/**
 * PBKDF2-HMAC-SHA256 (RFC 8018, section 5.2) for a single 32-byte output block, in plain
 * TypeScript. It exists because Cloudflare's production runtime refuses native PBKDF2 above
 * 100000 iterations, and PBKDF2 cannot be split into several shorter native PBKDF2 calls (each
 * call restarts the chain from the salt). The HMAC key pads are hashed once; every iteration is
 * then exactly two compressions (inner, outer) of the previous 32-byte U, at any count.
 */
import { hashTail, hmacPads, wordsToBytes } from "../crypto/hmac-sha256";
import { compressDigestBlock } from "../crypto/sha256";

/** T = U1 ^ U2 ^ ... ^ Uc, with U1 = HMAC-SHA256(password, salt ‖ INT(1)), Ui = HMAC(password, U(i-1)). */
export function pbkdf2Sha256Portable(password: Uint8Array, salt: Uint8Array, iterations: number): Uint8Array {
  checkCount(iterations, 1);
  const { inner, outer } = hmacPads(password);
  const first = new Uint8Array(salt.length + 4);
  first.set(salt);
  first[salt.length + 3] = 1; // INT(1), big-endian: the first (and only) output block
  const u = new Int32Array(8);
  compressDigestBlock(outer, hashTail(inner.slice(), first, 64), u);
  return wordsToBytes(iterate(inner, outer, u, u.slice(), iterations - 1));
}

/**
 * The same function from a prefix computed elsewhere (natively, within the limit): `prefix` is T
 * after `done` iterations and `previous` is T after `done - 1`, so U(done) = prefix ^ previous.
 * `run` does the iterations (the benchmark passes alternatives).
 */
export function pbkdf2Sha256Resume(
  password: Uint8Array,
  previous: Uint8Array,
  prefix: Uint8Array,
  done: number,
  iterations: number,
  run: Iterate = iterate,
): Uint8Array {
  checkCount(done, 2);
  checkCount(iterations, done);
  const { inner, outer } = hmacPads(password);
  const t = bytesToWords(prefix);
  const u = bytesToWords(previous).map((word, i) => word ^ t[i]!);
  return wordsToBytes(run(inner, outer, u, t, iterations - done));
}

/** `count` more iterations from the HMAC pad states: u = HMAC(u), t ^= u; updates both, returns t. */
export type Iterate = (inner: Int32Array, outer: Int32Array, u: Int32Array, t: Int32Array, count: number) => Int32Array;

/** `count` more iterations: u = HMAC(u), t ^= u. Both arrays are updated; returns t. */
export function iterate(inner: Int32Array, outer: Int32Array, u: Int32Array, t: Int32Array, count: number): Int32Array {
  const v = new Int32Array(8);
  for (let i = 0; i < count; i++) {
    compressDigestBlock(inner, u, v);
    compressDigestBlock(outer, v, u);
    for (let j = 0; j < 8; j++) t[j]! ^= u[j]!;
  }
  return t;
}

function checkCount(count: number, min: number): void {
  if (!Number.isSafeInteger(count) || count < min) throw new RangeError(`iteration count must be an integer >= ${min}`);
}

function bytesToWords(bytes: Uint8Array): Int32Array {
  if (bytes.length !== 32) throw new RangeError("expected a 32-byte PBKDF2-HMAC-SHA256 block");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Int32Array.from({ length: 8 }, (_, i) => view.getInt32(4 * i));
}
