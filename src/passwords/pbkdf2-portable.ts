/**
 * PBKDF2-HMAC-SHA256 (RFC 8018, section 5.2) for a single 32-byte output block, in plain
 * TypeScript. It exists because Cloudflare's production runtime refuses native PBKDF2 above
 * 100000 iterations, and PBKDF2 cannot be split into several shorter native PBKDF2 calls (each
 * call restarts the chain from the salt). The HMAC key pads are hashed once; every iteration is
 * then exactly two compressions (inner, outer) of the previous 32-byte U, at any count.
 */
import { SHA256_IV, compress, compressDigestBlock } from "./sha256";

/** T1 = U1 ^ U2 ^ ... ^ Uc, Ui = HMAC-SHA256(password, U(i-1)), U1 = HMAC(password, salt ‖ 1). */
export function pbkdf2Sha256Portable(password: Uint8Array, salt: Uint8Array, iterations: number): Uint8Array {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new RangeError("iterations must be a positive integer");
  const key = password.length > 64 ? wordsToBytes(hashTail(Int32Array.from(SHA256_IV), password, 0)) : password;
  const inner = padState(key, 0x36);
  const outer = padState(key, 0x5c);

  const first = new Uint8Array(salt.length + 4);
  first.set(salt);
  first[salt.length + 3] = 1; // INT(1), big-endian: the first (and only) output block
  const u = new Int32Array(8);
  compressDigestBlock(outer, hashTail(inner.slice(), first, 64), u);

  const t = u.slice();
  const v = new Int32Array(8);
  for (let i = 1; i < iterations; i++) {
    compressDigestBlock(inner, u, v);
    compressDigestBlock(outer, v, u);
    for (let j = 0; j < 8; j++) t[j]! ^= u[j]!;
  }
  return wordsToBytes(t);
}

/** The SHA-256 state after absorbing one block of (key zero-padded to 64 bytes) XOR pad. */
function padState(key: Uint8Array, pad: number): Int32Array {
  const block = new Int32Array(16);
  for (let i = 0; i < 64; i++) block[i >> 2]! |= ((key[i] ?? 0) ^ pad) << (24 - 8 * (i & 3));
  const state = Int32Array.from(SHA256_IV);
  compress(state, block);
  return state;
}

/** Finishes SHA-256 from `state`, which has absorbed `prefix` bytes, over `data`: the digest words. */
function hashTail(state: Int32Array, data: Uint8Array, prefix: number): Int32Array {
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = (prefix + data.length) * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const block = new Int32Array(16);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) block[i] = view.getInt32(offset + 4 * i);
    compress(state, block);
  }
  return state;
}

function wordsToBytes(words: Int32Array): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) view.setInt32(4 * i, words[i]!);
  return bytes;
}
