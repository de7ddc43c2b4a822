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
): Promise<JWTPayload | undefined> {
  for (const key of keys) {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        currentDate: new Date(nowMs),
        clockTolerance: 0,
        requiredClaims: ["exp", "iat", "jti"],
      });
      return payload;
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

/** The token's claims when one of `keys` signed it and it is a valid `type` token now; else undefined. */
export async function verifyToken(
  token: string,
  type: TokenType,
  keys: CryptoKey | readonly CryptoKey[],
  nowMs: number,
): Promise<TokenClaims | undefined> {
  const payload = await verifiedPayload(token, Array.isArray(keys) ? keys : [keys as CryptoKey], nowMs);
  // Outside any catch: a fault in parsing claims is a server error, not a client's bad token.
  return payload === undefined ? undefined : parseClaims(payload as Record<string, unknown>, type);
}
