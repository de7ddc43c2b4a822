/** The first rows of the refresh and logout tables: the body's refresh token, read from the request and verified. */
import type { Context } from "hono";
import type { HmacPads } from "../crypto/hmac-sha256";
import { fail, type Problem } from "../errors";
import { noteRequest } from "../log";
import type { PresentedToken } from "../storage/revocations";
import { familyOf, issuedAtMs, type TokenClaims } from "../tokens/claims";
import { type SuccessorIds, successorJtis } from "../tokens/issue";
import { checkToken, type TokenRejection } from "../tokens/verify";
import type { AppEnv } from "../types";
import { readFields } from "./body";

export interface PresentedRefresh {
  claims: TokenClaims;
  family: string;
  /** The token as the blacklist knows it. */
  token: PresentedToken;
  /** The derivation key of the secret that signed it (Config.derivations): its successor's ids. */
  derivation: HmacPads;
  /** The request's one reading of the clock. */
  now: number;
  /** The ids its rotation signs (deterministic): derived once, for the blacklist and the pair. */
  successor: SuccessorIds;
}

/** The seed's answer to every invalid refresh token: one body, whatever the reason. */
const seedRefusal = (): Problem => ({ kind: "token_not_valid" });

/**
 * Parse the body, then verify signature, alg, type and expiry before any storage is touched.
 * `refusal` turns simplejwt's reason into the route's answer (the seed's one body by default).
 */
export async function presentedRefreshToken(
  c: Context<AppEnv>,
  refusal: (reason: TokenRejection) => Problem = seedRefusal,
): Promise<PresentedRefresh> {
  const { config, clock } = c.var;
  const { refresh } = await readFields(c.req.raw, ["refresh"]);
  const now = clock();
  const verified = await checkToken(refresh, "refresh", config.keys, now, config.decodeMessages);
  if (!verified.ok) throw fail(refusal(verified.reason));
  const { claims, keyIndex } = verified;
  noteRequest(c, { userId: claims.user_id, org: claims.org_name });
  const family = familyOf(claims);
  const derivation = config.derivations[keyIndex]!;
  const successor = successorJtis(derivation, claims.jti);
  const token: PresentedToken = {
    jti: claims.jti,
    family,
    userId: claims.user_id,
    orgName: claims.org_name,
    expiresAt: claims.exp,
    issuedAtMs: issuedAtMs(claims),
    successorJti: successor.refresh,
  };
  return { claims, family, token, now, derivation, successor };
}
