/**
 * One `request` line per request (route, status, duration_ms, user_id, org, outcome), after
 * it is answered. Paths are logged as route patterns, never with their query string.
 */
import type { MiddlewareHandler } from "hono";
import { outcomeOf } from "../errors";
import { log, type RequestNote } from "../log";
import type { AppEnv } from "../types";
import { problemOf } from "./problem";

/**
 * Middleware, first of all: after the request is answered, one `request` line, named by the
 * route the app matched (`route`, set before it runs).
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    const note: RequestNote = {};
    c.set("requestNote", note);
    await next(); // errors are answered inside (the app's onError) and left on c.error
    const status = c.res.status;
    const error = c.error;
    const problem = problemOf(error);
    const outcome =
      note.outcome ??
      (problem !== undefined
        ? outcomeOf(problem)
        : status === 404
          ? "not_found"
          : error !== undefined || status >= 400
            ? "error"
            : "ok");
    // Misconfigured, there is no config to ask: the line is logged.
    const mode = c.var.config?.requestLog ?? "all";
    if (mode === "off" || (mode === "errors" && status < 400)) return;
    log(status >= 500 ? "error" : "info", "request", {
      method: c.req.method,
      route: c.get("route") ?? (outcome === "forwarded" || outcome === "origin_unreachable" ? "(origin)" : "(none)"),
      status,
      duration_ms: Date.now() - started,
      user_id: note.userId,
      org: note.org,
      outcome,
    });
  };
}
