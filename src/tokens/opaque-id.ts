import type { Config } from "../config";

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** 32 hex characters that stand for `label` and cannot be guessed or reversed without the secret. */
export async function opaqueId(config: Config, label: string): Promise<string> {
  return hex(await crypto.subtle.sign("HMAC", config.derivationKey, new TextEncoder().encode(label))).slice(0, 32);
}
