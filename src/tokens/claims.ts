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
}

const JTI = /^[0-9a-f]{32}$/;

/** The family a refresh token belongs to; a Django-issued token starts its own. */
export function familyOf(claims: TokenClaims): string {
  return claims.fam ?? claims.jti;
}

export function subjectOf(claims: TokenClaims): Subject {
  return { userId: claims.user_id, userName: claims.user_name, orgName: claims.org_name };
}

/** Narrow a verified payload to our claims, or undefined when anything is missing or mistyped. */
export function parseClaims(payload: Record<string, unknown>, type: TokenType): TokenClaims | undefined {
  const { token_type, exp, iat, jti, user_id, org_name, user_name, fam } = payload;
  if (token_type !== type) return undefined;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return undefined;
  if (typeof iat !== "number" || !Number.isFinite(iat)) return undefined;
  if (typeof jti !== "string" || jti === "") return undefined;
  if (typeof user_id !== "number" || !Number.isSafeInteger(user_id)) return undefined;
  if (typeof org_name !== "string" || typeof user_name !== "string") return undefined;
  if (fam !== undefined && (typeof fam !== "string" || !JTI.test(fam))) return undefined;
  const claims: TokenClaims = { token_type: type, exp, iat, jti, user_id, org_name, user_name };
  if (fam !== undefined) claims.fam = fam;
  return claims;
}
