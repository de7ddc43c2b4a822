/**
 * HMAC-SHA256 (RFC 2104) in plain TypeScript over ./sha256.ts, the key's pad states hashed
 * once: a MAC of a short message is then two compressions. PBKDF2's portable loop starts
 * from the same states (src/passwords/pbkdf2-portable.ts); the opaque ids of src/tokens/opaque-id.ts use
 * it because a Web Crypto call costs more than the hash itself at these sizes and is async.
 */
import { compress, compressDigestBlock, SHA256_IV } from "./sha256";

/** SHA-256 states after absorbing the key (hashed first if over 64 bytes) XOR ipad and opad. */
export interface HmacPads {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

export function hmacPads(key: Uint8Array): HmacPads {
  const bytes = key.length > 64 ? wordsToBytes(hashTail(Int32Array.from(SHA256_IV), key, 0)) : key;
  const padState = (pad: number) => {
    const block = new Int32Array(16);
    for (let i = 0; i < 64; i++) block[i >> 2]! |= ((bytes[i] ?? 0) ^ pad) << (24 - 8 * (i & 3));
    const state = Int32Array.from(SHA256_IV);
    compress(state, block);
    return state;
  };
  return { inner: padState(0x36), outer: padState(0x5c) };
}

/** HMAC-SHA256 of `message` under the key the pads were made from: 32 bytes. */
export function hmacSha256(pads: HmacPads, message: Uint8Array): Uint8Array {
  const out = new Int32Array(8);
  compressDigestBlock(pads.outer, hashTail(pads.inner.slice(), message, 64), out);
  return wordsToBytes(out);
}

/** Finishes SHA-256 from `state`, which has absorbed `prefix` bytes, over `data`: the digest words. */
export function hashTail(state: Int32Array, data: Uint8Array, prefix: number): Int32Array {
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

export function wordsToBytes(words: Int32Array): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) view.setInt32(4 * i, words[i]!);
  return bytes;
}
