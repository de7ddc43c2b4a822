/**
 * The Worker's HTTP surface: configuration once, per-request stores, the routes, and the
 * one place where errors become the contract's responses.
 */
import { Hono, type Context } from "hono";
import { systemClock, type Clock } from "./clock";
import { ConfigError, loadConfig, type Config } from "./config";
import type { Env } from "./env";
import { fail, ProblemError, render, type Problem } from "./errors";
import { cors } from "./http/cors";
import { forwardUnowned } from "./http/forward";
import { routeMatcher } from "./http/route-match";
import { requestLog } from "./log";
import { openApiDocument } from "./routes/openapi";
import { ROUTES } from "./routes/table";
import { d1Stores, type StoresFactory } from "./storage";
import type { AppEnv } from "./types";

export type { AppEnv } from "./types";

export interface AppOptions {
  clock?: Clock;
  stores?: StoresFactory;
}

export function problemResponse(c: Context, problem: Problem): Response {
  const { status, body, headers } = render(problem);
  return c.json(body, status as 400, headers);
}

type Handler = (c: Context<AppEnv>) => Promise<Response>;

const SCHEMA_PATH = "/api/schema/";
const PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];

export function createApp({ clock = systemClock, stores = d1Stores }: AppOptions = {}) {
  // strict: false — every path matches with or without its trailing slash, as the origin's do.
  const app = new Hono<AppEnv>({ strict: false });

  // One log line per request; then paths the API does not own go to ORIGIN_URL, before
  // configuration and CORS touch them.
  const routeOf = routeMatcher([...ROUTES.map((spec) => spec.path), SCHEMA_PATH]);
  app.use(requestLog(routeOf));
  app.use(forwardUnowned(routeOf));
  app.use(async (c, next) => {
    try {
      c.set("config", await loadConfig(c.env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(JSON.stringify({ event: "config_error", message: error.message }));
      throw fail({ kind: "misconfigured" }); // rendered by onError, seen by the request log
    }
    c.set("clock", clock);
    c.set("stores", stores(c.env, (work) => c.executionCtx.waitUntil(work)));
    await next();
  });
  app.use(cors);

  /** A route answering `methods`, with DRF's 405 and Allow header for every other method. */
  const route = (pathWithSlash: string, methods: readonly ("GET" | "POST")[], name: string, handler: Handler) => {
    // Hono's non-strict matching wants the path bare, and its parameters as :name.
    const path = pathWithSlash.replace(/\/$/, "").replace(/\{(\w+)\}/g, ":$1");
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : []), "OPTIONS"];
    app.on([...methods], path, handler);
    // A plain OPTIONS (not a CORS preflight) gets DRF's metadata answer.
    app.options(path, (c) =>
      c.json({ name, renders: ["application/json"], parses: PARSES }, 200, { Allow: allow.join(", ") }),
    );
    app.all(path, (c) => {
      throw fail({ kind: "method_not_allowed", method: c.req.method, allow });
    });
  };

  for (const spec of ROUTES) route(spec.path, [spec.method], spec.summary, spec.handler);
  route(SCHEMA_PATH, ["GET"], "OpenAPI document", async (c) => c.json(openApiDocument(new URL(c.req.url).origin)));

  app.notFound((c) => problemResponse(c, { kind: "not_found" }));
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(c, error.problem);
    console.error(JSON.stringify({ event: "unhandled_error", error: String(error) }));
    return problemResponse(c, { kind: "internal" });
  });
  return app;
}
