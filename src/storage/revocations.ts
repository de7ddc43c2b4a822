/**
 * The blacklist of refresh tokens: the interface refresh and logout decide through (D1's
 * is in ./d1/revocations.ts). One call per request, and it answers everything the route
 * needs: whether this call consumed the token, what was known of it before (already
 * rotated, logged out, family revoked), the user's standing, and whether the call revoked
 * the token's family as reuse. An implementation does all of it in one transaction, so the
 * answers agree with each other and the decision costs one round trip.
 */
import type { Standing, UserRef, UserState } from "./members";

export type Revocation =
  | { kind: "rotated"; usedAtMs: number } // redeemed by a refresh at usedAtMs
  | { kind: "logged_out" }
  | { kind: "family_revoked" } // a consumed token of its family was presented again after its successor's use
  | { kind: "sessions_revoked" }; // issued at or before its user's or organization's sessions_revoked_at

/** A verified refresh token, as the blacklist knows it. */
export interface PresentedToken {
  jti: string;
  family: string;
  userId: number;
  orgName: string;
  /** The token's own exp (seconds): the ledger need not remember it longer. */
  expiresAt: number;
  /** When it was issued (unix ms, claims.ts issuedAtMs): refused at or before its user's or organization's sessions_revoked_at. */
  issuedAtMs: number;
  /** The jti of the refresh token its rotation signs (deterministic, src/tokens/issue.ts). */
  successorJti: string;
}

export interface Attempt {
  /** Now: the successor pair's issue time if this call wins. */
  usedAtMs: number;
  /**
   * When a token found already rotated is reuse, its family revoked in the same transaction:
   * "successor_used", only once the successor it was rotated into was itself used (rotated or
   * logged out), else it is a lost race or a lost response and ends nothing; "always": any
   * rotated token presented (logout, which asks to end the session anyway).
   */
  reuse: "successor_used" | "always";
  /** Until when (unix seconds) a revocation of the family must last. */
  familyExpiresAt: number;
}

export interface Verdict {
  /** This call wrote the ledger row: the token is consumed (or logged out) by it, once. */
  won: boolean;
  /** What the blacklist held before this call, if anything. */
  revocation: Revocation | undefined;
  /** This call revoked (or extended) the family's revocation: the token was reused. */
  revokedFamily: boolean;
  /** The successor of the presented token is in the ledger (rotated or logged out). */
  successorUsed: boolean;
  standing: Standing;
}

/**
 * A verified refresh token of simplejwt's views (src/routes/simplejwt/): no organization,
 * and a user only when its user id claim names one the edge can key (an integer id).
 */
export interface PresentedUserToken {
  jti: string;
  family: string;
  /** The user its user id claim names (converted as Django's lookup would); undefined: none it could. */
  user: UserRef | undefined;
  /** The token's own exp (seconds, rounded up). */
  expiresAt: number;
  /** When it was issued (unix ms): refused at or before its user's sessions_revoked_at. */
  issuedAtMs: number;
  /** The jti of the refresh token its rotation signs (deterministic, src/tokens/issue.ts). */
  successorJti: string;
}

export interface UserVerdict {
  /** This call wrote the ledger row (rotated or logged out), once. */
  won: boolean;
  /** What the blacklist held before this call: its ledger row, its family's revocation, its user's sessions_revoked_at. */
  revocation: Revocation | undefined;
  revokedFamily: boolean;
  successorUsed: boolean;
  /** The token's user; "missing" too when the token names none. */
  user: UserState;
}

export interface UserAttempt extends Attempt {
  /** simplejwt 5.4+: the token is consumed only for an existing, active user. */
  requireActiveUser: boolean;
}

export interface Revocations {
  /**
   * Consume a refresh token exactly once, if it is not blacklisted and its user is an
   * active member of its organization (an inactive member's token is left usable).
   */
  redeem(token: PresentedToken, attempt: Attempt): Promise<Verdict>;
  /** Blacklist a token by logout, whatever the membership, with the same exactly-once answer. */
  logout(token: PresentedToken, attempt: Attempt): Promise<Verdict>;
  /** simplejwt's refresh without a spending rotation: what the blacklist and D1 know of the token, nothing written. */
  userTokenState(token: PresentedUserToken): Promise<UserVerdict>;
  /** simplejwt's refresh with BLACKLIST_AFTER_ROTATION: consume the token exactly once, in one batch. */
  rotateUserToken(token: PresentedUserToken, attempt: UserAttempt): Promise<UserVerdict>;
  /** simplejwt's blacklist view: the ledger's 'logout' row, exactly once, in one batch. */
  logoutUserToken(token: PresentedUserToken, attempt: Attempt): Promise<UserVerdict>;
  /** Whether a jti has a ledger row (rotated or logged out): simplejwt's BlacklistedToken. */
  inLedger(jti: string): Promise<boolean>;
  /** Delete ledger and family rows whose tokens have all expired. */
  purgeExpired(nowMs: number): Promise<{ tokens: number; families: number }>;
}
