/**
 * What a refresh token found on the blacklist gets, as rules over values: the retry grace
 * (the same successor pair again), a replay while its successor is unused (a lost response
 * or a lost race: refused, family kept, however late) and reuse detection once the chain
 * moved on (refused, family revoked: RFC 9700 4.14.2). The refusal itself, and the family's
 * end at the edge, are the request's (src/http/session-ends.ts). docs/exactly-once.md has
 * the table.
 */
import type { Config } from "../config";
import type { Revocation } from "../storage/revocations";

/**
 * When a rotated token presented again revokes its family. At refresh, only once its
 * successor was used: until then nobody but the server has gone on with the chain (a lost
 * response, a duplicated tab, a double submit), and however late the replay comes it ends
 * nothing. At logout, always: a rotated token presented to log out ends the session it
 * asked to end (the successor's holder, honest or not, is logged out with it).
 */
export function reuseRule(route: "refresh" | "logout"): "successor_used" | "always" {
  return route === "refresh" ? "successor_used" : "always";
}

/** The latest time (s) any token of the family may expire: the later of this one's and a rotation now. */
export function familyExpiresAt(exp: number, nowMs: number, refreshLifetime: number): number {
  return Math.max(exp, Math.ceil(nowMs / 1000 + refreshLifetime));
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
