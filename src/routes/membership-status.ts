/** GET /api/membership_status/<org_name>/: is the bearer of this access token an active member? */
import type { Context } from "hono";
import { fail } from "../errors";
import { noteRequest } from "../log";
import { verifiedAccessToken } from "../policy/access-token";
import { liveSessionStanding } from "../policy/ended-sessions";
import { requireMember } from "../policy/membership";
import type { AppEnv } from "../types";

export async function membershipStatus(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const orgName = c.req.param("org_name") ?? "";
  const claims = await verifiedAccessToken(c.req.header("Authorization"), config.verificationKeys, clock());
  noteRequest(c, { userId: claims.user_id, org: claims.org_name });
  if (claims.org_name !== orgName) throw fail({ kind: "wrong_organization" });

  // D1's standing and KV's ended sessions, read at once: an ended session's token is invalid.
  const { standing } = (await liveSessionStanding(stores, claims, orgName))!;
  const membership = requireMember(standing, claims.user_name, orgName);
  noteRequest(c, { outcome: membership.active ? "active" : "inactive_member" });
  return c.json(membership);
}
