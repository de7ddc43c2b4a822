/** POST /api/org_token/refresh/: the contract's refresh table, top to bottom. */
import type { Context } from "hono";
import { presentedRefreshToken } from "../http/presented-token";
import { refuseBlacklisted } from "../http/session-ends";
import { noteRequest } from "../log";
import { familyExpiresAt, retriedRotation, reuseRule } from "../policy/blacklisted";
import { requireMember } from "../policy/membership";
import { issueSuccessorPair, pairBody } from "../tokens/issue";
import type { AppEnv } from "../types";

export async function refresh(c: Context<AppEnv>) {
  const { config, stores } = c.var;
  // The Authorization header is ignored: the Python client sends its expired access token there.
  const { claims, family, token, now, derivation, successor } = await presentedRefreshToken(c);

  // Sign and render first, consume second: whatever can fail (signing, dates, formats)
  // fails before the consuming write and leaves the token usable; once consumed, the
  // answer is ready.
  const body = pairBody(await issueSuccessorPair(config, claims, family, now, derivation, successor), config);

  // One round trip: the primary reads the blacklist (the token's and its successor's rows)
  // and the standing and, in the same transaction, consumes the token only if both allow it.
  // A rotation writes nothing to KV.
  const verdict = await stores.revocations.redeem(token, {
    usedAtMs: now,
    reuse: reuseRule("refresh"),
    familyExpiresAt: familyExpiresAt(claims.exp, now, config.refreshLifetime),
  });

  // The contract's order: blacklisted, then the membership rows, then the pair.
  if (verdict.revocation !== undefined) {
    // A retry within the reuse interval gets its successor pair again (to a member still
    // active), while the successor is unused; else the blacklisted 403, which revoked the
    // family only if the successor was used.
    const rotatedAt = verdict.successorUsed ? undefined : retriedRotation(verdict.revocation, now, config);
    if (rotatedAt === undefined || verdict.revokedFamily) refuseBlacklisted(c, verdict, claims, family);
    if (!requireMember(verdict.standing, claims.user_name, claims.org_name).active) return inactive(c);
    noteRequest(c, { outcome: "retried" });
    return c.json(pairBody(await issueSuccessorPair(config, claims, family, rotatedAt, derivation, successor), config));
  }
  if (!requireMember(verdict.standing, claims.user_name, claims.org_name).active) {
    return inactive(c); // not consumed: the presented token stays usable
  }
  noteRequest(c, { outcome: "rotated" });
  return c.json(body);
}

function inactive(c: Context<AppEnv>) {
  noteRequest(c, { outcome: "inactive_member" });
  return c.json({ active: false });
}
