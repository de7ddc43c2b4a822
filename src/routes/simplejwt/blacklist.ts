/**
 * simplejwt's TokenBlacklistView (serializers.py TokenBlacklistSerializer.validate): the
 * whole RefreshToken pipeline, then the token blacklisted: the ledger's 'logout' row, written
 * exactly once in one D1 batch (as the org-token logout).
 */
import type { Context } from "hono";
import { readFields } from "../../http/body";
import { endFamilyAtEdge } from "../../http/session-ends";
import { noteRequest } from "../../log";
import { familyExpiresAt, reuseRule } from "../../policy/blacklisted";
import type { AppEnv } from "../../types";
import { presentedRefresh, refuseIfBlacklisted, simpleJwtOf } from "./common";

export async function simpleJwtBlacklist(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const sj = simpleJwtOf(c);

  // 1. The field.
  const { refresh: raw } = await readFields(c.req.raw, ["refresh"]);
  const now = clock();

  // 2. RefreshToken(raw): decode, (blacklist), exp, id, type.
  const presented = await presentedRefresh(c, sj, raw, now, "random");

  // 3. blacklist(): the blacklist's verdict and the write in one batch. A rotated token
  // presented here revokes its family (the edge's reuse rule, as the org-token logout).
  const verdict = await stores.revocations.logoutUserToken(presented.token, {
    usedAtMs: now,
    reuse: reuseRule("logout"),
    familyExpiresAt: familyExpiresAt(presented.token.expiresAt, now, config.refreshLifetime),
  });
  refuseIfBlacklisted(c, sj, verdict, presented);
  // The session's access tokens are ended at the edge too (KV, after the response).
  endFamilyAtEdge(c, presented.family);
  noteRequest(c, { outcome: "logged_out" });
  return c.json({});
}
