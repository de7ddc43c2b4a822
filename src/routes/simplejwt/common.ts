/**
 * What simplejwt's four views share (TokenViewBase): their configuration, the 401s with
 * `<first AUTH_HEADER_TYPES> realm="api"`, the presented token decoded and checked in
 * simplejwt's order, and the token as the ledger knows it.
 */
import type { Context } from "hono";
import type { SimpleJwtConfig } from "../../config";
import { fail } from "../../errors";
import { endFamilyAtEdge } from "../../http/session-ends";
import { log, noteRequest } from "../../log";
import { ConfigError } from "../../settings";
import type { PresentedUserToken, UserVerdict } from "../../storage/revocations";
import { randomJti, successorJtis } from "../../tokens/issue";
import {
  decodeToken,
  familyOfPayload,
  issuedAtMsOf,
  jtiOf,
  type Payload,
  tokenMessage,
  userRefOf,
} from "../../tokens/simplejwt";
import type { AppEnv } from "../../types";

/** The views' settings; a setting the edge cannot honour answers these views (only) with the 500, logged by name. */
export function simpleJwtOf(c: Context<AppEnv>): SimpleJwtConfig {
  const sj = c.var.config.simpleJwt;
  if ("error" in sj) throw new ConfigError(sj.error); // logged and answered by http/problem.ts
  return sj;
}

/** InvalidToken(message): 401 {"detail","code":"token_not_valid"} with the views' WWW-Authenticate. */
export function refuse(sj: SimpleJwtConfig, message: string): never {
  throw fail({ kind: "simplejwt_token_not_valid", message, authenticate: sj.wwwAuthenticate });
}

export interface PresentedRefresh {
  payload: Payload;
  /** Which secret signed it: its successor ids derive under that secret's derivation key. */
  keyIndex: number;
  family: string;
  token: PresentedUserToken;
}

/**
 * RefreshToken(raw), as far as it goes without the blacklist's verdict on a good token:
 * the decode (1), then Token.verify's exp, id and type (3-6). The blacklist (2) comes
 * between at the origin, so a token failing 3-6 whose id is in the ledger is "blacklisted".
 * A good token's blacklist verdict is the caller's (it is read in the batch that decides).
 * `successor`: whether its rotation's ids are the deterministic ones (a spending rotation).
 */
export async function presentedRefresh(
  c: Context<AppEnv>,
  sj: SimpleJwtConfig,
  raw: string,
  nowMs: number,
  successor: "derived" | "random",
): Promise<PresentedRefresh & { successorAccessJti: string }> {
  const { config, stores } = c.var;
  const decoded = await decodeToken(raw, sj, nowMs);
  if (!decoded.ok) refuse(sj, decoded.message);
  const { payload, keyIndex } = decoded;
  const message = tokenMessage(payload, sj, "refresh", nowMs);
  if (message !== undefined) {
    // The origin reads the blacklist by the token's id before these checks (without an id it fails: a 500 there).
    if (sj.jtiClaim in payload && (await stores.revocations.inLedger(jtiOf(payload, sj)))) {
      refuse(sj, "Token is blacklisted");
    }
    refuse(sj, message);
  }
  const jti = jtiOf(payload, sj);
  const user = userRefOf(payload[sj.userIdClaim], sj);
  if (user !== undefined && "id" in user) noteRequest(c, { userId: user.id });
  const ids =
    successor === "derived"
      ? successorJtis(config.derivations[keyIndex]!, jti)
      : { access: randomJti(), refresh: randomJti() };
  const family = familyOfPayload(payload, sj);
  return {
    payload,
    keyIndex,
    family,
    successorAccessJti: ids.access,
    token: {
      jti,
      family,
      user,
      expiresAt: Math.ceil(Number(payload.exp)),
      issuedAtMs: issuedAtMsOf(payload),
      successorJti: ids.refresh,
    },
  };
}

/**
 * A token the ledger refuses (rotated, logged out, its family revoked, issued at or before its
 * user's sessions_revoked_at): "Token is blacklisted". If the call revoked the family (reuse),
 * its access tokens are ended at the edge too, after the response.
 */
export function refuseIfBlacklisted(
  c: Context<AppEnv>,
  sj: SimpleJwtConfig,
  verdict: UserVerdict,
  presented: PresentedRefresh,
) {
  if (verdict.revocation === undefined) return;
  if (verdict.revokedFamily) {
    log("warn", "refresh_token_reuse", { family: presented.family, user_id: presented.payload[sj.userIdClaim] });
    noteRequest(c, { outcome: "reuse_detected" });
    endFamilyAtEdge(c, presented.family);
  }
  refuse(sj, "Token is blacklisted");
}
