/**
 * CORS for browser clients: only configured origins get CORS headers; every other origin
 * gets none, so the browser blocks it. Preflights answer 204 either way.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../types";

const ALLOW_METHODS = "GET, POST, OPTIONS";
const ALLOW_HEADERS = "Authorization, Content-Type";
const MAX_AGE = "86400";

export const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origin = c.req.header("Origin");
  const allowed = origin !== undefined && c.var.config.corsAllowedOrigins.has(origin);
  const preflight = c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined;
  if (preflight) {
    const headers = new Headers({ Vary: "Origin" });
    if (allowed) {
      headers.set("Access-Control-Allow-Origin", origin);
      headers.set("Access-Control-Allow-Methods", ALLOW_METHODS);
      headers.set("Access-Control-Allow-Headers", ALLOW_HEADERS);
      headers.set("Access-Control-Max-Age", MAX_AGE);
    }
    return new Response(null, { status: 204, headers });
  }
  await next();
  c.res.headers.append("Vary", "Origin");
  if (allowed) {
    c.res.headers.set("Access-Control-Allow-Origin", origin);
    c.res.headers.set("Access-Control-Expose-Headers", "Retry-After"); // for 429 and 503
  }
};
