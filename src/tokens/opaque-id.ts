import type { Config } from "../config";

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

/** Bytes as lowercase hex, two characters a byte. */
export function hexOf(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += HEX[byte]!;
  return text;
}

/**
 * `length` (even, at most 64) hex characters that stand for `label` and cannot be guessed
 * or reversed without the secret.
 */
export async function opaqueId(config: Config, label: string, length = 32): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", config.derivationKey, encoder.encode(label));
  return hexOf(new Uint8Array(mac, 0, length / 2));
}
