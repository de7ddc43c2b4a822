/**
 * What a refresh token found on the blacklist gets: the one place that decides between
 * the retry grace (the same successor pair again) and reuse detection (RFC 9700 4.14.2).
 */
import type { Config } from "../config";
import { fail } from "../errors";
import type { TokenClaims } from "../tokens/claims";
import { issueSuccessorPair, type TokenPair } from "../tokens/issue";
import type { Revocation, Revocations } from "../storage/revocations";

export interface Presented {
  claims: TokenClaims;
  family: string;
  nowMs: number;
  config: Config;
  revocations: Revocations;
  /** Refresh may hand out the successor again; logout has nothing to hand out. */
  graceAllowed: boolean;
}

/** The successor pair again when a rotation is retried within the reuse interval; else throws. */
export async function answerRevoked(revocation: Revocation, presented: Presented): Promise<TokenPair> {
  const { claims, family, nowMs, config, revocations, graceAllowed } = presented;
  if (revocation.kind === "rotated") {
    if (graceAllowed && nowMs < revocation.usedAtMs + config.reuseInterval * 1000) {
      return issueSuccessorPair(config, claims, family, revocation.usedAtMs);
    }
    // A consumed token came back: the thief or the victim holds a copy. Stop them both.
    await revocations.revokeFamily(family, nowMs, Math.ceil(nowMs / 1000 + config.refreshLifetime));
    console.warn(JSON.stringify({ event: "refresh_token_reuse", family, user_id: claims.user_id, org_name: claims.org_name }));
  }
  throw fail({ kind: "token_blacklisted" });
}
