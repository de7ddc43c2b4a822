import type { TokenRejection } from "./tokens/verify";

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
  /**
   * A bearer access token JWTAuthentication refuses (membership status, requireOrgToken):
   * InvalidToken with its messages list; `message` defaults to "Token is invalid or expired".
   */
  | { kind: "access_token_not_valid"; message?: TokenRejection }
  /** A `Bearer` Authorization header of other than two parts (JWTAuthentication.get_raw_token). */
  | { kind: "bad_authorization_header" }
  /** A valid access token without user_id (JWTAuthentication.get_user). */
  | { kind: "no_user_identification" }
  /** A valid access token whose user_id names no user (JWTAuthentication.get_user). */
  | { kind: "user_not_found" }
  /** simplejwt's own views (logout): InvalidToken(message), 401 with WWW-Authenticate. */
  | { kind: "token_view_rejected"; message: TokenRejection }
  /** Membership status (ps-web get_token_org_active_membership): the organization in the path. */
  | { kind: "status_unknown_org"; org: string }
  | { kind: "status_not_member"; user: string; org: string }
  | { kind: "status_org_mismatch"; tokenOrg: string; org: string }
  /** The view reads the token again as the header's second space-separated part. */
  | { kind: "status_invalid_token" }
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
  /** Forwarding: the origin did not start answering within ORIGIN_TIMEOUT. */
  | { kind: "origin_timeout" }
  /** Forwarding: an Upgrade (WebSocket) request, which the edge does not carry. */
  | { kind: "upgrade_refused" }
  | { kind: "internal" }
  /** The GitHub login: GitHub refused the token, or its login has no github social account. */
  | { kind: "no_social_account" }
  /** The GitHub login's refusals, as ps-web's view wraps them: 403 status/error_msg around the detail. */
  | { kind: "permission_denied"; denied: Problem }
  /** The GitHub login: GitHub rate limited, down, slow or answering something else than a user. */
  | { kind: "github_unavailable"; retryAfter: number }
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
/** simplejwt's TokenViewBase and JWTAuthentication.authenticate_header (AUTH_HEADER_TYPES[0], realm "api"). */
const WWW_AUTHENTICATE = { "WWW-Authenticate": 'Bearer realm="api"' };
/** ps-web's AUTH_TOKEN_CLASSES: one class, so one entry in InvalidToken's messages. */
const ACCESS_TOKEN_CLASS = { token_class: "JWTAccessToken", token_type: "access" } as const;

function failed(status: number, errorMsg: string): Rendered {
  return { status, body: { status: "FAILED", error_msg: errorMsg } };
}

/** ps-web's OrgTokenObtainPairGitHubView: `except PermissionDenied` answers this shape. */
function permissionDenied(detail: string): Rendered {
  return { status: 403, body: { status: "FAILED", error_msg: `Permission Denied: ${detail}` } };
}

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
      return {
        status: 403,
        body: {
          detail: TOKEN_NOT_VALID,
          code: "token_not_valid",
          messages: [{ ...ACCESS_TOKEN_CLASS, message: problem.message ?? "Token is invalid or expired" }],
        },
      };
    case "bad_authorization_header":
      return {
        status: 403,
        body: {
          detail: "Authorization header must contain two space-delimited values",
          code: "bad_authorization_header",
        },
      };
    case "no_user_identification":
      return {
        status: 403,
        body: { detail: "Token contained no recognizable user identification", code: "token_not_valid" },
      };
    case "user_not_found":
      return { status: 403, body: { detail: "User not found", code: "user_not_found" } };
    case "token_view_rejected":
      return { status: 401, body: { detail: problem.message, code: "token_not_valid" }, headers: WWW_AUTHENTICATE };
    case "status_unknown_org":
      return failed(400, `Unknown org:${problem.org}`);
    case "status_not_member":
      return failed(400, `user${problem.user} is not a member of ${problem.org}?`);
    case "status_org_mismatch":
      return failed(400, `Token claim org:${problem.tokenOrg} does not match organization given:${problem.org} `);
    case "status_invalid_token":
      return failed(400, "INVALID token");
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
      return {
        status: 401,
        body: { detail: "No active account found with the given credentials" },
        headers: WWW_AUTHENTICATE,
      };
    case "too_many_attempts":
      return {
        status: 429,
        body: { detail: `Request was throttled. Expected available in ${problem.retryAfter} seconds.` },
        headers: { "Retry-After": String(problem.retryAfter) },
      };
    case "no_bearer_token":
      return failed(400, "No token is provided in the header or the header is missing");
    case "wrong_organization":
      return failed(400, "Token with wrong organization");
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
    case "origin_timeout":
      return { status: 504, body: { detail: "The origin server did not answer in time." } };
    case "upgrade_refused":
      return { status: 400, body: { detail: "Protocol upgrades (WebSocket) are not forwarded." } };
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
    case "no_social_account":
      return permissionDenied("No Social account found that matches login field of given token");
    case "permission_denied": {
      const { body } = render(problem.denied);
      const detail = (body as { detail?: unknown }).detail;
      return permissionDenied(typeof detail === "string" ? detail : problem.denied.kind);
    }
    case "github_unavailable":
      return {
        status: 503,
        body: { detail: "GitHub could not tell who the token belongs to; nothing was issued. Try again later." },
        headers: { "Retry-After": String(problem.retryAfter) },
      };
  }
}
