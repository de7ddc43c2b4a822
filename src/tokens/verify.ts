/**
 * Verification, before anything is looked up: HS256 only, the signature, `exp` with no
 * leeway, then the claims. A token that fails any check is simply not a token of ours.
 */
import { jwtVerify } from "jose";
import { parseClaims, type TokenClaims, type TokenType } from "./claims";

export async function verifyToken(
  token: string,
  type: TokenType,
  key: CryptoKey,
  nowMs: number,
): Promise<TokenClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      currentDate: new Date(nowMs),
      clockTolerance: 0,
      requiredClaims: ["exp", "iat", "jti"],
    });
    return parseClaims(payload as Record<string, unknown>, type);
  } catch {
    // jose's typed errors (bad signature, alg, expiry, malformed) all mean the same to a client.
    return undefined;
  }
}
