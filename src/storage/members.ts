/** Who may hold tokens for which organization: the interface (D1's is in ./d1/members.ts). */

/** A user's standing in an organization, in the order the contract checks it. */
export type Standing =
  | { kind: "no_organization" }
  | { kind: "not_member" }
  | { kind: "user_inactive" }
  | { kind: "inactive_member" }
  | { kind: "active_member" };

/**
 * What membership status reads for a bearer: the user by id first (simplejwt's
 * authentication), then the organization named in the path and the membership in it
 * (ps-web's view). `userName` is the account's, not the token's claim.
 */
export type BearerStanding =
  | { kind: "no_user" }
  | { kind: "user_inactive" }
  | { kind: "no_organization" }
  | { kind: "not_member"; userName: string }
  | { kind: "member"; userName: string; active: boolean };

export interface Credentials {
  userId: number;
  userName: string;
  passwordHash: string | null;
  userActive: boolean;
}

/** The standing, and whether a token issued at a given time is older than its sessions' revocation. */
export interface TokenStanding {
  standing: Standing;
  /** The token's iat is earlier than its user's or organization's sessions_revoked_at. */
  sessionsRevoked: boolean;
}

export interface Members {
  /** Standing of the user with this id (the token's user_id) in the named organization. */
  standing(userId: number, orgName: string): Promise<Standing>;
  /**
   * The bearer's account, the path's organization and the membership between them, in one
   * read; with sessions_revoked_at of the user and of the token's organization judged
   * against the token's iat (seconds).
   */
  bearerStanding(
    userId: number,
    orgName: string,
    tokenOrgName: string,
    issuedAt: number,
  ): Promise<BearerStanding & { sessionsRevoked: boolean }>;
  /** The same read, and sessions_revoked_at judged against a token's iat (seconds). */
  tokenStanding(userId: number, orgName: string, issuedAt: number): Promise<TokenStanding>;
  /** The account a password login names, or undefined when there is none. */
  credentials(userName: string): Promise<Credentials | undefined>;
  /** Replace a user's password hash (the upgrade after a login with an old scheme). */
  setPasswordHash(userId: number, oldHash: string, newHash: string): Promise<void>;
}
