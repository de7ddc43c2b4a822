/**
 * Ended sessions, as the access-token checks and the routes that end sessions see them:
 * the token's session as the blacklist keys it, the checks (D1's sessions_revoked_at and
 * the KV blacklist, read side by side) and the writes, after the response.
 */
import type { Context } from "hono";
import type { Config } from "../config";
import { fail } from "../errors";
import type { Stores } from "../storage";
import type { TokenStanding } from "../storage/members";
import type { TokenClaims } from "../tokens/claims";
import type { AppEnv } from "../types";

export function sessionOf(claims: TokenClaims) {
  return { family: claims.fam, userId: claims.user_id, orgName: claims.org_name, issuedAt: claims.iat };
}

/** Whether the token's session is on the KV blacklist (an unreadable KV counts as not). */
export function sessionEnded(stores: Stores, claims: TokenClaims): Promise<boolean> {
  return stores.endedSessions.ended(sessionOf(claims));
}

/**
 * The access token's standing read from D1 and the KV blacklist at once (no serial stage);
 * the 403 of an invalid token when its session ended by either. `withStanding` false: KV only.
 */
export async function liveSessionStanding(
  stores: Stores,
  claims: TokenClaims,
  orgName: string,
  withStanding = true,
): Promise<TokenStanding | undefined> {
  const [standing, ended] = await Promise.all([
    withStanding ? stores.members.tokenStanding(claims.user_id, orgName, claims.iat) : undefined,
    sessionEnded(stores, claims),
  ]);
  // simplejwt's InvalidToken for a blacklisted token, which makes a client log in again
  // (its refresh is refused too).
  if (ended || standing?.sessionsRevoked)
    throw fail({ kind: "access_token_not_valid", message: "Token is blacklisted" });
  return standing;
}

/** When the last access token issued before `beforeSeconds` expires (seconds). */
function accessExpiryBefore(config: Config, beforeSeconds: number): number {
  return Math.ceil(beforeSeconds + config.accessLifetime);
}

/**
 * For the origin sync (src/routes/sync.ts): these users' sessions ended at `revokedBefore`
 * (unix seconds, the value written to users_user.sessions_revoked_at), written to the edge
 * blacklist after the response. D1 first: call it once the column is committed.
 */
export function endUserSessionsAtEdge(c: Context<AppEnv>, userIds: readonly number[], revokedBefore: number): void {
  if (userIds.length === 0) return;
  const { config, clock, stores, background } = c.var;
  const lastExpiresAt = accessExpiryBefore(config, revokedBefore);
  background(stores.endedSessions.endUsers(userIds, revokedBefore, lastExpiresAt, clock()));
}
