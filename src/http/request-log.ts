/**
 * One `request` line per request (route, status, duration_ms, user_id, org, outcome), after
 * it is answered. Paths are logged as route patterns, never with their query string.
 */
import type { MiddlewareHandler } from "hono";
import { type Problem, ProblemError } from "../errors";
import { log, type Outcome, type RequestNote } from "../log";
import type { AppEnv } from "../types";

/** The outcome a Problem stands for, when the route did not say. */
function problemOutcome(problem: Problem): Outcome {
  switch (problem.kind) {
    case "token_not_valid":
    case "access_token_not_valid":
    case "no_bearer_token":
    case "bad_authorization_header":
    case "no_user_identification":
    case "status_invalid_token":
      return "invalid";
    case "token_view_rejected":
      return problem.message === "Token is blacklisted" ? "blacklisted" : "invalid";
    case "token_blacklisted":
      return "blacklisted";
    case "too_many_attempts":
      return "throttled";
    case "user_inactive":
      return "inactive";
    case "member_not_active":
      return "inactive_member";
    case "bad_credentials":
      return "bad_credentials";
    case "not_member":
    case "status_not_member":
    case "user_not_found":
      return "not_member";
    case "unknown_organization":
    case "status_unknown_org":
      return "unknown_organization";
    case "wrong_organization":
    case "status_org_mismatch":
      return "wrong_organization";
    case "not_found":
      return "not_found";
    case "method_not_allowed":
      return "method_not_allowed";
    case "storage_unavailable":
      return "storage_unavailable";
    case "misconfigured":
      return "misconfigured";
    case "unhealthy":
      return "unhealthy";
    case "origin_unreachable":
    case "forwarding_loop":
    case "origin_timeout":
      return "origin_unreachable";
    case "internal":
      return "error";
    case "no_social_account":
      return "github_refused";
    case "github_unavailable":
      return "github_unavailable";
    case "permission_denied":
      return problemOutcome(problem.denied);
    case "unsupported_media_type":
    case "payload_too_large":
    case "json_parse_error":
    case "multipart_parse_error":
    case "no_data":
    case "not_an_object":
    case "field_errors":
    case "body_unreadable":
    case "upgrade_refused":
    case "sync_malformed":
    case "sync_conflict":
      return "bad_request";
    case "sync_bad_signature":
    case "sync_stale_timestamp":
      return "invalid";
  }
}

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
    const outcome =
      note.outcome ??
      (error instanceof ProblemError
        ? problemOutcome(error.problem)
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
