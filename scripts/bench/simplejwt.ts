/**
 * The bench's simplejwt refresh (issue 25): simplejwt's TokenRefreshView at TOKEN_REFRESH_PATH
 * with ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION on, so that each refresh spends its
 * token exactly once through the D1 ledger, as the org-token refresh does. Its tokens are
 * minted as simplejwt writes them (token_type, exp, iat, jti, user_id; no `fam`: each starts
 * its own family, as a token of the origin's does) for the bench's seeded user 1.
 */
import type { loadConfig } from "../../src/config";
import { randomJti } from "../../src/tokens/issue";
import { signPayload } from "../../src/tokens/simplejwt";

export const SJ_REFRESH = "/api/token/refresh/";

/** The Worker's vars for the simplejwt refresh (SIMPLE_JWT_VERSION left at its default). */
export const SJ_VARS = {
  TOKEN_REFRESH_PATH: SJ_REFRESH,
  ROTATE_REFRESH_TOKENS: "true",
  BLACKLIST_AFTER_ROTATION: "true",
} as const;

/** The seeded active user (scripts/bench/worker.ts's /__bench/seed: users_user 1, 'bench'). */
export const SJ_USER_ID = 1;

type Config = Awaited<ReturnType<typeof loadConfig>>;

/** A refresh token as simplejwt's RefreshToken.for_user writes it, claims in its order, named by the settings. */
export function mintSimpleJwtRefresh(config: Config, nowMs = Date.now()): Promise<string> {
  const sj = config.simpleJwt;
  if ("error" in sj) throw new Error(`simplejwt settings: ${sj.error}`);
  const iat = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = {};
  payload[sj.tokenTypeClaim] = "refresh";
  payload.exp = iat + config.refreshLifetime;
  payload.iat = iat;
  payload[sj.jtiClaim] = randomJti();
  payload[sj.userIdClaim] = sj.userIdAsString ? String(SJ_USER_ID) : SJ_USER_ID;
  return signPayload(payload, sj);
}
