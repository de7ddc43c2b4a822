/**
 * The token keys of a secret and of its predecessors: HS256 keys that sign (the current one)
 * and verify (all), and each one's derivation key for opaque ids (successor ids, login
 * throttle keys) as HMAC pad states (src/crypto/hmac-sha256.ts).
 */
import { type HmacPads, hmacPads } from "./hmac-sha256";

export interface TokenKeys {
  signingKey: CryptoKey;
  /** The signing key first, then the previous secrets' in their order. */
  verificationKeys: readonly CryptoKey[];
  /** One per verification key, in the same order. */
  derivations: readonly HmacPads[];
}

// Domain separation: the derivation key is HMAC(secret, label), never the signing key.
const DERIVATION_LABEL = new TextEncoder().encode("org-token-edge derivation key v1");

function hmacKey(bytes: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function tokenKeys(secret: Uint8Array, previous: readonly Uint8Array[]): Promise<TokenKeys> {
  const verificationKeys = await Promise.all([secret, ...previous].map(hmacKey));
  const derivations = await Promise.all(
    verificationKeys.map(async (key) =>
      hmacPads(new Uint8Array(await crypto.subtle.sign("HMAC", key, DERIVATION_LABEL))),
    ),
  );
  return { signingKey: verificationKeys[0]!, verificationKeys, derivations };
}
