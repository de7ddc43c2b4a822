/** POST /api/token/blacklist/: log out by blacklisting a refresh token, whatever the membership. */
import type { Context } from "hono";
import type { AppEnv } from "../types";
import { presentedRefreshToken } from "./presented";
import { refuseRevoked } from "./revoked";

export async function logout(c: Context<AppEnv>) {
  const { config, stores } = c.var;
  const { claims, family, now } = await presentedRefreshToken(c);

  const [revocation, standing] = await Promise.all([
    stores.revocations.lookup(claims.jti, family),
    stores.members.standing(claims.user_id, claims.org_name),
  ]);
  const entry = { jti: claims.jti, family, usedAtMs: now, expiresAt: claims.exp };
  const outcome = revocation === undefined ? await stores.revocations.logout(entry) : { won: false as const, revocation };
  if (!outcome.won) {
    // Already blacklisted. A rotated token coming back is reuse here too, race or not: a logout
    // asks for the session to end, and revoking the family ends it (logout has no grace).
    await refuseRevoked(outcome.revocation, claims, family, now, config, stores.revocations, { raceIsReuse: true });
  }
  return c.json(standing.kind === "inactive_member" ? { active: false } : {});
}
