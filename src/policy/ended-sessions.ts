/**
 * Ended sessions as rules over values: a token's session as the blacklist keys it, and how
 * long an entry must outlive the tokens it ends. The reads and writes a request makes of
 * them are src/http/session-ends.ts.
 */
import type { Config } from "../config";
import { issuedAtMs, type TokenClaims } from "../tokens/claims";

export function sessionOf(claims: TokenClaims) {
  return { family: claims.fam, userId: claims.user_id, orgName: claims.org_name, issuedAtMs: issuedAtMs(claims) };
}

/** When the last access token issued at or before `atMs` (unix ms) expires (seconds). */
export function lastAccessExpiry(config: Config, atMs: number): number {
  return Math.ceil(atMs / 1000 + config.accessLifetime);
}
