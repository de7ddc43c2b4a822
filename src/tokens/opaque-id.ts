import type { Config } from "../config";
import { hmacSha256 } from "../passwords/hmac-sha256";

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

/**
 * `length` (even, at most 64) hex characters that stand for `label` and cannot be guessed
 * or reversed without the secret: HMAC-SHA256 under the derivation key.
 */
export function opaqueId(config: Config, label: string, length = 32): string {
  const mac = hmacSha256(config.derivation, encoder.encode(label));
  let text = "";
  for (let i = 0; i < length / 2; i++) text += HEX[mac[i]!]!;
  return text;
}
