/**
 * Standard Webhooks signatures (docs/sync.md, "Delivery"): `v1,<base64 HMAC-SHA256>` over
 * "<id>.<timestamp>.<body>", several space-separated during a rotation, the timestamp within
 * a tolerance of the edge's clock. Keys come parsed from the configuration (src/config.ts).
 */
import { constantTimeEqual } from "../crypto/constant-time";

export const TOLERANCE_SECONDS = 300;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;

export type SignatureVerdict = { ok: true; id: string } | { ok: false; reason: "invalid" | "timestamp" };

function base64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The signing key of a secret: its UTF-8 bytes, or for `whsec_<base64>` the decoded bytes. */
export function secretBytes(secret: string): Uint8Array {
  if (!secret.startsWith("whsec_")) return new TextEncoder().encode(secret);
  const binary = atob(secret.slice("whsec_".length)); // throws on bad base64: the caller's ConfigError
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function signingKey(bytes: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** `v1,<signature>` of a delivery under one key: what the origin sends (and the tests). */
export async function sign(key: CryptoKey, id: string, timestamp: number | string, body: Uint8Array): Promise<string> {
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const message = new Uint8Array(prefix.byteLength + body.byteLength);
  message.set(prefix);
  message.set(body, prefix.byteLength);
  return `v1,${base64(await crypto.subtle.sign("HMAC", key, message))}`;
}

/** Whether the headers sign `body` under one of `keys` at a time within the tolerance of `nowSeconds`. */
export async function verifySignature(
  headers: Headers,
  body: Uint8Array,
  keys: readonly CryptoKey[],
  nowSeconds: number,
): Promise<SignatureVerdict> {
  const id = headers.get("webhook-id") ?? "";
  const timestamp = headers.get("webhook-timestamp") ?? "";
  const signatures = (headers.get("webhook-signature") ?? "").split(" ").filter((s) => s.startsWith("v1,"));
  if (!ID.test(id) || !TIMESTAMP.test(timestamp) || signatures.length === 0) return { ok: false, reason: "invalid" };
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return { ok: false, reason: "timestamp" };
  let matched = false;
  for (const key of keys) {
    const expected = await sign(key, id, timestamp, body);
    // Every candidate compared in full: the time says nothing of which one (or where) differs.
    for (const candidate of signatures) matched = constantTimeEqual(expected, candidate) || matched;
  }
  return matched ? { ok: true, id } : { ok: false, reason: "invalid" };
}
