/** The claims simplejwt writes, in its order, plus our family claim (simplejwt ignores it). */
export type TokenType = "access" | "refresh";

export interface Subject {
  userId: number;
  userName: string;
  orgName: string;
}

export interface TokenClaims {
  token_type: TokenType;
  exp: number;
  iat: number;
  jti: string;
  user_id: number;
  org_name: string;
  user_name: string;
  /** Ours, on both types: the jti of the refresh token that started this login's family. */
  fam?: string;
  /**
   * Ours, on both types: the issue time in unix milliseconds (iat is whole seconds), so a
   * session ended in the same second as a login is told from one started after the end.
   */
  iat_ms?: number;
}

const JTI = /^[0-9a-f]{32}$/;

/** The family a refresh token belongs to; a Django-issued token starts its own. */
export function familyOf(claims: TokenClaims): string {
  return claims.fam ?? claims.jti;
}

export function subjectOf(claims: TokenClaims): Subject {
  return { userId: claims.user_id, userName: claims.user_name, orgName: claims.org_name };
}

/**
 * The earliest moment (unix ms) the token can have been issued: its iat_ms, else the start of
 * its iat second. A session end at `revokedAtMs` refuses every token with this at or before it.
 */
export function issuedAtMs(claims: Pick<TokenClaims, "iat" | "iat_ms">): number {
  return claims.iat_ms ?? claims.iat * 1000;
}

/** Narrow a verified payload to our claims, or undefined when anything is missing or mistyped. */
export function parseClaims(payload: Record<string, unknown>, type: TokenType): TokenClaims | undefined {
  const { token_type, exp, iat, jti, user_id, org_name, user_name, fam, iat_ms } = payload;
  if (token_type !== type) return undefined;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return undefined;
  if (typeof iat !== "number" || !Number.isFinite(iat)) return undefined;
  if (typeof jti !== "string" || jti === "") return undefined;
  if (typeof user_id !== "number" || !Number.isSafeInteger(user_id)) return undefined;
  if (typeof org_name !== "string" || typeof user_name !== "string") return undefined;
  if (fam !== undefined && (typeof fam !== "string" || !JTI.test(fam))) return undefined;
  // A finer clock that disagrees with iat is no clock: the token is malformed.
  if (
    iat_ms !== undefined &&
    (typeof iat_ms !== "number" || !Number.isSafeInteger(iat_ms) || Math.floor(iat_ms / 1000) !== iat)
  )
    return undefined;
  const claims: TokenClaims = { token_type: type, exp, iat, jti, user_id, org_name, user_name };
  if (fam !== undefined) claims.fam = fam;
  if (iat_ms !== undefined) claims.iat_ms = iat_ms;
  return claims;
}
