/** The first rows of the membership-status table: the bearer access token, verified. */
import { fail } from "../errors";
import type { TokenClaims } from "../tokens/claims";
import { verifyToken } from "../tokens/verify";

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** The claims of the `Authorization` header's access token; the contract's 400 or 403 otherwise. */
export async function verifiedAccessToken(
  authorization: string | undefined,
  keys: readonly CryptoKey[],
  nowMs: number,
): Promise<TokenClaims> {
  const token = bearerToken(authorization);
  if (token === undefined) throw fail({ kind: "no_bearer_token" });
  const claims = await verifyToken(token, "access", keys, nowMs);
  if (claims === undefined) throw fail({ kind: "access_token_not_valid" });
  return claims;
}
