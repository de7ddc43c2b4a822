/**
 * Ended sessions in KV, one key per family, user and organization (./ended-keys.ts), each
 * expiring when the last token it covers expires. A check is one bulk get of the token's two
 * or three keys, read with CACHE_TTL: an ended session's access token is refused everywhere
 * within KV's propagation (about 60 s) plus that. KV unreadable: the check answers "not
 * ended" and logs it; D1 stays the authority, and membership status and the guard's
 * active-member check read sessions_revoked_at and the family's end there.
 * Writes run after the response; a failed one is logged and changes no answer given.
 */
import { log } from "../../log";
import type { EndedSessions, SessionOf } from "../ended-sessions";
import { expirationTtl, familyKey, orgKey, revokedAtOf, userKey } from "./ended-keys";

/** Seconds a colo keeps a read, absent keys included: KV's minimum, so the bound is about 90 s. */
export const CACHE_TTL = 30;

export class KvEndedSessions implements EndedSessions {
  constructor(private readonly kv: KVNamespace) {}

  async ended(token: SessionOf): Promise<boolean> {
    const ends = [userKey(token.userId)];
    if (token.orgName !== undefined) ends.push(orgKey(token.orgName));
    const family = token.family === undefined ? undefined : familyKey(token.family);
    let found: Map<string, string | null>;
    try {
      found = await this.kv.get(family === undefined ? ends : [...ends, family], { type: "text", cacheTtl: CACHE_TTL });
    } catch (error) {
      log("error", "ended_sessions_unreadable", { error: String(error) });
      return false;
    }
    if (family !== undefined && found.get(family) != null) return true;
    return ends.some((key) => {
      const at = revokedAtOf(found.get(key));
      return at !== undefined && token.issuedAtMs <= at;
    });
  }

  endFamily(family: string, lastExpiresAt: number, nowMs: number): Promise<void> {
    return this.put([[familyKey(family), "1"]], lastExpiresAt, nowMs);
  }

  endUsers(userIds: readonly number[], revokedAtMs: number, lastExpiresAt: number, nowMs: number): Promise<void> {
    return this.put(
      userIds.map((id) => [userKey(id), String(revokedAtMs)]),
      lastExpiresAt,
      nowMs,
    );
  }

  endOrganization(orgName: string, revokedAtMs: number, lastExpiresAt: number, nowMs: number): Promise<void> {
    return this.put([[orgKey(orgName), String(revokedAtMs)]], lastExpiresAt, nowMs);
  }

  private async put(entries: [string, string][], lastExpiresAt: number, nowMs: number): Promise<void> {
    // Relative to the request's clock, so KV's own clock (or a test's) cannot put it in the past.
    const ttl = expirationTtl(lastExpiresAt, nowMs);
    const results = await Promise.allSettled(
      entries.map(([key, value]) => this.kv.put(key, value, { expirationTtl: ttl })),
    );
    for (const [i, result] of results.entries()) {
      if (result.status === "rejected") {
        log("error", "ended_sessions_write_failed", { key: entries[i]![0], error: String(result.reason) });
      }
    }
  }
}
