/**
 * The token keys: a key ring of one JWS algorithm (ALGORITHM) whose current key signs and
 * whose keys, current first, verify; under HMAC the secrets' keys (JWT_SECRET_KEY, then
 * JWT_PREVIOUS_SECRET_KEYS), under an asymmetric algorithm the PEM keys of
 * ./asymmetric-keys.ts. And each secret's derivation key for opaque ids (successor ids,
 * login throttle keys) as HMAC pad states (src/crypto/hmac-sha256.ts).
 */
import { decodeProtectedHeader, errors } from "jose";
import type { HmacAlgorithm, JwsAlgorithm } from "./algorithms";
import { type HmacPads, hmacPads } from "./hmac-sha256";

export interface RingKey {
  key: CryptoKey;
  /** Asymmetric: the public key's RFC 7638 thumbprint, written as `kid` and published. HMAC: none. */
  kid: string | undefined;
}

export interface KeyRing {
  algorithm: JwsAlgorithm;
  /** The key that signs (a private key, or the current secret's). */
  signing: RingKey;
  /** The keys that verify, the current one's first. */
  verifying: readonly RingKey[];
}

/**
 * The keys, by index into `ring.verifying`, a token may have been signed with. A ring with
 * kids (asymmetric) checks a token naming one against that key only (an unknown kid: none);
 * a token without a kid (the origin's PyJWT writes none), and any token under HMAC (PyJWT
 * ignores a kid there too), against each key in order.
 */
function candidateKeys(ring: KeyRing, token: string): readonly number[] {
  const all = ring.verifying.map((_, index) => index);
  if (ring.signing.kid === undefined) return all;
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return all; // malformed: the verification says so, as for any other malformed token
  }
  if (kid === undefined) return all;
  const index = ring.verifying.findIndex((entry) => entry.kid === kid);
  return index < 0 ? [] : [index];
}

/**
 * `verify` under the token's candidate keys in turn: the first key whose signature holds, and
 * what `verify` gave under it. Only a signature depends on the key, so any other of jose's
 * verdicts (expired, another alg, malformed) is final and returned; none: no key's signature
 * held (or no key was a candidate). An error not jose's is a bug or a broken key and is thrown,
 * to surface as a 500, never as an invalid token.
 */
export async function verifyWithRing<T>(
  ring: KeyRing,
  token: string,
  verify: (key: CryptoKey) => Promise<T>,
): Promise<{ ok: true; value: T; keyIndex: number } | { ok: false; error: errors.JOSEError | undefined }> {
  for (const keyIndex of candidateKeys(ring, token)) {
    try {
      return { ok: true, value: await verify(ring.verifying[keyIndex]!.key), keyIndex };
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed) continue;
      if (error instanceof errors.JOSEError) return { ok: false, error };
      throw error;
    }
  }
  return { ok: false, error: undefined };
}

const headers = new WeakMap<KeyRing, { alg: JwsAlgorithm; typ: "JWT"; kid?: string }>();

/**
 * The protected header of every token the ring signs: PyJWT's {"alg","typ":"JWT"} (simplejwt's),
 * and the signing key's `kid` when it has one, so a JWKS client (the origin's JWK_URL) finds it.
 */
export function jwsHeader(ring: KeyRing): { alg: JwsAlgorithm; typ: "JWT"; kid?: string } {
  let header = headers.get(ring);
  if (header === undefined) {
    header = { alg: ring.algorithm, typ: "JWT" };
    if (ring.signing.kid !== undefined) header.kid = ring.signing.kid;
    headers.set(ring, header);
  }
  return header;
}

const HASHES: Record<HmacAlgorithm, string> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };

/** An HMAC ring over secrets, the current first. */
export async function hmacRing(algorithm: HmacAlgorithm, secrets: readonly Uint8Array[]): Promise<KeyRing> {
  const keys = await Promise.all(
    secrets.map((bytes) =>
      crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: HASHES[algorithm] }, false, ["sign", "verify"]),
    ),
  );
  const verifying = keys.map((key) => ({ key, kid: undefined }));
  return { algorithm, signing: verifying[0]!, verifying };
}

// Domain separation: the derivation key is HMAC(secret, label), never the signing key.
const DERIVATION_LABEL = new TextEncoder().encode("org-token-edge derivation key v1");

/** Each secret's derivation key, in the secrets' order. */
export async function derivationKeys(secrets: readonly Uint8Array[]): Promise<HmacPads[]> {
  const { verifying } = await hmacRing("HS256", secrets);
  return Promise.all(
    verifying.map(async ({ key }) => hmacPads(new Uint8Array(await crypto.subtle.sign("HMAC", key, DERIVATION_LABEL)))),
  );
}
