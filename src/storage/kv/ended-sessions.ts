/**
 * Ended sessions in KV. One key per family, user and organization:
 *
 *   ended:family:<fam>  "1"            the family's tokens are all refused
 *   ended:user:<id>     "<seconds>"    the user's tokens issued before it are refused
 *   ended:org:<name>    "<seconds>"    the organization's tokens issued before it are refused
 *
 * each expiring when the last token it covers expires (never under KV's 60 s minimum). A
 * check is one bulk get of the token's two or three keys, read with CACHE_TTL: an ended
 * session's access token is refused everywhere within KV's propagation (about 60 s) plus
 * that. KV unreadable: the check answers "not ended" and logs it (D1 stays the authority,
 * and membership status and the guard's active-member check read sessions_revoked_at there).
 * Writes run after the response; a failed one is logged and changes no answer given.
 */
import { log } from "../../log";
import type { EndedSessions, SessionOf } from "../ended-sessions";

/** Seconds a colo keeps a read, absent keys included: KV's minimum, so the bound is about 90 s. */
export const CACHE_TTL = 30;
/** KV's minimum expiration, seconds ahead. */
const MIN_AHEAD = 60;

export const familyKey = (family: string) => `ended:family:${family}`;
export const userKey = (userId: number) => `ended:user:${userId}`;
export const orgKey = (orgName: string) => `ended:org:${orgName}`;

/** A revocation time stored as text; anything else reads as none. */
function seconds(value: string | null | undefined): number {
  const parsed = Number(value ?? "");
  return Number.isFinite(parsed) ? parsed : 0;
}

export class KvEndedSessions implements EndedSessions {
  constructor(private readonly kv: KVNamespace) {}

  async ended(token: SessionOf): Promise<boolean> {
    const keys = [userKey(token.userId), orgKey(token.orgName)];
    if (token.family !== undefined) keys.push(familyKey(token.family));
    let found: Map<string, string | null>;
    try {
      found = await this.kv.get(keys, { type: "text", cacheTtl: CACHE_TTL });
    } catch (error) {
      log("error", "ended_sessions_unreadable", { error: String(error) });
      return false;
    }
    if (token.family !== undefined && found.get(familyKey(token.family)) != null) return true;
    const revokedBefore = Math.max(seconds(found.get(keys[0]!)), seconds(found.get(keys[1]!)));
    return token.issuedAt < revokedBefore;
  }

  endFamily(family: string, lastExpiresAt: number, nowMs: number): Promise<void> {
    return this.put([[familyKey(family), "1"]], lastExpiresAt, nowMs);
  }

  endUsers(userIds: readonly number[], revokedBefore: number, lastExpiresAt: number, nowMs: number): Promise<void> {
    return this.put(
      userIds.map((id) => [userKey(id), String(revokedBefore)]),
      lastExpiresAt,
      nowMs,
    );
  }

  endOrganization(orgName: string, revokedBefore: number, lastExpiresAt: number, nowMs: number): Promise<void> {
    return this.put([[orgKey(orgName), String(revokedBefore)]], lastExpiresAt, nowMs);
  }

  private async put(entries: [string, string][], lastExpiresAt: number, nowMs: number): Promise<void> {
    // Relative to the request's clock, so KV's own clock (or a test's) cannot put it in the past.
    const expirationTtl = Math.max(Math.ceil(lastExpiresAt - nowMs / 1000), MIN_AHEAD);
    const results = await Promise.allSettled(entries.map(([key, value]) => this.kv.put(key, value, { expirationTtl })));
    for (const [i, result] of results.entries()) {
      if (result.status === "rejected") {
        log("error", "ended_sessions_write_failed", { key: entries[i]![0], error: String(result.reason) });
      }
    }
  }
}
