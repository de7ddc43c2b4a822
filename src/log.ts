/**
 * The one logging helper: one JSON object per line, `{level, event, ...fields}`; routes
 * annotate their request's line (src/http/request-log.ts) with `noteRequest`. Nothing here
 * ever takes a token, password or secret: fields whose names could hold one are dropped.
 */

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
  | "ok"
  | "github_refused"
  | "github_unavailable";

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
export function noteRequest(c: { var: { requestNote?: RequestNote } }, note: RequestNote): void {
  const current = c.var.requestNote;
  if (current !== undefined) Object.assign(current, note);
}
