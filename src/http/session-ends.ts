/**
 * Ended sessions, as a request meets them: the access-token checks (D1's sessions_revoked_at
 * and the KV blacklist, read side by side), the answer to a refresh token found on the
 * blacklist (its family ended on reuse), and the writes to the edge's blacklist, after the
 * response. The rules they apply are src/policy/ended-sessions.ts and src/policy/blacklisted.ts.
 */
import type { Context } from "hono";
import { fail, type Problem } from "../errors";
import { log, noteRequest } from "../log";
import { lastAccessExpiry, sessionOf } from "../policy/ended-sessions";
import type { Stores } from "../storage";
import type { TokenSession, TokenStanding, UserRef, UserState } from "../storage/members";
import type { Verdict } from "../storage/revocations";
import type { TokenClaims } from "../tokens/claims";
import type { AppEnv } from "../types";

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

/** A simplejwt access token's session (src/http/require-simplejwt-token.ts): its user, its family when it carries `fam`. */
export interface UserSession extends TokenSession {
  user: UserRef;
}

/**
 * The user (users_user by id or by its synced USER_ID_FIELD value, is_active) and whether the
 * session ended, read from D1 (the user's sessions_revoked_at, the family's end) and the KV
 * blacklist, as liveSessionStanding reads them for org tokens; the answer is the caller's to
 * give. By id, D1 and KV are read at once; by another field, KV after D1 has named the user's id.
 */
export async function liveUserSession(
  stores: Stores,
  session: UserSession,
): Promise<{ ended: boolean; user: UserState; userId: number | undefined }> {
  const kv = (userId: number) => stores.endedSessions.ended({ ...session, userId });
  const { user } = session;
  if ("id" in user) {
    const [standing, ended] = await Promise.all([stores.members.userSession(user, session), kv(user.id)]);
    return { ended: ended || standing.sessionsRevoked, user: standing.user, userId: standing.userId };
  }
  const standing = await stores.members.userSession(user, session);
  const ended = standing.sessionsRevoked || (standing.userId !== undefined && (await kv(standing.userId)));
  return { ended, user: standing.user, userId: standing.userId };
}

/**
 * The contract's blacklisted 403 (or the route's `refusal`); the family was revoked in the
 * same batch if this was reuse, and then its access tokens are refused at the edge too
 * (written to KV after the response).
 */
export function refuseBlacklisted(
  c: Context<AppEnv>,
  verdict: Verdict,
  claims: TokenClaims,
  family: string,
  refusal: Problem = { kind: "token_blacklisted" },
): never {
  if (verdict.revokedFamily) {
    log("warn", "refresh_token_reuse", { family, user_id: claims.user_id, org_name: claims.org_name });
    noteRequest(c, { outcome: "reuse_detected" });
    endFamilyAtEdge(c, family);
  }
  throw fail(refusal);
}

/** After the response: the family's access tokens refused by membership status and the guard. */
export function endFamilyAtEdge(c: Context<AppEnv>, family: string): void {
  const { config, clock, stores, background } = c.var;
  background(stores.endedSessions.endFamily(family, lastAccessExpiry(config, clock()), clock()));
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
    const lastExpiresAt = lastAccessExpiry(config, revokedAtMs);
    background(stores.endedSessions.endUsers(ids, revokedAtMs, lastExpiresAt, clock()));
  }
}
