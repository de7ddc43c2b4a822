/** POST /api/token/blacklist/: log out by blacklisting a refresh token, whatever the membership. */
import type { Context } from "hono";
import { noteRequest } from "../log";
import { endFamilyAtEdge, familyExpiresAt, refuseBlacklisted, reuseRule } from "../policy/blacklisted";
import { presentedRefreshToken } from "../policy/presented-token";
import type { AppEnv } from "../types";

export async function logout(c: Context<AppEnv>) {
  const { config, stores } = c.var;
  const { claims, family, token, now } = await presentedRefreshToken(c);

  // One round trip, as refresh: the blacklist, the standing and the logout write in one batch.
  const verdict = await stores.revocations.logout(token, {
    usedAtMs: now,
    reuse: reuseRule("logout"),
    familyExpiresAt: familyExpiresAt(claims, now, config),
  });
  if (verdict.revocation !== undefined) refuseBlacklisted(c, verdict, claims, family);
  // The session ends at the edge too: its access tokens are refused (KV, after the response).
  endFamilyAtEdge(c, family);
  noteRequest(c, { outcome: "logged_out" });
  return c.json(verdict.standing.kind === "inactive_member" ? { active: false } : {});
}
