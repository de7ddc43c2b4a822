/**
 * checkToken turns only jose's verdicts into "invalid": any other fault (a bug in parsing
 * the claims, a broken key) must surface as a 500, never as a client's 403. Module mocking
 * fails in this pool ("asyncLocalStorage.disable() is not implemented"), so the non-jose
 * fault here is a real one: a key jose refuses to use for HS256, with a TypeError.
 */
import { describe, expect, it } from "vitest";
import type { KeyRing } from "../../src/crypto/keys";
import { checkToken } from "../../src/tokens/verify";
import { mintToken, SECRET, seed } from "../support/harness";

const hmac = (hash: string, secret = SECRET) =>
  crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash }, false, ["verify"]);

/** HS256 keys as a ring, the first signing; the claims of a valid token, else undefined. */
const verifyToken = async (token: string, type: "access" | "refresh", keys: CryptoKey[], nowMs: number) => {
  const verifying = keys.map((key) => ({ key, kid: undefined }));
  const ring: KeyRing = { algorithm: "HS256", signing: verifying[0]!, verifying };
  const checked = await checkToken(token, type, ring, nowMs, "joined");
  return checked.ok ? checked.claims : undefined;
};

describe("verifyToken's errors", () => {
  it("a fault that is not jose's verdict on the token propagates instead of meaning 'invalid'", async () => {
    const s = await seed();
    const token = await mintToken(s);
    await expect(verifyToken(token, "refresh", [await hmac("SHA-512")], Date.now())).rejects.toBeInstanceOf(TypeError);
    // Even after a key that merely does not match: the next key's fault still surfaces.
    const keys = [await hmac("SHA-256", "y".repeat(40)), await hmac("SHA-512")];
    await expect(verifyToken(token, "refresh", keys, Date.now())).rejects.toBeInstanceOf(TypeError);
  });

  it("jose's verdicts are 'invalid': bad signature, garbage, wrong type", async () => {
    const s = await seed();
    const key = await hmac("SHA-256");
    expect(
      await verifyToken(await mintToken(s, { secret: "x".repeat(40) }), "refresh", [key], Date.now()),
    ).toBeUndefined();
    expect(await verifyToken("not.a.jwt", "refresh", [key], Date.now())).toBeUndefined();
    expect(await verifyToken(await mintToken(s), "access", [key], Date.now())).toBeUndefined();
    expect(await verifyToken(await mintToken(s), "refresh", [key], Date.now())).toMatchObject({ user_id: s.userId });
  });
});
