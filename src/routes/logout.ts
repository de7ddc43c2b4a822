/**
 * POST /api/token/blacklist/: log out by blacklisting a refresh token, whatever the
 * membership. The origin serves it with simplejwt's own TokenBlacklistView: `200 {}` for
 * any verified token, and InvalidToken(<reason>) as 401 with its WWW-Authenticate header.
 */
import type { Context } from "hono";
import type { DecodeMessages } from "../config";
import type { Problem } from "../errors";
import { presentedRefreshToken } from "../http/presented-token";
import { endFamilyAtEdge, refuseBlacklisted } from "../http/session-ends";
import { noteRequest } from "../log";
import { familyExpiresAt, reuseRule } from "../policy/blacklisted";
import type { TokenRejection } from "../tokens/verify";
import type { AppEnv } from "../types";

// The view reads no user: a token without user_id is logged out there; the edge's ledger needs
// one, and refuses it as a token it cannot decode, in the origin's version's words.
const refusal =
  (messages: DecodeMessages) =>
  (reason: TokenRejection): Problem => ({
    kind: "token_view_rejected",
    message:
      reason !== "Token contained no recognizable user identification"
        ? reason
        : messages === "joined"
          ? "Token is invalid or expired"
          : "Token is invalid",
  });

export async function logout(c: Context<AppEnv>) {
  const { config, stores } = c.var;
  const { claims, family, token, now } = await presentedRefreshToken(c, refusal(config.decodeMessages));

  // One round trip, as refresh: the blacklist, the standing and the logout write in one batch.
  const verdict = await stores.revocations.logout(token, {
    usedAtMs: now,
    reuse: reuseRule("logout"),
    familyExpiresAt: familyExpiresAt(claims.exp, now, config.refreshLifetime),
  });
  if (verdict.revocation !== undefined) {
    refuseBlacklisted(c, verdict, claims, family, refusal(config.decodeMessages)("Token is blacklisted"));
  }
  // The session ends at the edge too: its access tokens are refused (KV, after the response).
  endFamilyAtEdge(c, family);
  noteRequest(c, { outcome: "logged_out" });
  return c.json({});
}
