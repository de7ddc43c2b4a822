/**
 * PBKDF2-HMAC-SHA256's iterations as WebAssembly: the experiment of issue 10 item 4, NOT
 * shipped. scripts/bench-passwords.ts measures it against the portable loop of
 * src/passwords/pbkdf2-portable.ts on the same vectors; it ran about 1.1x faster there, under
 * the 1.5x that would pay for a second implementation, a .wasm module in the bundle and
 * V8's baseline-compiler warm-up (docs/passwords.md has the figures).
 *
 * The module exports `memory` and `iterate(count)`: with the SHA-256 states after the HMAC
 * inner and outer pads at words 0-7 and 8-15, U at 16-23 and T at 24-31 (i32, as an
 * Int32Array sees them), it runs `count` iterations: U = HMAC(U), T ^= U. The text is
 * generated: 128 rounds per iteration written out, all state in locals, no memory traffic in
 * the loop; each round is FIPS 180-4 6.2.2 step 3 as src/passwords/sha256.ts computes it.
 * To ship it, a Worker would import the .wasm file (wrangler's CompiledWasm rule gives a
 * WebAssembly.Module; Workers refuse to compile bytes at run time):
 * `npx tsx scripts/sha256-wasm.ts DIR` writes pbkdf2-sha256.wat and .wasm there (wabt).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import initWabt from "wabt";
import type { Iterate } from "../src/passwords/pbkdf2-portable";

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

const get = (name: string) => `(local.get $${name})`;
const set = (name: string, value: string) => `(local.set $${name} ${value})`;
const add = (...xs: string[]) => xs.reduce((acc, x) => `(i32.add ${acc} ${x})`);
const xor = (...xs: string[]) => xs.reduce((acc, x) => `(i32.xor ${acc} ${x})`);
const and = (x: string, y: string) => `(i32.and ${x} ${y})`;
const or = (x: string, y: string) => `(i32.or ${x} ${y})`;
const rotr = (x: string, n: number) => `(i32.rotr ${x} (i32.const ${n}))`;
const shr = (x: string, n: number) => `(i32.shr_u ${x} (i32.const ${n}))`;
const konst = (n: number) => `(i32.const ${n | 0})`;

const ROLES = ["a", "b", "c", "d", "e", "f", "g", "h"];

/**
 * One compression of state locals `${state}0..7` with the 64-byte block message[0..7] ‖
 * 0x80000000 ‖ zeros ‖ 768 (a digest after a 64-byte pad), written to `${out}0..7`.
 */
function compressDigestBlock(state: string, message: string, out: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 8; i++) lines.push(set(`w${i}`, get(`${message}${i}`)));
  lines.push(set("w8", konst(0x80000000)));
  for (let i = 9; i < 15; i++) lines.push(set(`w${i}`, konst(0)));
  lines.push(set("w15", konst(768)));
  for (const [i, role] of ROLES.entries()) lines.push(set(role, get(`${state}${i}`)));
  for (let r = 0; r < 64; r++) {
    const w = (k: number) => get(`w${k & 15}`);
    if (r >= 16) {
      const s0 = xor(rotr(w(r - 15), 7), rotr(w(r - 15), 18), shr(w(r - 15), 3));
      const s1 = xor(rotr(w(r - 2), 17), rotr(w(r - 2), 19), shr(w(r - 2), 10));
      lines.push(set(`w${r & 15}`, add(s1, w(r - 7), s0, w(r - 16))));
    }
    // Roles rotate instead of values moving: after round r, a..h are the locals roles[(i - r) & 7].
    const name = (i: number) => ROLES[(i - r) & 7]!;
    const [a, b, c, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => get(name(i))) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const S1 = xor(rotr(e, 6), rotr(e, 11), rotr(e, 25));
    const ch = xor(g, and(e, xor(f, g)));
    lines.push(set("x1", add(h, S1, ch, konst(K[r]!), w(r))));
    const S0 = xor(rotr(a, 2), rotr(a, 13), rotr(a, 22));
    const maj = or(and(a, b), and(c, or(a, b)));
    // new e = d + T1 (kept in d's local), new a = T1 + T2 (kept in h's local).
    lines.push(set(name(3), add(d, get("x1"))));
    lines.push(set(name(7), add(get("x1"), S0, maj)));
  }
  // After 64 rounds the rotation is back where it started (64 = 0 mod 8).
  for (const [i, role] of ROLES.entries()) lines.push(set(`${out}${i}`, add(get(`${state}${i}`), get(role))));
  return lines;
}

const eight = (prefix: string) => Array.from({ length: 8 }, (_, i) => `${prefix}${i}`);
const locals = [
  ...eight("in"),
  ...eight("out"),
  ...eight("u"),
  ...eight("t"),
  ...ROLES,
  ...Array.from({ length: 16 }, (_, i) => `w${i}`),
  "x1",
];
const load = (name: string, offset: number) => set(name, `(i32.load offset=${offset} (i32.const 0))`);
const store = (name: string, offset: number) => `(i32.store offset=${offset} (i32.const 0) ${get(name)})`;

const body = [
  ...eight("in").map((n, i) => load(n, 4 * i)),
  ...eight("out").map((n, i) => load(n, 32 + 4 * i)),
  ...eight("u").map((n, i) => load(n, 64 + 4 * i)),
  ...eight("t").map((n, i) => load(n, 96 + 4 * i)),
  "(block $done",
  "  (loop $next",
  "    (br_if $done (i32.eqz (local.get $count)))",
  // U = HMAC(U): the inner compression's output goes back into U, then the outer's.
  ...compressDigestBlock("in", "u", "u").map((l) => `    ${l}`),
  ...compressDigestBlock("out", "u", "u").map((l) => `    ${l}`),
  ...eight("t").map((n, i) => `    ${set(n, xor(get(n), get(`u${i}`)))}`),
  "    (local.set $count (i32.sub (local.get $count) (i32.const 1)))",
  "    (br $next)))",
  ...eight("u").map((n, i) => store(n, 64 + 4 * i)),
  ...eight("t").map((n, i) => store(n, 96 + 4 * i)),
];

export const PBKDF2_WAT = `;; Generated by scripts/sha256-wasm.ts: edit that, not this.
;; PBKDF2-HMAC-SHA256 iterations, two SHA-256 compressions each.
(module
  (memory (export "memory") 1)
  (func (export "iterate") (param $count i32)
    ${locals.map((l) => `(local $${l} i32)`).join(" ")}
    ${body.join("\n    ")}))
`;

/** The assembled module (wabt). */
export async function pbkdf2Wasm(): Promise<Uint8Array> {
  const wabt = await initWabt();
  const parsed = wabt.parseWat("pbkdf2-sha256.wat", PBKDF2_WAT);
  parsed.validate();
  return parsed.toBinary({}).buffer;
}

/**
 * Iterations per call. V8 starts WebAssembly in its baseline compiler (Liftoff) and swaps in
 * optimized code between calls only: one call of 500000 iterations stayed ~10x slower.
 */
const CHUNK = 2000;

interface Exports {
  memory: WebAssembly.Memory;
  iterate(count: number): void;
}

/** The portable loop's contract (u = HMAC(u), t ^= u on the same arrays), run by the module. */
export function wasmIterate(module: WebAssembly.Module): Iterate {
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  const words = new Int32Array(exports.memory.buffer, 0, 32);
  return (inner, outer, u, t, count) => {
    words.set(inner, 0);
    words.set(outer, 8);
    words.set(u, 16);
    words.set(t, 24);
    for (let left = count; left > 0; left -= CHUNK) exports.iterate(Math.min(left, CHUNK));
    u.set(words.subarray(16, 24));
    t.set(words.subarray(24, 32));
    return t;
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? ".";
  const wasm = await pbkdf2Wasm();
  writeFileSync(join(dir, "pbkdf2-sha256.wat"), PBKDF2_WAT);
  writeFileSync(join(dir, "pbkdf2-sha256.wasm"), wasm);
  console.log(
    `wrote pbkdf2-sha256.wat (${PBKDF2_WAT.length} chars) and pbkdf2-sha256.wasm (${wasm.length} bytes) to ${dir}`,
  );
}
