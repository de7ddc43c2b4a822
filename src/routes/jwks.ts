/**
 * GET <JWKS_PATH> (`/.well-known/jwks.json`), under an asymmetric ALGORITHM only: the public
 * keys that verify the edge's tokens, as a JWK Set (RFC 7517) for the origin's JWK_URL
 * (PyJWT's PyJWKClient, which finds a token's key by its `kid`) and anyone else.
 *
 * | Request        | Answer                                                                  |
 * | -------------- | ----------------------------------------------------------------------- |
 * | GET, HEAD      | 200 `{"keys": [...]}`, the signing key's first, then PREVIOUS_VERIFYING_KEYS' |
 * | another method | 405, `Allow: GET, HEAD`                                                  |
 */
import type { Context } from "hono";
import type { Jwks } from "../config";
import { fail } from "../errors";
import type { AppEnv } from "../types";

/**
 * Seconds a client may keep the set: PyJWKClient's own default lifespan, and the wait between
 * publishing a new key and signing with it (docs/deploy.md "Rotating the signing key").
 */
export const JWKS_MAX_AGE = 300;

export function jwks(c: Context<AppEnv>, set: Jwks): Response {
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    throw fail({ kind: "method_not_allowed", method: c.req.method, allow: ["GET", "HEAD"] });
  }
  const headers = { "Content-Type": "application/json", "Cache-Control": `public, max-age=${JWKS_MAX_AGE}` };
  return c.req.method === "HEAD" ? c.body(null, 200, headers) : c.body(set.body, 200, headers);
}
