/** Who may hold tokens for which organization: the interface (D1's is in ./d1/members.ts). */

import type { SessionOf } from "./ended-sessions";

/** A user as a token of no organization finds them. */
export type UserState = "active" | "inactive" | "missing";

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
  /** The origin's USER_ID_FIELD value when not the integer primary key (users_user.simplejwt_id); null: not synced, or it is the key. */
  simplejwtId: string | null;
  /** The fields the custom claims are written from, as JSON text (users_user.claims); null: none synced. */
  claims: string | null;
  /** The origin keys the user by a UUID (users_user.origin_key): `userId` is the edge's, not the origin's. */
  uuidKeyed: boolean;
}

/**
 * A user as a simplejwt token names one: by the primary key (users_user.id), or by the
 * synced USER_ID_FIELD value in Django's lookup form (users_user.simplejwt_id).
 */
export type UserRef = { id: number } | { key: string };

/** The standing, and whether the token's session ended. */
export interface TokenStanding {
  standing: Standing;
  /**
   * The token was issued at or before its user's or organization's sessions_revoked_at, or
   * its family ended (reuse detected, logged out, an admin's end): D1's own record, so a KV
   * outage weakens nothing but the speed of other reads.
   */
  sessionsRevoked: boolean;
}

/** What of an access token the session checks read: its family, user, organization and issue time. */
export type TokenSession = Pick<SessionOf, "family" | "issuedAtMs">;

export interface Members {
  /** Standing of the user with this id (the token's user_id) in the named organization. */
  standing(userId: number, orgName: string): Promise<Standing>;
  /**
   * The bearer's account, the path's organization and the membership between them, in one
   * read; with whether the token's session ended (sessions_revoked_at of the user and of the
   * token's organization, the family's end).
   */
  bearerStanding(
    userId: number,
    orgName: string,
    tokenOrgName: string,
    session: TokenSession,
  ): Promise<BearerStanding & { sessionsRevoked: boolean }>;
  /**
   * A user's own standing (a token of no organization: simplejwt's) and whether the session
   * ended, in one read; `userId` the user's id (users_user.id) when there is one.
   */
  userSession(
    user: UserRef,
    session: TokenSession,
  ): Promise<{ user: UserState; userId: number | undefined; sessionsRevoked: boolean }>;
  /** The standing, and whether the token's session ended, in one read. */
  tokenStanding(userId: number, orgName: string, session: TokenSession): Promise<TokenStanding>;
  /** The account a password login names, or undefined when there is none. */
  credentials(userName: string): Promise<Credentials | undefined>;
  /** Replace a user's password hash (the upgrade after a login with an old scheme). */
  setPasswordHash(userId: number, oldHash: string, newHash: string): Promise<void>;
}
