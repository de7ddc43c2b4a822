/** POST /api/org_token/refresh/: the contract's refresh table, top to bottom. */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { fail } from "../errors";
import { readFields } from "../http/body";
import type { Revocation } from "../storage/revocations";
import { familyOf } from "../tokens/claims";
import { issueSuccessorPair, pairBody } from "../tokens/issue";
import { verifyToken } from "../tokens/verify";
import { answerRevoked } from "./revoked";
import { requireMember } from "./standing";

export async function refresh(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  // The Authorization header is ignored: the Python client sends its expired access token there.
  const { refresh: token } = await readFields(c.req.raw, ["refresh"]);
  const now = clock();

  const claims = await verifyToken(token, "refresh", config.signingKey, now);
  if (claims === undefined) throw fail({ kind: "token_not_valid" });
  const family = familyOf(claims);
  const blacklisted = async (revocation: Revocation) => {
    const presented = { claims, family, nowMs: now, config, revocations: stores.revocations, graceAllowed: true };
    return c.json(pairBody(await answerRevoked(revocation, presented), config));
  };

  // Independent reads, side by side: the blacklist (KV, then a D1 replica) and the membership.
  const [revocation, standing] = await Promise.all([
    stores.revocations.lookup(claims.jti, family),
    stores.members.standing(claims.user_id, claims.org_name),
  ]);
  if (revocation !== undefined) return blacklisted(revocation);

  if (!requireMember(standing, claims.user_name, claims.org_name)) {
    return c.json({ active: false }); // the presented token stays usable
  }

  // Sign first, consume second: a failure before the consuming write leaves the token usable,
  // and once it is consumed nothing can fail before the pair is answered.
  const pair = await issueSuccessorPair(config, claims, family, now);
  const outcome = await stores.revocations.consume({ jti: claims.jti, family, usedAtMs: now, expiresAt: claims.exp });
  if (!outcome.won) return blacklisted(outcome.revocation); // a concurrent refresh won
  return c.json(pairBody(pair, config));
}
