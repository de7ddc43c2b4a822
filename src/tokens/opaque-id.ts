import type { Config } from "../config";

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer, length: number): string {
  const view = new Uint8Array(bytes, 0, length / 2);
  let text = "";
  for (const byte of view) text += HEX[byte]!;
  return text;
}

/**
 * `length` (even, at most 64) hex characters that stand for `label` and cannot be guessed
 * or reversed without the secret.
 */
export async function opaqueId(config: Config, label: string, length = 32): Promise<string> {
  return hex(await crypto.subtle.sign("HMAC", config.derivationKey, encoder.encode(label)), length);
}
