/**
 * The first rows of the membership-status table: the bearer access token, read and verified
 * as simplejwt's JWTAuthentication does (`get_raw_token`, `get_validated_token`), before
 * any view code runs.
 */
import type { DecodeMessages } from "../config";
import type { KeyRing } from "../crypto/keys";
import { fail } from "../errors";
import type { TokenClaims } from "../tokens/claims";
import { checkToken } from "../tokens/verify";

/**
 * The header's token. Split on ASCII whitespace as Python's bytes.split(); the type is
 * `Bearer`, case-sensitive (AUTH_HEADER_TYPES); any other first word is no token at all.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const parts = (header ?? "").split(/[ \t\n\r\v\f]+/).filter((part) => part !== "");
  if (parts.length === 0 || parts[0] !== "Bearer") return undefined;
  if (parts.length !== 2) throw fail({ kind: "bad_authorization_header" });
  return parts[1];
}

/** The claims of the `Authorization` header's access token; the contract's 400 or 403 otherwise. */
export async function verifiedAccessToken(
  authorization: string | undefined,
  keys: KeyRing,
  nowMs: number,
  messages: DecodeMessages,
): Promise<TokenClaims> {
  const token = bearerToken(authorization);
  if (token === undefined) throw fail({ kind: "no_bearer_token" });
  const checked = await checkToken(token, "access", keys, nowMs, messages);
  if (checked.ok) return checked.claims;
  if (checked.reason === "Token contained no recognizable user identification") {
    throw fail({ kind: "no_user_identification" });
  }
  throw fail({ kind: "access_token_not_valid", message: checked.reason });
}
