/** GET /api/membership_status/<org_name>/: is the bearer of this access token an active member? */
import type { Context } from "hono";
import { fail } from "../errors";
import { noteRequest } from "../log";
import { verifiedAccessToken } from "../policy/access-token";
import { requireMember } from "../policy/membership";
import type { AppEnv } from "../types";

export async function membershipStatus(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const orgName = c.req.param("org_name") ?? "";
  const claims = await verifiedAccessToken(c.req.header("Authorization"), config.verificationKeys, clock());
  noteRequest(c, { userId: claims.user_id, org: claims.org_name });
  if (claims.org_name !== orgName) throw fail({ kind: "wrong_organization" });

  const standing = await stores.members.standing(claims.user_id, orgName);
  const membership = requireMember(standing, claims.user_name, orgName);
  noteRequest(c, { outcome: membership.active ? "active" : "inactive_member" });
  return c.json(membership);
}
