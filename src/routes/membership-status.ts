/**
 * GET /api/membership_status/<org_name>/: is the bearer of this access token an active
 * member? In the origin's order: simplejwt's authentication (the header, the token, the
 * user by id), then ps-web's view (`get_token_org_active_membership`): the organization in
 * the path, the header read again, the membership, and only then the token's organization.
 */
import type { Context } from "hono";
import { fail } from "../errors";
import { sessionEnded } from "../http/session-ends";
import { noteRequest } from "../log";
import { bearerToken, verifiedAccessToken } from "../policy/access-token";
import { sessionOf } from "../policy/ended-sessions";
import type { AppEnv } from "../types";

export async function membershipStatus(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const orgName = c.req.param("org_name") ?? "";
  const authorization = c.req.header("Authorization");
  const claims = await verifiedAccessToken(authorization, config.keys, clock(), config.decodeMessages);
  noteRequest(c, { userId: claims.user_id });

  // D1's standing (sessions_revoked_at beside it) and KV's ended sessions, read at once.
  const [standing, ended] = await Promise.all([
    stores.members.bearerStanding(claims.user_id, orgName, claims.org_name, sessionOf(claims)),
    sessionEnded(stores, claims),
  ]);
  // As JWTAuthentication would refuse a blacklisted token, before the user is looked at.
  if (ended || standing.sessionsRevoked)
    throw fail({ kind: "access_token_not_valid", message: "Token is blacklisted" });
  if (standing.kind === "no_user") throw fail({ kind: "user_not_found" });
  if (standing.kind === "user_inactive") throw fail({ kind: "user_inactive" });
  if (standing.kind === "no_organization") throw fail({ kind: "status_unknown_org", org: orgName });
  noteRequest(c, { org: orgName });
  // The view decodes `header.split(' ')[1]`: other whitespace than one space finds no token there.
  if (authorization?.split(" ")[1] !== bearerToken(authorization)) throw fail({ kind: "status_invalid_token" });
  if (standing.kind === "not_member") throw fail({ kind: "status_not_member", user: standing.userName, org: orgName });
  if (claims.org_name !== orgName) throw fail({ kind: "status_org_mismatch", tokenOrg: claims.org_name, org: orgName });
  noteRequest(c, { outcome: standing.active ? "active" : "inactive_member" });
  return c.json({ active: standing.active });
}
