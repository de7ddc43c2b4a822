/**
 * What a refresh token found on the blacklist gets: the one place that decides between
 * the retry grace (the same successor pair again) and reuse detection (RFC 9700 4.14.2).
 */
import type { Config } from "../config";
import { fail } from "../errors";
import type { Revocation, Revocations } from "../storage/revocations";
import type { TokenClaims } from "../tokens/claims";

/**
 * When the token was rotated, if presenting it again now is a retry within the reuse
 * interval. A concurrent request whose clock read earlier than the winner's counts as a
 * retry only when there is an interval at all: with 0 (the default) nothing is.
 */
export function retriedRotation(revocation: Revocation, nowMs: number, config: Config): number | undefined {
  if (revocation.kind !== "rotated" || config.reuseInterval <= 0) return undefined;
  return nowMs - revocation.usedAtMs < config.reuseInterval * 1000 ? revocation.usedAtMs : undefined;
}

/**
 * Whether a rotated token presented now is a concurrent refresh that lost the race to
 * rotate it (two tabs, a double submit, a client without a lock) rather than a replay:
 * within REFRESH_RACE_WINDOW seconds of the rotation, a clock that read earlier included.
 */
export function lostRace(revocation: Revocation, nowMs: number, config: Config): boolean {
  if (revocation.kind !== "rotated" || config.raceWindow <= 0) return false;
  return nowMs - revocation.usedAtMs < config.raceWindow * 1000;
}

/**
 * Refuse a blacklisted token. A rotated token coming back is reuse: the thief or the victim
 * holds a copy, so the whole family stops, unless (on refresh) it only lost a race. Logged-out
 * tokens and revoked families just stop.
 */
export async function refuseRevoked(
  revocation: Revocation,
  claims: TokenClaims,
  family: string,
  nowMs: number,
  config: Config,
  revocations: Revocations,
  { raceIsReuse }: { raceIsReuse: boolean },
): Promise<never> {
  if (revocation.kind === "rotated" && (raceIsReuse || !lostRace(revocation, nowMs, config))) {
    // No token of the family outlives the later of this one's exp and a rotation made just now.
    const familyExpiresAt = Math.max(claims.exp, Math.ceil(nowMs / 1000 + config.refreshLifetime));
    const revoked = await revocations.revokeFamily(family, nowMs, familyExpiresAt);
    if (revoked) {
      console.warn(JSON.stringify({ event: "refresh_token_reuse", family, user_id: claims.user_id, org_name: claims.org_name }));
    }
  }
  throw fail({ kind: "token_blacklisted" });
}
