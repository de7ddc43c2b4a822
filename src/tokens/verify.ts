/**
 * Verification, before anything is looked up: HS256 only, the signature, `exp` with no
 * leeway, then the claims. A token that fails any check is simply not a token of ours.
 *
 * Several keys may verify (the current secret first, then the previous ones of a rotation):
 * a token whose signature fails under one key is tried under the next; any other verdict
 * (expired, wrong alg, malformed) is final, since those do not depend on the key.
 */
import { errors, type JWTPayload, jwtVerify } from "jose";
import { parseClaims, type TokenClaims, type TokenType } from "./claims";

async function verifiedPayload(
  token: string,
  keys: readonly CryptoKey[],
  nowMs: number,
): Promise<{ payload: JWTPayload; keyIndex: number } | undefined> {
  for (const [keyIndex, key] of keys.entries()) {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        currentDate: new Date(nowMs),
        clockTolerance: 0,
        requiredClaims: ["exp", "iat", "jti"],
      });
      return { payload, keyIndex };
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed) continue;
      // jose's typed errors (alg, expiry, malformed) all mean the same to a client. Anything
      // else is a bug or a broken key, and must surface as a 500, never as an invalid token.
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }
  return undefined;
}

/**
 * The token's claims, and which of `keys` signed it, when it is a valid `type` token now;
 * else undefined.
 */
export async function verifyTokenKey(
  token: string,
  type: TokenType,
  keys: readonly CryptoKey[],
  nowMs: number,
): Promise<{ claims: TokenClaims; keyIndex: number } | undefined> {
  const verified = await verifiedPayload(token, keys, nowMs);
  if (verified === undefined) return undefined;
  // Outside any catch: a fault in parsing claims is a server error, not a client's bad token.
  const claims = parseClaims(verified.payload as Record<string, unknown>, type);
  return claims === undefined ? undefined : { claims, keyIndex: verified.keyIndex };
}

/** The token's claims when one of `keys` signed it and it is a valid `type` token now; else undefined. */
export async function verifyToken(
  token: string,
  type: TokenType,
  keys: CryptoKey | readonly CryptoKey[],
  nowMs: number,
): Promise<TokenClaims | undefined> {
  return (await verifyTokenKey(token, type, Array.isArray(keys) ? keys : [keys as CryptoKey], nowMs))?.claims;
}
