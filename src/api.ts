/**
 * The package's entry point: `import { orgTokenApi, requireOrgToken } from "org-token-edge"`.
 *
 *   const tokens = orgTokenApi<Env>({
 *     bindings: (env) => ({ db: env.TOKENS_DB, kv: env.TOKENS_KV, secret: env.TOKENS_SECRET }),
 *     settings: (env) => ({ corsAllowedOrigins: env.TOKENS_CORS }),
 *     basePath: "/",
 *   });
 *   host.use(tokens.middleware);
 *   host.get("/api/other/", requireOrgToken(tokens), (c) => c.json(c.var.orgToken));
 *   host.get("/api/mine/", requireSimpleJwtToken(tokens), (c) => c.json(c.var.simpleJwtToken));
 */
import type { MiddlewareHandler } from "hono";
import { buildApi, type OrgTokenApi, type OrgTokenApiOptions } from "./app";
import type { OrgTokenVariables, RequireOrgTokenOptions } from "./http/require-org-token";
import type { SimpleJwtTokenVariables } from "./http/require-simplejwt-token";

export type { OrgTokenApi, OrgTokenApiOptions, OrgTokenBindings, OrgTokenNames, PurgeResult } from "./app";
export type { SettingNames, Settings, SettingValue } from "./config";
export { ConfigError } from "./config";
export type { OrgTokenVariables, RequireOrgTokenOptions, VerifiedOrgToken } from "./http/require-org-token";
export type { SimpleJwtTokenVariables, VerifiedSimpleJwtToken } from "./http/require-simplejwt-token";
export type { TokenClaims } from "./tokens/claims";

/** The organization-token API for a host Worker, over the host's own bindings and settings. */
export function orgTokenApi<E extends object>(options: OrgTokenApiOptions<E>): OrgTokenApi<E> {
  const { app: _app, ...api } = buildApi(options);
  return api;
}

/**
 * Middleware for a host's own routes: a valid access token of `api`'s secret, optionally
 * for an organization and of an active member; the verified token on `c.var.orgToken`.
 * The same as `api.requireOrgToken(options)`.
 */
export function requireOrgToken<E extends object>(
  api: OrgTokenApi<E>,
  options?: RequireOrgTokenOptions<E>,
): MiddlewareHandler<{ Bindings: E; Variables: OrgTokenVariables }> {
  return api.requireOrgToken(options);
}

/**
 * Middleware for a host's own routes, as simplejwt's JWTAuthentication with IsAuthenticated:
 * an access token of simplejwt's views (`api`'s secret, the origin's SIMPLE_JWT settings), its
 * user found and active in D1, its session not ended at the edge; the verified token on
 * `c.var.simpleJwtToken`. The same as `api.requireSimpleJwtToken()`.
 */
export function requireSimpleJwtToken<E extends object>(
  api: OrgTokenApi<E>,
): MiddlewareHandler<{ Bindings: E; Variables: SimpleJwtTokenVariables }> {
  return api.requireSimpleJwtToken();
}
