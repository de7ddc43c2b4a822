/**
 * Every error the API answers, as a value, and the one place that maps each to the
 * contract's status and body. Routes throw `fail(problem)`; the app renders it.
 */

export type FieldMessage =
  | "This field is required."
  | "This field may not be blank."
  | "This field may not be null."
  | "Not a valid string."
  | "Null characters are not allowed."
  | `Surrogate characters are not allowed: U+${string}.`;

export type Problem =
  | { kind: "not_found" }
  | { kind: "method_not_allowed"; method: string; allow: readonly string[] }
  | { kind: "unsupported_media_type"; mediaType: string }
  | { kind: "payload_too_large"; limit: number }
  /** The body broke off while being read (the client dropped the connection). */
  | { kind: "body_unreadable" }
  | { kind: "json_parse_error"; reason: string }
  | { kind: "multipart_parse_error"; reason: string }
  | { kind: "no_data" }
  | { kind: "not_an_object"; got: string }
  | { kind: "field_errors"; fields: Record<string, FieldMessage> }
  | { kind: "token_not_valid" }
  /** An access token where one is required (membership status): simplejwt's shorter body. */
  | { kind: "access_token_not_valid" }
  | { kind: "token_blacklisted" }
  | { kind: "unknown_organization"; org: string }
  | { kind: "not_member"; user: string; org: string }
  | { kind: "member_not_active"; user: string; org: string }
  | { kind: "user_inactive" }
  | { kind: "bad_credentials" }
  | { kind: "too_many_attempts"; retryAfter: number }
  | { kind: "no_bearer_token" }
  | { kind: "wrong_organization" }
  | { kind: "storage_unavailable"; retryAfter: number }
  | { kind: "misconfigured" }
  /** Forwarding to ORIGIN_URL: the origin did not answer, or the request came back to us. */
  | { kind: "origin_unreachable" }
  /** The health route: which stores did not answer (never why). */
  | { kind: "unhealthy"; failed: readonly ("d1" | "kv")[] }
  | { kind: "forwarding_loop" }
  | { kind: "internal" }
  /** The origin sync (docs/sync.md): a signature that does not verify, or is too old or new. */
  | { kind: "sync_bad_signature" }
  | { kind: "sync_stale_timestamp" }
  /** A delivery that cannot be applied as sent: nothing written; `record` is its index when one is at fault. */
  | { kind: "sync_malformed"; detail: string; record?: number }
  /** A full run's page or end that is not of the open run. */
  | { kind: "sync_conflict"; detail: string };

export class ProblemError extends Error {
  override readonly name = "ProblemError";
  constructor(
    readonly problem: Problem,
    options?: { cause?: unknown },
  ) {
    super(problem.kind, options);
  }
}

export function fail(problem: Problem, cause?: unknown): ProblemError {
  return new ProblemError(problem, cause === undefined ? undefined : { cause });
}

/** A storage call that failed: D1 or KV unreachable, timed out or erroring. */
export function storageUnavailable(cause: unknown): ProblemError {
  return fail({ kind: "storage_unavailable", retryAfter: 1 }, cause);
}

interface Rendered {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const TOKEN_NOT_VALID = "Given token not valid for any token type";

export function render(problem: Problem): Rendered {
  switch (problem.kind) {
    case "not_found":
      return { status: 404, body: { detail: "The requested resource was not found on this server." } };
    case "method_not_allowed":
      return {
        status: 405,
        body: { detail: `Method "${problem.method}" not allowed.` },
        headers: { Allow: problem.allow.join(", ") },
      };
    case "unsupported_media_type":
      return { status: 415, body: { detail: `Unsupported media type "${problem.mediaType}" in request.` } };
    case "payload_too_large":
      return { status: 413, body: { detail: `Request body exceeds ${problem.limit} bytes.` } };
    case "body_unreadable":
      return { status: 400, body: { detail: "The request body could not be read." } };
    case "json_parse_error":
      return { status: 400, body: { detail: `JSON parse error - ${problem.reason}` } };
    case "multipart_parse_error":
      return { status: 400, body: { detail: `Multipart form parse error - ${problem.reason}` } };
    case "no_data":
      return { status: 400, body: { non_field_errors: ["No data provided"] } };
    case "not_an_object":
      return {
        status: 400,
        body: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${problem.got}.`] },
      };
    case "field_errors":
      return {
        status: 400,
        body: Object.fromEntries(Object.entries(problem.fields).map(([field, message]) => [field, [message]])),
      };
    case "token_not_valid":
      return { status: 403, body: { detail: TOKEN_NOT_VALID, code: "token_not_valid" } };
    case "access_token_not_valid":
      return { status: 403, body: { detail: TOKEN_NOT_VALID } };
    case "token_blacklisted":
      return { status: 403, body: { detail: "Token is blacklisted", code: "token_not_valid" } };
    case "unknown_organization":
      return { status: 403, body: { detail: `${problem.org} is NOT a valid organization name` } };
    case "not_member":
      return { status: 403, body: { detail: `${problem.user} is NOT a member of ${problem.org}` } };
    case "member_not_active":
      return { status: 403, body: { detail: `${problem.user} is NOT an active Member of ${problem.org}` } };
    case "user_inactive":
      return { status: 403, body: { detail: "User is inactive", code: "user_inactive" } };
    case "bad_credentials":
      return { status: 401, body: { detail: "No active account found with the given credentials" } };
    case "too_many_attempts":
      return {
        status: 429,
        body: { detail: `Request was throttled. Expected available in ${problem.retryAfter} seconds.` },
        headers: { "Retry-After": String(problem.retryAfter) },
      };
    case "no_bearer_token":
      return {
        status: 400,
        body: { status: "FAILED", error_msg: "No token is provided in the header or the header is missing" },
      };
    case "wrong_organization":
      return { status: 400, body: { status: "FAILED", error_msg: "Token with wrong organization" } };
    case "storage_unavailable":
      return {
        status: 503,
        body: { detail: "Storage is temporarily unavailable; nothing was changed. Try again." },
        headers: { "Retry-After": String(problem.retryAfter) },
      };
    case "misconfigured":
      return { status: 500, body: { detail: "Server misconfigured: the token service cannot sign or verify tokens." } };
    case "unhealthy":
      return {
        status: 503,
        body: { status: "unavailable", failed: problem.failed },
        headers: { "Cache-Control": "no-store" },
      };
    case "origin_unreachable":
      return { status: 502, body: { detail: "The origin server could not be reached." } };
    case "forwarding_loop":
      return { status: 508, body: { detail: "ORIGIN_URL leads back to this service." } };
    case "sync_bad_signature":
      return { status: 401, body: { detail: "Invalid signature" } };
    case "sync_stale_timestamp":
      return { status: 401, body: { detail: "Timestamp outside tolerance" } };
    case "sync_malformed":
      return {
        status: 400,
        body:
          problem.record === undefined
            ? { detail: problem.detail }
            : { detail: problem.detail, record: problem.record },
      };
    case "sync_conflict":
      return { status: 409, body: { detail: problem.detail } };
    case "internal":
      return { status: 500, body: { detail: "A server error occurred." } };
  }
}
