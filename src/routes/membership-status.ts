/** GET /api/membership_status/<org_name>/: is the bearer of this access token an active member? */
import type { Context } from "hono";
import { fail } from "../errors";
import { noteRequest } from "../log";
import { requireMember } from "../policy/membership";
import { verifyToken } from "../tokens/verify";
import type { AppEnv } from "../types";

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

export async function membershipStatus(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const orgName = c.req.param("org_name") ?? "";
  const token = bearerToken(c.req.header("Authorization"));
  if (token === undefined) throw fail({ kind: "no_bearer_token" });

  const claims = await verifyToken(token, "access", config.verificationKeys, clock());
  if (claims === undefined) throw fail({ kind: "access_token_not_valid" });
  noteRequest(c, { userId: claims.user_id, org: claims.org_name });
  if (claims.org_name !== orgName) throw fail({ kind: "wrong_organization" });

  const standing = await stores.members.standing(claims.user_id, orgName);
  const membership = requireMember(standing, claims.user_name, orgName);
  noteRequest(c, { outcome: membership.active ? "active" : "inactive_member" });
  return c.json(membership);
}
