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
  orgName: string;
  /** The token's iat (seconds). */
  issuedAt: number;
}

export interface EndedSessions {
  /** Whether the token's session ended: its family, or every session of its user or organization before its iat. */
  ended(token: SessionOf): Promise<boolean>;
  /** One family (logout, reuse detection), until `lastExpiresAt` (seconds): the last of its tokens' exp. */
  endFamily(family: string, lastExpiresAt: number, nowMs: number): Promise<void>;
  /** Every session of these users whose tokens were issued before `revokedBefore` (seconds). */
  endUsers(userIds: readonly number[], revokedBefore: number, lastExpiresAt: number, nowMs: number): Promise<void>;
  /** Every session of an organization issued before `revokedBefore` (seconds). */
  endOrganization(orgName: string, revokedBefore: number, lastExpiresAt: number, nowMs: number): Promise<void>;
}
