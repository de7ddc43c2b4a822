/**
 * What a refresh token found on the blacklist gets: the one place that decides between the
 * retry grace (the same successor pair again), a lost race (refused, family kept) and reuse
 * detection (refused, family revoked: RFC 9700 4.14.2).
 */
import type { Context } from "hono";
import type { Config } from "../config";
import { fail, type Problem } from "../errors";
import { log, noteRequest } from "../log";
import type { Revocation, Verdict } from "../storage/revocations";
import type { TokenClaims } from "../tokens/claims";
import type { AppEnv } from "../types";

/**
 * The latest rotation time (ms) at which a rotated token presented now is reuse. Later
 * rotations are a retry within REFRESH_REUSE_INTERVAL or a concurrent refresh that lost the
 * race within REFRESH_RACE_WINDOW (two tabs, a double submit, a client without a lock; a
 * clock that read earlier than the winner's included). Logout has neither: a rotated token
 * presented to log out always revokes the family, which ends the session it asked to end.
 */
export function reuseIfRotatedBy(config: Config, nowMs: number, route: "refresh" | "logout"): number {
  const window = route === "refresh" ? Math.max(config.reuseInterval, config.raceWindow) : 0;
  return window > 0 ? nowMs - window * 1000 : Number.MAX_SAFE_INTEGER;
}

/** The latest time (s) any token of the family may expire: the later of this one's and a rotation now. */
export function familyExpiresAt(claims: TokenClaims, nowMs: number, config: Config): number {
  return Math.max(claims.exp, Math.ceil(nowMs / 1000 + config.refreshLifetime));
}

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
 * The contract's blacklisted 403 (or the route's `refusal`); the family was revoked in the
 * same batch if this was reuse.
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
  }
  throw fail(refusal);
}
