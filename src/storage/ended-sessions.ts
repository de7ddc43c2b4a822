/**
 * The edge blacklist of ended sessions: the interface membership status and the guard read
 * (KV's is in ./kv/ended-sessions.ts). An ended session's access tokens are refused within
 * KV's propagation instead of living out their lifetime. It is no authority: D1 decides
 * every refresh and logout exactly once, and holds sessions_revoked_at; this is a copy,
 * written after the response, that expires once the last token it covers has.
 */

/** What of an access token the blacklist looks at. */
export interface SessionOf {
  /** The token's `fam` claim; a Django-issued token has none. */
  family: string | undefined;
  userId: number;
  /** The token's organization; a simplejwt token names none. */
  orgName?: string;
  /** When the token was issued (unix ms, src/tokens/claims.ts issuedAtMs). */
  issuedAtMs: number;
}

export interface EndedSessions {
  /** Whether the token's session ended: its family, or every session of its user or organization at or after its issue. */
  ended(token: SessionOf): Promise<boolean>;
  /** One family (logout, reuse detection), until `lastExpiresAt` (seconds): the last of its tokens' exp. */
  endFamily(family: string, lastExpiresAt: number, nowMs: number): Promise<void>;
  /** Every session of these users whose tokens were issued at or before `revokedAtMs` (unix ms). */
  endUsers(userIds: readonly number[], revokedAtMs: number, lastExpiresAt: number, nowMs: number): Promise<void>;
  /** Every session of an organization issued at or before `revokedAtMs` (unix ms). */
  endOrganization(orgName: string, revokedAtMs: number, lastExpiresAt: number, nowMs: number): Promise<void>;
}
