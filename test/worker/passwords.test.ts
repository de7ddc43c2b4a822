/**
 * Password verification and hashing, inside workerd with production's PBKDF2 limit in force
 * (test/support/production-limits.ts): native PBKDF2 above 100000 iterations is refused here
 * as on Cloudflare, so every count above that goes through the native prefix + portable path.
 */
import { describe, expect, it, vi } from "vitest";
import { constantTimeEqual } from "../../src/crypto/constant-time";
import { burnPasswordTime, djangoPasswordWork, hashPassword, passwordWork, verifyPassword } from "../../src/passwords";
import { ITERATIONS, MAX_ITERATIONS } from "../../src/passwords/django-format";
import {
  NATIVE_PBKDF2_MAX_ITERATIONS,
  pbkdf2Sha256,
  pbkdf2Sha256Native,
  pbkdf2Sha256Padding,
} from "../../src/passwords/pbkdf2";
import { pbkdf2Sha256Portable, pbkdf2Sha256Resume } from "../../src/passwords/pbkdf2-portable";
import { newSalt, SALT_LENGTH, saltTooWeak } from "../../src/passwords/salt";
import vectors from "../fixtures/simplejwt.json";
import { nodeCryptoLimited, PRODUCTION_MAX_PBKDF2_ITERATIONS } from "../support/production-limits";

const django = vectors.django_password_hashes;
const PASSWORD = django.password;
const DJANGO_HASHES = {
  600000: django.pbkdf2_sha256_600000,
  260000: django.pbkdf2_sha256_260000,
  100000: django.pbkdf2_sha256_100000,
} as const;
const SLOW = { timeout: 60_000 }; // each current-scheme derivation is a few hundred ms of CPU

const bytes = (text: string) => new TextEncoder().encode(text);
const hex = (data: Uint8Array) => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
const DJANGO_FORMAT = /^pbkdf2_sha256\$600000\$[a-zA-Z0-9]{22}\$[A-Za-z0-9+/]{43}=$/;

async function nativePbkdf2Key(password: string) {
  return crypto.subtle.importKey("raw", bytes(password), "PBKDF2", false, ["deriveBits", "deriveKey"]);
}

describe("production PBKDF2 limit (test/support/production-limits.ts)", () => {
  const refusal = (n: number) => `Pbkdf2 failed: iteration counts above 100000 are not supported (requested ${n}).`;

  it("refuses deriveBits above 100000 iterations, as Cloudflare's runtime does", async () => {
    const key = await nativePbkdf2Key("pw");
    const error = await crypto.subtle
      .deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: bytes("salt"), iterations: 600001 }, key, 256)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(DOMException);
    expect(error).toMatchObject({ name: "NotSupportedError", message: refusal(600001) });
  });

  it("refuses deriveKey above the limit and allows exactly the limit", async () => {
    const key = await nativePbkdf2Key("pw");
    const params = (iterations: number) => ({ name: "PBKDF2", hash: "SHA-256", salt: bytes("salt"), iterations });
    const hmac = { name: "HMAC", hash: "SHA-256", length: 256 };
    await expect(crypto.subtle.deriveKey(params(100001), key, hmac, false, ["sign"])).rejects.toMatchObject({
      name: "NotSupportedError",
      message: refusal(100001),
    });
    expect(PRODUCTION_MAX_PBKDF2_ITERATIONS).toBe(NATIVE_PBKDF2_MAX_ITERATIONS);
    const bits = await crypto.subtle.deriveBits(params(100000), key, 256);
    expect(hex(new Uint8Array(bits))).toBe(hex(pbkdf2Sha256Portable(bytes("pw"), bytes("salt"), 100000)));
  });

  it("keeps the runtime's own argument checks before the limit", async () => {
    const key = await crypto.subtle.importKey("raw", bytes("pw"), "PBKDF2", false, ["deriveKey"]); // no deriveBits usage
    await expect(
      crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: bytes("s"), iterations: 600000 }, key, 256),
    ).rejects.not.toMatchObject({ name: "NotSupportedError" });
  });

  it("refuses node:crypto's pbkdf2Sync and pbkdf2 (default export) above the limit", async () => {
    expect(nodeCryptoLimited).toBe(true);
    const nodeCrypto = ((await import(/* @vite-ignore */ "node:crypto" as string)) as { default: any }).default;
    expect(() => nodeCrypto.pbkdf2Sync("pw", "salt", 600001, 32, "sha256")).toThrow(refusal(600001));
    const error = await new Promise((resolve) => nodeCrypto.pbkdf2("pw", "salt", 600001, 32, "sha256", resolve));
    expect(error).toMatchObject({ name: "NotSupportedError", message: refusal(600001) });
    expect(hex(nodeCrypto.pbkdf2Sync("pw", "salt", 1000, 32, "sha256"))).toBe(
      hex(pbkdf2Sha256Portable(bytes("pw"), bytes("salt"), 1000)),
    );
  });
});

describe("portable PBKDF2-HMAC-SHA256", () => {
  it("matches the published PBKDF2-HMAC-SHA256 vectors", () => {
    const p = bytes("password"),
      s = bytes("salt");
    expect(hex(pbkdf2Sha256Portable(p, s, 1))).toBe("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
    expect(hex(pbkdf2Sha256Portable(p, s, 2))).toBe("ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
    expect(hex(pbkdf2Sha256Portable(p, s, 4096))).toBe(
      "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
    );
  });

  it.each([
    ["empty password and salt", "", "", 3],
    ["64-byte password (one key block)", "k".repeat(64), "salt", 5],
    ["65-byte password (hashed key)", "k".repeat(65), "salt", 5],
    ["non-ASCII password and long salt", "pässwörd 🔑".repeat(30), "salt".repeat(40), 7],
    ["salt filling the first block exactly", "pw", "s".repeat(51), 9],
    ["salt spilling padding into a second block", "pw", "s".repeat(52), 9],
    ["salt at the length-field boundary", "pw", "s".repeat(56), 9],
    ["Django-style salt, 1000 iterations", PASSWORD, "a1b2c3d4e5f6g7h8i9j0kl", 1000],
  ])("equals native PBKDF2: %s", async (_, password, salt, iterations) => {
    const native = await pbkdf2Sha256Native(bytes(password), bytes(salt), iterations);
    expect(hex(pbkdf2Sha256Portable(bytes(password), bytes(salt), iterations))).toBe(hex(native));
    expect(hex(await pbkdf2Sha256(bytes(password), bytes(salt), iterations))).toBe(hex(native));
  });

  it("rejects a non-positive iteration count", () => {
    expect(() => pbkdf2Sha256Portable(bytes("pw"), bytes("salt"), 0)).toThrow(RangeError);
  });

  it("resumes the chain from a native prefix: T(k) and U(k) = T(k) ^ T(k-1)", async () => {
    const p = bytes("pw"),
      s = bytes("salt");
    const previous = await pbkdf2Sha256Native(p, s, 9);
    const prefix = await pbkdf2Sha256Native(p, s, 10);
    expect(hex(pbkdf2Sha256Resume(p, previous, prefix, 10, 10))).toBe(hex(prefix));
    expect(hex(pbkdf2Sha256Resume(p, previous, prefix, 10, 4096))).toBe(hex(await pbkdf2Sha256Native(p, s, 4096)));
    expect(() => pbkdf2Sha256Resume(p, previous, prefix, 1, 4096)).toThrow(RangeError);
    expect(() => pbkdf2Sha256Resume(p, previous, prefix, 10, 9)).toThrow(RangeError);
    expect(() => pbkdf2Sha256Resume(p, previous.subarray(1), prefix, 10, 4096)).toThrow(RangeError);
  });

  it("pads a weaker count up to the current one with the same native work (harden_runtime)", SLOW, async () => {
    const spy = vi.spyOn(Object.getPrototypeOf(crypto.subtle) as SubtleCrypto, "deriveBits");
    const nativeCalls = async (done: number) => {
      spy.mockClear();
      await pbkdf2Sha256Padding(bytes("pw"), bytes("salt"), done, ITERATIONS);
      return spy.mock.calls.map(([algorithm]) => (algorithm as { iterations: number }).iterations);
    };
    try {
      // A current derivation is native 99999 + 100000, then portable for the rest.
      expect(await nativeCalls(100000)).toEqual([99999]);
      expect(await nativeCalls(1)).toEqual([100000, 99998]);
      expect(await nativeCalls(260000)).toEqual([]);
      expect(await nativeCalls(ITERATIONS)).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it("above the limit, asks natively for exactly 99999 and 100000 iterations, then resumes", SLOW, async () => {
    const spy = vi.spyOn(Object.getPrototypeOf(crypto.subtle) as SubtleCrypto, "deriveBits");
    try {
      const p = bytes(PASSWORD),
        s = bytes("a1b2c3d4e5f6g7h8i9j0kl");
      const derived = await pbkdf2Sha256(p, s, 100001);
      expect(spy.mock.calls.map(([algorithm]) => (algorithm as { iterations: number }).iterations)).toEqual([
        99999, 100000,
      ]);
      for (const result of spy.mock.results) await expect(result.value).resolves.toBeInstanceOf(ArrayBuffer);
      expect(hex(derived)).toBe(hex(pbkdf2Sha256Portable(p, s, 100001)));
    } finally {
      spy.mockRestore();
    }
  });
});

describe("verifyPassword against Django's hashes", () => {
  it("verifies the 600000-iteration hash with native PBKDF2 refused at that count", SLOW, async () => {
    const [, , salt] = DJANGO_HASHES[600000].split("$");
    const key = await nativePbkdf2Key(PASSWORD);
    await expect(
      crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: bytes(salt!), iterations: 600000 }, key, 256),
    ).rejects.toMatchObject({ name: "NotSupportedError" });
    expect(await verifyPassword(PASSWORD, DJANGO_HASHES[600000])).toEqual({ ok: true });
  });

  it.each([260000, 100000] as const)("verifies the %i-iteration hash and upgrades it", SLOW, async (n) => {
    const result = await verifyPassword(PASSWORD, DJANGO_HASHES[n]);
    expect(result.ok).toBe(true);
    expect(result).toEqual({ ok: true, mustUpgrade: true });
  });

  it.each([600000, 260000, 100000] as const)("fails the %i-iteration hash with a wrong password", SLOW, async (n) => {
    expect(await verifyPassword("correct horse battery stapl", DJANGO_HASHES[n])).toEqual({ ok: false });
    expect(await verifyPassword(`${PASSWORD} `, DJANGO_HASHES[n])).toEqual({ ok: false });
  });

  it("fails an unusable password and a missing hash", SLOW, async () => {
    expect(await verifyPassword(PASSWORD, django.unusable)).toEqual({ ok: false });
    expect(await verifyPassword(PASSWORD, `!${DJANGO_HASHES[600000]}`)).toEqual({ ok: false });
    expect(await verifyPassword(PASSWORD, null)).toEqual({ ok: false });
  });

  const [, , salt, hash] = DJANGO_HASHES[100000].split("$") as [string, string, string, string];
  it.each([
    ["empty", ""],
    ["algorithm only", "pbkdf2_sha256"],
    ["no hash part", `pbkdf2_sha256$100000$${salt}`],
    ["an extra part", `pbkdf2_sha256$100000$${salt}$${hash}$`],
    ["empty salt", `pbkdf2_sha256$100000$$${hash}`],
    ["zero iterations", `pbkdf2_sha256$0$${salt}$${hash}`],
    ["leading zero in the count", `pbkdf2_sha256$0100000$${salt}$${hash}`],
    ["non-numeric count", `pbkdf2_sha256$1e5$${salt}$${hash}`],
    ["count above the maximum", `pbkdf2_sha256$${MAX_ITERATIONS + 1}$${salt}$${hash}`],
    ["unknown algorithm", `pbkdf2_sha1$100000$${salt}$${hash}`],
    ["algorithm in capitals", `PBKDF2_SHA256$100000$${salt}$${hash}`],
    ["argon2", "argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$bG9uZ2VyaGFzaHZhbHVl"],
    ["hash without padding", `pbkdf2_sha256$100000$${salt}$${hash.replace(/=$/, "")}`],
    ["hash with a trailing newline", `pbkdf2_sha256$100000$${salt}$${hash}\n`],
    ["url-safe base64", `pbkdf2_sha256$100000$${salt}$${hash.replace(/\+/g, "-").replace(/\//g, "_")}`],
  ])("fails a malformed hash: %s", SLOW, async (_, encoded) => {
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: false });
  });

  it("a stored hash above the ceiling is never computed: the check does an unknown user's work", SLOW, async () => {
    const stored = `pbkdf2_sha256$10000000$${salt}$${hash}`;
    const derivations = vi.spyOn(crypto.subtle, "deriveBits");
    try {
      await verifyPassword(PASSWORD, null);
      const unknown = derivations.mock.calls.map(([params]) => (params as { iterations: number }).iterations);
      derivations.mockClear();
      expect(await verifyPassword(PASSWORD, stored)).toEqual({ ok: false });
      const calls = derivations.mock.calls.map(([params]) => params as { iterations: number; salt: ArrayBuffer });
      // The same native calls as an unknown user's (and so the same portable rest: burnPasswordTime's),
      expect(calls.map((params) => params.iterations)).toEqual(unknown);
      // none of them with the stored hash's salt: nothing of the 10^7 chain was started.
      const storedSalt = new TextEncoder().encode(salt);
      for (const params of calls) expect(new Uint8Array(params.salt)).not.toEqual(storedSalt);
    } finally {
      derivations.mockRestore();
    }
    expect(MAX_ITERATIONS).toBe(2_000_000);
    expect(MAX_ITERATIONS).toBeGreaterThanOrEqual(1_800_000); // Django 6.2's default verifies
  });

  it("keeps a stronger hash and upgrades a weak salt (Django's must_update)", SLOW, async () => {
    // Both made once with Node's native PBKDF2 (crypto.pbkdf2Sync(PASSWORD, salt, n, 32, "sha256"))
    // and checked equal to pbkdf2Sha256Portable's, rather than derived again (fully portable) on every run.
    const stronger = "pbkdf2_sha256$700000$Zq9Xw8Vu7Ts6Rr5Qp4On3M$/ke6VE6VYy7reTOBUXIirFZe+Rv5BsYhnTm7MroZMJo=";
    expect(await verifyPassword(PASSWORD, stronger)).toEqual({ ok: true });
    const shortSalt = `pbkdf2_sha256$${ITERATIONS}$shortsalt$OG2M+qnYBIjjCjxLfMT4YyMHG4mTzTfW6BjVsgrs1l8=`;
    const result = await verifyPassword(PASSWORD, shortSalt);
    expect(result).toEqual({ ok: true, mustUpgrade: true });
  });
});

describe("hashPassword", () => {
  it("writes Django 4.2's format, which verifies and needs no upgrade", SLOW, async () => {
    const encoded = await hashPassword(PASSWORD);
    expect(encoded).toMatch(DJANGO_FORMAT);
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: true });
    expect(await verifyPassword("Correct horse battery staple", encoded)).toEqual({ ok: false });
  });

  it("salts every hash afresh", SLOW, async () => {
    const [a, b] = [await hashPassword(PASSWORD), await hashPassword(PASSWORD)];
    expect(a.split("$")[2]).not.toBe(b.split("$")[2]);
    expect(a.split("$")[3]).not.toBe(b.split("$")[3]);
  });

  it.each([
    ["empty", ""],
    ["non-ASCII", "pässwörd 🔑 パスワード"],
    ["longer than a block", "x".repeat(200)],
  ])("round-trips any string: %s", SLOW, async (_, password) => {
    const encoded = await hashPassword(password);
    expect(await verifyPassword(password, encoded)).toEqual({ ok: true });
  });

  it("refuses what Python cannot encode (lone surrogates) and never verifies it", SLOW, async () => {
    await expect(hashPassword("pw\uD800")).rejects.toThrow(TypeError);
    // TextEncoder would turn "\uD800" into U+FFFD; it must not match a hash of "\uFFFD".
    const replacement = await hashPassword("pw\uFFFD");
    expect(await verifyPassword("pw\uD800", replacement)).toEqual({ ok: false });
    expect(await verifyPassword("pw\uFFFD", replacement)).toEqual({ ok: true });
  });
});

describe("burnPasswordTime", () => {
  it("completes a current-scheme derivation and reveals nothing", SLOW, async () => {
    await expect(burnPasswordTime(PASSWORD)).resolves.toBeUndefined();
  });
});

describe("djangoPasswordWork: the login's password work at one count", () => {
  it("production's is Django 4.2's scheme", () => {
    expect(passwordWork.iterations).toBe(ITERATIONS);
  });

  it("at a test's 1000 iterations: Django's format at that count, real PBKDF2, judged against that count", async () => {
    const quick = djangoPasswordWork(1000);
    const encoded = await quick.hash(PASSWORD);
    expect(encoded).toMatch(/^pbkdf2_sha256\$1000\$[a-zA-Z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    // Real PBKDF2-HMAC-SHA256: WebCrypto's at the stored salt and count gives this hash.
    const [, , salt, hash] = encoded.split("$") as [string, string, string, string];
    const expected = await pbkdf2Sha256Native(bytes(PASSWORD), bytes(salt), 1000);
    expect(btoa(String.fromCharCode(...expected))).toBe(hash);
    expect(await quick.verify(PASSWORD, encoded)).toEqual({ ok: true });
    expect(await quick.verify(`${PASSWORD}x`, encoded)).toEqual({ ok: false });
    expect(await quick.verify(PASSWORD, null)).toEqual({ ok: false });
    await expect(quick.burn(PASSWORD)).resolves.toBeUndefined();
    // Production's work takes it and asks for the upgrade; the quick one keeps a stronger hash.
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ ok: true, mustUpgrade: true });
    expect(await quick.verify(PASSWORD, DJANGO_HASHES[100000])).toEqual({ ok: true });
    expect(await quick.verify(PASSWORD, await djangoPasswordWork(500).hash(PASSWORD))).toEqual({
      ok: true,
      mustUpgrade: true,
    });
  });

  it.each([0, 1.5, Number.NaN])("refuses a count of %s", (count) => {
    expect(() => djangoPasswordWork(count)).toThrow(RangeError);
  });
});

describe("helpers", () => {
  it("compares in constant time by the computed string's length", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("abcd", "abc")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("a", "")).toBe(false);
  });

  it("makes 22-character salts from [a-zA-Z0-9] and flags short ones as Django does", () => {
    expect(SALT_LENGTH).toBe(22);
    const salts = Array.from({ length: 50 }, () => newSalt());
    for (const salt of salts) expect(salt).toMatch(/^[a-zA-Z0-9]{22}$/);
    expect(new Set(salts).size).toBe(salts.length);
    expect(saltTooWeak("a".repeat(22))).toBe(false);
    expect(saltTooWeak("a".repeat(21))).toBe(true);
  });
});
