/** Who may hold tokens for which organization: the interface (D1's is in ./d1/members.ts). */

/** A user's standing in an organization, in the order the contract checks it. */
export type Standing =
  | { kind: "no_organization" }
  | { kind: "not_member" }
  | { kind: "user_inactive" }
  | { kind: "inactive_member" }
  | { kind: "active_member" };

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
  /** The same read, and sessions_revoked_at judged against a token's iat (seconds). */
  tokenStanding(userId: number, orgName: string, issuedAt: number): Promise<TokenStanding>;
  /** The account a password login names, or undefined when there is none. */
  credentials(userName: string): Promise<Credentials | undefined>;
  /** Replace a user's password hash (the upgrade after a login with an old scheme). */
  setPasswordHash(userId: number, oldHash: string, newHash: string): Promise<void>;
}
