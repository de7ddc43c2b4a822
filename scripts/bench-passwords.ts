/**
 * CPU time of password verification and hashing (src/passwords) against native PBKDF2, all in
 * one Node process: `npx tsx scripts/bench-passwords.ts [runs]`. Node has no PBKDF2 limit, so the
 * baseline is the one native deriveBits at 600000 iterations that Cloudflare's production refuses.
 * Alternatives for counts above the limit are measured too (the slow ones on fewer iterations,
 * scaled to 600000).
 */
import { createHmac, createSecretKey } from "node:crypto";
import { burnPasswordTime, hashPassword, verifyPassword } from "../src/passwords";
import { ITERATIONS } from "../src/passwords/django-format";
import { pbkdf2Sha256, pbkdf2Sha256Native } from "../src/passwords/pbkdf2";
import { pbkdf2Sha256Portable, pbkdf2Sha256Resume } from "../src/passwords/pbkdf2-portable";
import vectors from "../test/fixtures/simplejwt.json" with { type: "json" };

const runs = Math.max(1, Number(process.argv[2] ?? 5));
const django = vectors.django_password_hashes;
const password = django.password;
const [, , saltText] = django.pbkdf2_sha256_600000.split("$") as [string, string, string, string];
const enc = new TextEncoder();
const pw = enc.encode(password);
const salt = enc.encode(saltText);

interface Case {
  name: string;
  work: () => unknown;
  /** The measured work is 1/scale of the operation named (an alternative run on fewer iterations). */
  scale?: number;
  /** Fewer samples for the slowest alternatives. */
  samples?: number;
}

async function cpuMsOnce(work: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * Median CPU milliseconds (user + system, all threads) per case, after one warm-up each. The
 * cases take turns, round by round, so load from elsewhere on the machine spreads over all of them.
 */
async function measure(cases: Case[]): Promise<number[]> {
  for (const c of cases) await c.work();
  const samples = cases.map((): number[] => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, c] of cases.entries()) {
      if (round < (c.samples ?? runs)) samples[i]!.push((c.scale ?? 1) * (await cpuMsOnce(c.work)));
    }
  }
  return samples.map((list) => list.sort((a, b) => a - b)[Math.floor((list.length - 1) / 2)]!);
}

function expectTrue(value: boolean, what: string): void {
  if (!value) throw new Error(`bench sanity check failed: ${what}`);
}

// Alternative 1: one WebCrypto HMAC sign per iteration (600000 awaited native calls).
async function signLoop(iterations: number): Promise<void> {
  const key = await crypto.subtle.importKey("raw", pw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const first = new Uint8Array(salt.length + 4);
  first.set(salt);
  first[salt.length + 3] = 1;
  let u = new Uint8Array(await crypto.subtle.sign("HMAC", key, first));
  const t = u.slice();
  for (let i = 1; i < iterations; i++) {
    u = new Uint8Array(await crypto.subtle.sign("HMAC", key, u));
    for (let j = 0; j < 32; j++) t[j]! ^= u[j]!;
  }
}

// Alternative 2: node:crypto createHmac per iteration (synchronous; workerd has it with nodejs_compat).
function createHmacLoop(iterations: number): void {
  const key = createSecretKey(pw);
  let u = createHmac("sha256", key)
    .update(salt)
    .update(Uint8Array.of(0, 0, 0, 1))
    .digest();
  const t = Buffer.from(u);
  for (let i = 1; i < iterations; i++) {
    u = createHmac("sha256", key).update(u).digest();
    for (let j = 0; j < 32; j++) t[j]! ^= u[j]!;
  }
}

// The iterations past the native limit, from the same native prefix, by each loop.
const DONE = 100_000;
const previous = await pbkdf2Sha256Native(pw, salt, DONE - 1);
const prefix = await pbkdf2Sha256Native(pw, salt, DONE);
const resumeJs = () => pbkdf2Sha256Resume(pw, previous, prefix, DONE, ITERATIONS);

const b64 = (x: Uint8Array) => Buffer.from(x).toString("base64");
const expected = django.pbkdf2_sha256_600000.split("$")[3]!;
expectTrue(b64(await pbkdf2Sha256Native(pw, salt, ITERATIONS)) === expected, "native baseline");
expectTrue(b64(pbkdf2Sha256Portable(pw, salt, ITERATIONS)) === expected, "portable");
expectTrue(b64(await pbkdf2Sha256(pw, salt, ITERATIONS)) === expected, "native prefix + portable");
expectTrue((await verifyPassword(password, django.pbkdf2_sha256_600000)).ok, "verify 600000");
expectTrue(b64(resumeJs()) === expected, "portable loop from the native prefix");

const cases: Case[] = [
  { name: "baseline: native deriveBits at 600000", work: () => pbkdf2Sha256Native(pw, salt, ITERATIONS) },
  {
    name: "verifyPassword, 600000 Django hash, right password",
    work: () => verifyPassword(password, django.pbkdf2_sha256_600000),
  },
  {
    name: "verifyPassword, 600000 Django hash, wrong password",
    work: () => verifyPassword("wrong", django.pbkdf2_sha256_600000),
  },
  { name: "verifyPassword, 260000 hash, right", work: () => verifyPassword(password, django.pbkdf2_sha256_260000) },
  {
    name: "verifyPassword, 100000 hash, right (native)",
    work: () => verifyPassword(password, django.pbkdf2_sha256_100000),
  },
  {
    name: "verifyPassword, 100000 hash, wrong (native + harden)",
    work: () => verifyPassword("wrong", django.pbkdf2_sha256_100000),
  },
  { name: "verifyPassword, null hash (unknown user)", work: () => verifyPassword(password, null) },
  { name: "hashPassword (pbkdf2_sha256$600000)", work: () => hashPassword(password) },
  { name: "burnPasswordTime", work: () => burnPasswordTime(password) },
  { name: "pbkdf2Sha256 at 600000 (native prefix + portable)", work: () => pbkdf2Sha256(pw, salt, ITERATIONS) },
  { name: "alt: portable only", work: () => pbkdf2Sha256Portable(pw, salt, ITERATIONS) },
  { name: "loop: 500000 iterations after the prefix, portable (shipped)", work: resumeJs },
  { name: "alt: node createHmac loop (100000, x6)", work: () => createHmacLoop(100_000), scale: 6, samples: 3 },
  { name: "alt: crypto.subtle.sign loop (20000, x30)", work: () => signLoop(20_000), scale: 30, samples: 1 },
];
const results = await measure(cases);
const baseline = results[0]!;

const width = Math.max(...cases.map((c) => c.name.length));
console.log(`Node ${process.version}, median CPU time of ${runs} interleaved runs (user + system, all threads)\n`);
console.log(`${"operation".padEnd(width)}  ${"CPU ms".padStart(8)}  ${"x native".padStart(8)}`);
const line = (name: string, ms: number) =>
  console.log(`${name.padEnd(width)}  ${ms.toFixed(1).padStart(8)}  ${(ms / baseline).toFixed(2).padStart(8)}`);
for (const [i, c] of cases.entries()) line(c.name, results[i]!);

const at = (name: string) => results[cases.findIndex((c) => c.name.startsWith(name))]!;
console.log(
  `\nCPU per login (verify, 600000, right password): ${(at("verifyPassword, 600000 Django hash, right") / baseline).toFixed(2)}x native`,
);
