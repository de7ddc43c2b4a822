/**
 * The one logging helper: one JSON object per line, `{level, event, ...fields}`, and one
 * `request` line per request (route, status, duration_ms, user_id, org, outcome) that routes
 * annotate with `noteRequest`. Nothing here ever takes a token, password or secret: fields
 * whose names could hold one are dropped, and paths are logged as route patterns, never
 * with their query string.
 */
import type { Context, MiddlewareHandler } from "hono";
import { type Problem, ProblemError } from "./errors";
import type { AppEnv } from "./types";

export type Level = "debug" | "info" | "warn" | "error";

/** What a request came to, for the log: the token API's verdicts, in a word. */
export type Outcome =
  | "logged_in"
  | "rotated"
  | "retried"
  | "logged_out"
  | "active"
  | "inactive_member"
  | "invalid"
  | "blacklisted"
  | "reuse_detected"
  | "throttled"
  | "inactive"
  | "bad_credentials"
  | "not_member"
  | "unknown_organization"
  | "wrong_organization"
  | "bad_request"
  | "not_found"
  | "method_not_allowed"
  | "storage_unavailable"
  | "misconfigured"
  | "healthy"
  | "unhealthy"
  | "forwarded"
  | "origin_unreachable"
  | "error"
  | "ok";

export interface RequestNote {
  userId?: number;
  org?: string;
  outcome?: Outcome;
}

/** Field names that could carry a credential; their values never reach a log line. */
const SECRET_FIELD = /token|password|secret|refresh|access|authorization|cookie|jwt/i;

// Field names seen so far and whether they may be logged: a handful, asked on every line.
const loggable = new Map<string, boolean>();

function mayLog(name: string): boolean {
  let verdict = loggable.get(name);
  if (verdict === undefined) {
    verdict = !SECRET_FIELD.test(name);
    if (loggable.size < 256) loggable.set(name, verdict);
  }
  return verdict;
}

export function log(level: Level, event: string, fields: Record<string, unknown> = {}): void {
  const line: Record<string, unknown> = { level, event };
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (value !== undefined && mayLog(name)) line[name] = value;
  }
  console[level](JSON.stringify(line));
}

/** Annotate the current request's log line (merged: later calls add to earlier ones). */
export function noteRequest(c: Context<AppEnv>, note: RequestNote): void {
  const current = c.get("requestNote");
  if (current !== undefined) Object.assign(current, note);
}

/** The outcome a Problem stands for, when the route did not say. */
function problemOutcome(problem: Problem): Outcome {
  switch (problem.kind) {
    case "token_not_valid":
    case "access_token_not_valid":
    case "no_bearer_token":
      return "invalid";
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
      return "not_member";
    case "unknown_organization":
      return "unknown_organization";
    case "wrong_organization":
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
      return "origin_unreachable";
    case "internal":
      return "error";
    case "unsupported_media_type":
    case "payload_too_large":
    case "json_parse_error":
    case "multipart_parse_error":
    case "no_data":
    case "not_an_object":
    case "field_errors":
    case "body_unreadable":
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
