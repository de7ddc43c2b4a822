/**
 * `requireOrgToken()`: the membership-status checks as Hono middleware for a host's own
 * routes. A bearer access token (ALGORITHM's, type `access`, unexpired), optionally for a given
 * organization and of an active member (read from D1), of a session not ended (the KV
 * blacklist, read beside D1; sessions_revoked_at in D1's read); the verified token then
 * sits on the context under `orgToken`. The header and token are refused with membership
 * status's (simplejwt's) bodies; the organization and membership with the guard's own
 * (docs/contract.md, `requireOrgToken()`).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Clock } from "../clock";
import type { Config } from "../config";
import { fail } from "../errors";
import { verifiedAccessToken } from "../policy/access-token";
import { requireMember } from "../policy/membership";
import type { Stores } from "../storage";
import type { TokenClaims } from "../tokens/claims";
import { problemOf, problemResponse } from "./problem";
import { liveSessionStanding } from "./session-ends";

export interface RequireOrgTokenOptions<E extends object> {
  /** The organization the token must be for: a name, or read from the request (a path parameter). */
  organization?: string | ((c: Context<{ Bindings: E }>) => string | undefined);
  /**
   * Whether the token's user must be an active member of the token's organization, read
   * from D1 on every request (default true). false: the signature, the claims and the
   * KV blacklist of ended sessions only.
   */
  activeMember?: boolean;
}

/** What `requireOrgToken()` puts on the context, as `c.var.orgToken`. */
export interface VerifiedOrgToken {
  userId: number;
  userName: string;
  orgName: string;
  /** Every verified claim (exp, iat, jti, token_type, …). */
  claims: TokenClaims;
}

export interface OrgTokenVariables {
  orgToken: VerifiedOrgToken;
}

/** The request's configuration and stores (the app's one seam); a misconfiguration is already the contract's 500. */
type Prepare<E extends object> = (c: Context<GuardEnv<E>>) => Promise<{ config: Config; stores: Stores }>;
type GuardEnv<E extends object> = { Bindings: E; Variables: OrgTokenVariables };

export function orgTokenGuard<E extends object>(
  prepare: Prepare<E>,
  clock: Clock,
  { organization, activeMember = true }: RequireOrgTokenOptions<E>,
): MiddlewareHandler<GuardEnv<E>> {
  async function verified(c: Context<GuardEnv<E>>): Promise<VerifiedOrgToken> {
    const prepared = await prepare(c);
    const claims = await verifiedAccessToken(
      c.req.header("Authorization"),
      prepared.config.keys,
      clock(),
      prepared.config.decodeMessages,
    );
    const required = typeof organization === "function" ? organization(c as Context) : organization;
    if (required !== undefined && claims.org_name !== required) throw fail({ kind: "wrong_organization" });
    // The KV blacklist of ended sessions always; the standing from D1 beside it, at once.
    const live = await liveSessionStanding(prepared.stores, claims, claims.org_name, activeMember);
    if (live !== undefined && !requireMember(live.standing, claims.user_name, claims.org_name).active) {
      throw fail({ kind: "member_not_active", user: claims.user_name, org: claims.org_name });
    }
    return { userId: claims.user_id, userName: claims.user_name, orgName: claims.org_name, claims };
  }

  return async (c, next) => {
    let token: VerifiedOrgToken;
    try {
      token = await verified(c);
    } catch (error) {
      const problem = problemOf(error);
      if (problem !== undefined) return problemResponse(c, problem);
      throw error;
    }
    c.set("orgToken", token);
    await next();
  };
}
