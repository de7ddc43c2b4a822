/**
 * Verification, before anything is looked up: ALGORITHM only (no other alg, whatever the
 * header says), the signature, `exp` with no leeway, then the claims. A token that fails any
 * check is simply not a token of ours.
 *
 * Several keys may verify (the current key first, then the previous ones of a rotation), as
 * src/crypto/keys.ts `verifyWithRing` tries them.
 */
import { errors, type JWTPayload, jwtVerify } from "jose";
import type { DecodeMessages } from "../config";
import { type KeyRing, verifyWithRing } from "../crypto/keys";
import { parseClaims, type TokenClaims, type TokenType } from "./claims";

/**
 * Why a token is refused, in simplejwt's words and order (`rest_framework_simplejwt/tokens.py`
 * `Token.__init__`, `verify`, `verify_token_type`; `authentication.py` `get_user` for the user
 * id): any failure of the decode (signature, alg, expiry, malformed) is the first.
 */
export type TokenRejection =
  | "Token is invalid or expired"
  | "Token is invalid"
  | "Token is expired"
  | "Token has no 'exp' claim"
  | "Token has no id"
  | "Token has no type"
  | "Token has wrong type"
  | "Token is blacklisted"
  /** No `user_id` claim: simplejwt's JWTAuthentication says so after the token's own checks. */
  | "Token contained no recognizable user identification";

export type TokenCheck = { ok: true; claims: TokenClaims; keyIndex: number } | { ok: false; reason: TokenRejection };

/** A failed decode in the words of the origin's simplejwt: one message through 5.4, two from 5.5.0 (both APIs). */
export function decodeFailureMessage(
  messages: DecodeMessages,
  expired: boolean,
): "Token is invalid or expired" | "Token is invalid" | "Token is expired" {
  if (messages === "joined") return "Token is invalid or expired";
  return expired ? "Token is expired" : "Token is invalid";
}

function decodeFailed(messages: DecodeMessages, expired: boolean): TokenCheck {
  return { ok: false, reason: decodeFailureMessage(messages, expired) };
}

async function verifiedPayload(
  token: string,
  keys: KeyRing,
  nowMs: number,
): Promise<{ payload: JWTPayload; keyIndex: number } | "expired" | undefined> {
  const verified = await verifyWithRing(keys, token, (key) =>
    jwtVerify(token, key, {
      algorithms: [keys.algorithm],
      currentDate: new Date(nowMs),
      clockTolerance: 0,
      // exp is checked when present; its absence is simplejwt's own message (checkToken).
    }),
  );
  if (verified.ok) return { payload: verified.value.payload, keyIndex: verified.keyIndex };
  // jose's other verdicts (alg, malformed, a signature no key holds) all mean the same to a client.
  return verified.error instanceof errors.JWTExpired ? "expired" : undefined;
}

/**
 * The token's claims and which of `keys` signed it when it is a valid `type` token now;
 * else simplejwt's reason. Claims simplejwt does not check but the edge needs (iat, a
 * non-empty string jti, an integer user_id, org_name, user_name), which neither issuer omits, are
 * "Token is invalid or expired".
 */
export async function checkToken(
  token: string,
  type: TokenType,
  keys: KeyRing,
  nowMs: number,
  messages: DecodeMessages,
): Promise<TokenCheck> {
  const verified = await verifiedPayload(token, keys, nowMs);
  if (verified === undefined || verified === "expired") return decodeFailed(messages, verified === "expired");
  const payload = verified.payload as Record<string, unknown>;
  if (!("exp" in payload)) return { ok: false, reason: "Token has no 'exp' claim" };
  if (!("jti" in payload)) return { ok: false, reason: "Token has no id" };
  if (!("token_type" in payload)) return { ok: false, reason: "Token has no type" };
  if (payload.token_type !== type) return { ok: false, reason: "Token has wrong type" };
  if (!("user_id" in payload)) return { ok: false, reason: "Token contained no recognizable user identification" };
  // Outside any catch: a fault in parsing claims is a server error, not a client's bad token.
  const claims = parseClaims(payload, type);
  return claims === undefined ? decodeFailed(messages, false) : { ok: true, claims, keyIndex: verified.keyIndex };
}
