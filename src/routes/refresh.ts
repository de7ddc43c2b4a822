/** POST /api/org_token/refresh/: the contract's refresh table, top to bottom. */
import type { Context } from "hono";
import type { AppEnv } from "../types";
import type { Standing } from "../storage/members";
import type { Revocation } from "../storage/revocations";
import type { TokenClaims } from "../tokens/claims";
import { issueSuccessorPair, pairBody } from "../tokens/issue";
import { presentedRefreshToken } from "./presented";
import { refuseRevoked, retriedRotation } from "./revoked";
import { memberIsActive } from "./standing";

export async function refresh(c: Context<AppEnv>) {
  const { config, stores } = c.var;
  // The Authorization header is ignored: the Python client sends its expired access token there.
  const { claims, family, now } = await presentedRefreshToken(c);

  // Independent reads, side by side: the blacklist (KV, then a D1 replica) and the membership.
  const [revocation, standing] = await Promise.all([
    stores.revocations.lookup(claims.jti, family),
    stores.members.standing(claims.user_id, claims.org_name),
  ]);
  if (revocation !== undefined) return blacklisted(c, revocation, claims, family, standing, now);

  if (!memberIsActive(standing, claims.user_name, claims.org_name)) {
    return c.json({ active: false }); // the presented token stays usable
  }

  // Sign first, consume second: a failure before the consuming write leaves the token usable,
  // and once it is consumed nothing can fail before the pair is answered.
  const pair = await issueSuccessorPair(config, claims, family, now);
  const outcome = await stores.revocations.consume({ jti: claims.jti, family, usedAtMs: now, expiresAt: claims.exp });
  if (!outcome.won) return blacklisted(c, outcome.revocation, claims, family, standing, now); // a concurrent refresh won
  return c.json(pairBody(pair, config));
}

/** A retry within the reuse interval gets its successor pair again (to a member still active); else 403. */
async function blacklisted(
  c: Context<AppEnv>,
  revocation: Revocation,
  claims: TokenClaims,
  family: string,
  standing: Standing,
  now: number,
) {
  const { config, stores } = c.var;
  const rotatedAt = retriedRotation(revocation, now, config);
  if (rotatedAt === undefined) return refuseRevoked(revocation, claims, family, now, config, stores.revocations, { raceIsReuse: false });
  if (!memberIsActive(standing, claims.user_name, claims.org_name)) return c.json({ active: false });
  return c.json(pairBody(await issueSuccessorPair(config, claims, family, rotatedAt), config));
}
