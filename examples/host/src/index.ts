/**
 * A host Worker with its own routes, bindings and cron, mounting the organization-token
 * API at the root. Copy it: only the names in `Env` and in the factory's options are yours.
 */
import { Hono } from "hono";
import { type OrgTokenVariables, orgTokenApi } from "org-token-edge";

export interface Env {
  TOKENS_DB: D1Database;
  TOKENS_KV: KVNamespace;
  TOKENS_SECRET?: string;
  TOKENS_CORS?: string;
  TOKENS_ACCESS_LIFETIME?: string;
  TOKENS_REFRESH_LIFETIME?: string;
}

export const tokens = orgTokenApi<Env>({
  bindings: (env) => ({ db: env.TOKENS_DB, kv: env.TOKENS_KV, secret: env.TOKENS_SECRET }),
  settings: (env) => ({
    corsAllowedOrigins: env.TOKENS_CORS,
    accessTokenLifetime: env.TOKENS_ACCESS_LIFETIME,
    refreshTokenLifetime: env.TOKENS_REFRESH_LIFETIME,
  }),
  basePath: "/",
  // So a 500's log line names what to fix in this host's terms.
  names: {
    db: "TOKENS_DB",
    kv: "TOKENS_KV",
    secret: "TOKENS_SECRET",
    corsAllowedOrigins: "TOKENS_CORS",
    accessTokenLifetime: "TOKENS_ACCESS_LIFETIME",
    refreshTokenLifetime: "TOKENS_REFRESH_LIFETIME",
  },
});

const app = new Hono<{ Bindings: Env; Variables: OrgTokenVariables }>();

// The host's own route, registered before the API.
app.get("/health", (c) => c.json({ ok: true }));

// The API's paths (/api/org_token/, …, /api/schema/); every other path goes on untouched.
app.use(tokens.middleware);

// Host routes registered after the API still answer.
app.get("/api/other/", (c) => c.json({ other: true }));

// A host route for members only: an access token for this organization, of an active member.
app.get("/api/other/:org/report/", tokens.requireOrgToken({ organization: (c) => c.req.param("org") }), (c) => {
  const { userName, orgName } = c.var.orgToken;
  return c.json({ report: `for ${userName} of ${orgName}` });
});

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // The host's own hourly work would go here too.
    ctx.waitUntil(
      tokens.purgeExpired(env, controller.scheduledTime).then((removed) => {
        console.log(JSON.stringify({ event: "ledger_purged", ...removed }));
      }),
    );
  },
} satisfies ExportedHandler<Env>;
