/** HMAC-SHA256 in plain TypeScript (src/crypto/hmac-sha256.ts) against Web Crypto's, byte for byte. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hmacPads, hmacSha256 } from "../../src/crypto/hmac-sha256";
import { checkProperty } from "../support/properties";

async function webCryptoHmac(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, message));
}

describe("hmacSha256", () => {
  it("RFC 4231 test case 2 (a short key) and 6 (a key longer than a block)", () => {
    const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    const text = (value: string) => new TextEncoder().encode(value);
    expect(hex(hmacSha256(hmacPads(text("Jefe")), text("what do ya want for nothing?")))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(
      hex(
        hmacSha256(
          hmacPads(new Uint8Array(131).fill(0xaa)),
          text("Test Using Larger Than Block-Size Key - Hash Key First"),
        ),
      ),
    ).toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  });

  it("equals Web Crypto's for keys of 1 to 200 bytes and messages of 0 to 300 (every padding case)", async () => {
    await checkProperty(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        async (key, message) => {
          expect(hmacSha256(hmacPads(key), message)).toEqual(await webCryptoHmac(key, message));
        },
      ),
      300,
      [
        [new Uint8Array(64).fill(1), new Uint8Array(55)],
        [new Uint8Array(65).fill(2), new Uint8Array(56)],
        [new Uint8Array(32).fill(3), new Uint8Array(64)],
      ],
    );
  });

  it("a pad state is never changed by use: the same MAC twice", () => {
    const pads = hmacPads(new Uint8Array(32).fill(7));
    const message = new TextEncoder().encode("successor:0123456789abcdef0123456789abcdef");
    expect(hmacSha256(pads, message)).toEqual(hmacSha256(pads, message));
  });
});
