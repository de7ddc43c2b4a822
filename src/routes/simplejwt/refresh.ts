/**
 * simplejwt's TokenRefreshView (serializers.py TokenRefreshSerializer.validate), top to
 * bottom in its check order; with ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION the
 * presented token is spent exactly once (the token ledger, one D1 batch).
 */
import type { Context } from "hono";
import { fail } from "../../errors";
import { readFields } from "../../http/body";
import { noteRequest } from "../../log";
import { familyExpiresAt } from "../../policy/blacklisted";
import { accessFrom, rotatedRefresh, signPayload, truthy } from "../../tokens/simplejwt";
import type { AppEnv } from "../../types";
import { presentedRefresh, refuseIfBlacklisted, simpleJwtOf } from "./common";

export async function simpleJwtRefresh(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const sj = simpleJwtOf(c);
  const spend = sj.rotateRefreshTokens && sj.blacklistAfterRotation;

  // 1. The field.
  const { refresh: raw } = await readFields(c.req.raw, ["refresh"]);
  const now = clock();

  // 2. RefreshToken(raw): decode, (blacklist), exp, id, type.
  const presented = await presentedRefresh(c, sj, raw, now, spend ? "derived" : "random");
  const { payload, family, token } = presented;
  // 3. 5.4.0+: a token naming a user (a true user id claim) needs that user, and active.
  const checkUser = sj.refreshChecksUser && truthy(payload[sj.userIdClaim]);

  // 4-5. The access token (before the rotation), then the rotated refresh token: signed before
  // anything is written, so that a consumed token is always answered.
  const access = accessFrom(payload, sj, family, now, config.accessLifetime, presented.successorAccessJti);
  const rotated = sj.rotateRefreshTokens
    ? rotatedRefresh(payload, sj, family, now, config.refreshLifetime, token.successorJti)
    : undefined;
  const [accessToken, refreshToken] = await Promise.all([
    signPayload(access, sj),
    rotated === undefined ? undefined : signPayload(rotated, sj),
  ]);

  // The blacklist (step 2's, and the edge's ended sessions) and the user, read in one round
  // trip; with a spending rotation, the token consumed in the same batch if both allow it.
  const verdict = spend
    ? await stores.revocations.rotateUserToken(token, {
        usedAtMs: now,
        reuse: "successor_used",
        familyExpiresAt: familyExpiresAt(token.expiresAt, now, config.refreshLifetime),
        requireActiveUser: checkUser,
      })
    : await stores.revocations.userTokenState(token);
  refuseIfBlacklisted(c, sj, verdict, presented);
  if (checkUser && verdict.user !== "active") {
    // An inactive user is the origin's 401; a deleted one (or an id no user can have) its 500: the same 401 here.
    throw fail({
      kind: "simplejwt_no_active_account",
      message: "No active account found for the given token.",
      authenticate: sj.wwwAuthenticate,
    });
  }
  if (spend && !verdict.won) throw new Error("ledger insert changed nothing and found nothing");
  noteRequest(c, { outcome: "rotated" });
  return c.json(refreshToken === undefined ? { access: accessToken } : { access: accessToken, refresh: refreshToken });
}
