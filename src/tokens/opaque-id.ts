import { type HmacPads, hmacSha256 } from "../crypto/hmac-sha256";

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

/**
 * `length` (even, 2 to 64) hex characters that stand for `label` and cannot be guessed or
 * reversed without the secret: HMAC-SHA256 under a derivation key (Config.derivation).
 */
export function opaqueId(key: HmacPads, label: string, length = 32): string {
  if (!Number.isInteger(length) || length < 2 || length > 64 || length % 2 !== 0) {
    throw new RangeError("an opaque id is an even number of hex characters, 2 to 64");
  }
  const mac = hmacSha256(key, encoder.encode(label));
  let text = "";
  for (let i = 0; i < length / 2; i++) text += HEX[mac[i]!]!;
  return text;
}
