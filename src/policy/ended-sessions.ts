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
import { issuedAtMs, type TokenClaims } from "../tokens/claims";
import type { AppEnv } from "../types";

export function sessionOf(claims: TokenClaims) {
  return { family: claims.fam, userId: claims.user_id, orgName: claims.org_name, issuedAtMs: issuedAtMs(claims) };
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
    withStanding ? stores.members.tokenStanding(claims.user_id, orgName, sessionOf(claims)) : undefined,
    sessionEnded(stores, claims),
  ]);
  // simplejwt's InvalidToken for a blacklisted token, which makes a client log in again
  // (its refresh is refused too).
  if (ended || standing?.sessionsRevoked)
    throw fail({ kind: "access_token_not_valid", message: "Token is blacklisted" });
  return standing;
}

/** When the last access token issued at or before `revokedAtMs` expires (seconds). */
function accessExpiryBefore(config: Config, revokedAtMs: number): number {
  return Math.ceil(revokedAtMs / 1000 + config.accessLifetime);
}

/**
 * For the origin sync (src/routes/sync.ts): these users' sessions ended at `revokedAtMs`
 * (unix ms, the value in users_user.sessions_revoked_at), written to the edge blacklist
 * after the response. D1 first: call it once the column is committed.
 */
export function endUserSessionsAtEdge(c: Context<AppEnv>, ended: readonly { id: number; revokedAtMs: number }[]): void {
  const { config, clock, stores, background } = c.var;
  // Grouped by time: a user whose end a later write (an admin command) set later keeps that one.
  const byTime = new Map<number, number[]>();
  for (const { id, revokedAtMs } of ended) byTime.set(revokedAtMs, [...(byTime.get(revokedAtMs) ?? []), id]);
  for (const [revokedAtMs, ids] of byTime) {
    const lastExpiresAt = accessExpiryBefore(config, revokedAtMs);
    background(stores.endedSessions.endUsers(ids, revokedAtMs, lastExpiresAt, clock()));
  }
}
