/**
 * Every error the API answers, as a value, and the one table that maps each to the
 * contract's status and body and to its request log outcome. Routes throw `fail(problem)`;
 * the app renders it.
 */
import type { Outcome } from "./log";
import type { TokenRejection } from "./tokens/verify";

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
  /**
   * simplejwt's views (src/routes/simplejwt/): InvalidToken(message), 401 with
   * `authenticate` (`<first AUTH_HEADER_TYPES> realm="api"`) as WWW-Authenticate.
   */
  | { kind: "simplejwt_token_not_valid"; message: string; authenticate: string }
  /** simplejwt's AuthenticationFailed "no_active_account" (obtain; refresh on 5.4+): 401, no code in the body. */
  | {
      kind: "simplejwt_no_active_account";
      message: "No active account found with the given credentials" | "No active account found for the given token.";
      authenticate: string;
    }
  /** simplejwt's verify view, BLACKLIST_AFTER_ROTATION and the jti in the ledger: a ValidationError. */
  | { kind: "simplejwt_verify_blacklisted" }
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
  /** DRF's content negotiation (simplejwt's views, the guard's refusals): no renderer for the Accept header. */
  | { kind: "not_acceptable" }
  /** DRF's content negotiation: a `?format=` no renderer has (Http404). */
  | { kind: "format_not_found" }
  /** A login the origin checks (a password hash the edge cannot), with ORIGIN_URL unset. */
  | { kind: "origin_not_set" }
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
  | { kind: "sync_conflict"; detail: string; record?: number };

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

type Entry<K extends Problem["kind"]> = {
  /** What the request came to, for its log line (when the route did not say). */
  outcome: Outcome | ((problem: Extract<Problem, { kind: K }>) => Outcome);
  /** The contract's status, body and headers. */
  render: (problem: Extract<Problem, { kind: K }>) => Rendered;
};

/** Every problem: its log outcome, status, body and headers, in one place. */
const PROBLEMS: { [K in Problem["kind"]]: Entry<K> } = {
  not_found: {
    outcome: "not_found",
    render: () => ({ status: 404, body: { detail: "The requested resource was not found on this server." } }),
  },
  method_not_allowed: {
    outcome: "method_not_allowed",
    render: (problem) => ({
      status: 405,
      body: { detail: `Method "${problem.method}" not allowed.` },
      headers: { Allow: problem.allow.join(", ") },
    }),
  },
  unsupported_media_type: {
    outcome: "bad_request",
    render: (problem) => ({
      status: 415,
      body: { detail: `Unsupported media type "${problem.mediaType}" in request.` },
    }),
  },
  payload_too_large: {
    outcome: "bad_request",
    render: (problem) => ({ status: 413, body: { detail: `Request body exceeds ${problem.limit} bytes.` } }),
  },
  body_unreadable: {
    outcome: "bad_request",
    render: () => ({ status: 400, body: { detail: "The request body could not be read." } }),
  },
  json_parse_error: {
    outcome: "bad_request",
    render: (problem) => ({ status: 400, body: { detail: `JSON parse error - ${problem.reason}` } }),
  },
  multipart_parse_error: {
    outcome: "bad_request",
    render: (problem) => ({ status: 400, body: { detail: `Multipart form parse error - ${problem.reason}` } }),
  },
  no_data: {
    outcome: "bad_request",
    render: () => ({ status: 400, body: { non_field_errors: ["No data provided"] } }),
  },
  not_an_object: {
    outcome: "bad_request",
    render: (problem) => ({
      status: 400,
      body: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${problem.got}.`] },
    }),
  },
  field_errors: {
    outcome: "bad_request",
    render: (problem) => ({
      status: 400,
      body: Object.fromEntries(Object.entries(problem.fields).map(([field, message]) => [field, [message]])),
    }),
  },
  token_not_valid: {
    outcome: "invalid",
    render: () => ({ status: 403, body: { detail: TOKEN_NOT_VALID, code: "token_not_valid" } }),
  },
  access_token_not_valid: {
    outcome: "invalid",
    render: (problem) => ({
      status: 403,
      body: {
        detail: TOKEN_NOT_VALID,
        code: "token_not_valid",
        messages: [{ ...ACCESS_TOKEN_CLASS, message: problem.message ?? "Token is invalid or expired" }],
      },
    }),
  },
  bad_authorization_header: {
    outcome: "invalid",
    render: () => ({
      status: 403,
      body: {
        detail: "Authorization header must contain two space-delimited values",
        code: "bad_authorization_header",
      },
    }),
  },
  no_user_identification: {
    outcome: "invalid",
    render: () => ({
      status: 403,
      body: { detail: "Token contained no recognizable user identification", code: "token_not_valid" },
    }),
  },
  user_not_found: {
    outcome: "not_member",
    render: () => ({ status: 403, body: { detail: "User not found", code: "user_not_found" } }),
  },
  token_view_rejected: {
    outcome: (problem) => (problem.message === "Token is blacklisted" ? "blacklisted" : "invalid"),
    render: (problem) => ({
      status: 401,
      body: { detail: problem.message, code: "token_not_valid" },
      headers: WWW_AUTHENTICATE,
    }),
  },
  status_unknown_org: {
    outcome: "unknown_organization",
    render: (problem) => failed(400, `Unknown org:${problem.org}`),
  },
  status_not_member: {
    outcome: "not_member",
    render: (problem) => failed(400, `user${problem.user} is not a member of ${problem.org}?`),
  },
  status_org_mismatch: {
    outcome: "wrong_organization",
    render: (problem) =>
      failed(400, `Token claim org:${problem.tokenOrg} does not match organization given:${problem.org} `),
  },
  status_invalid_token: {
    outcome: "invalid",
    render: () => failed(400, "INVALID token"),
  },
  token_blacklisted: {
    outcome: "blacklisted",
    render: () => ({ status: 403, body: { detail: "Token is blacklisted", code: "token_not_valid" } }),
  },
  simplejwt_token_not_valid: {
    outcome: (problem) => (problem.message === "Token is blacklisted" ? "blacklisted" : "invalid"),
    render: (problem) => ({
      status: 401,
      body: { detail: problem.message, code: "token_not_valid" },
      headers: { "WWW-Authenticate": problem.authenticate },
    }),
  },
  simplejwt_no_active_account: {
    outcome: (problem) => (problem.message.endsWith("credentials") ? "bad_credentials" : "inactive"),
    render: (problem) => ({
      status: 401,
      body: { detail: problem.message },
      headers: { "WWW-Authenticate": problem.authenticate },
    }),
  },
  simplejwt_verify_blacklisted: {
    outcome: "blacklisted",
    render: () => ({ status: 400, body: { non_field_errors: ["Token is blacklisted"] } }),
  },
  unknown_organization: {
    outcome: "unknown_organization",
    render: (problem) => ({ status: 403, body: { detail: `${problem.org} is NOT a valid organization name` } }),
  },
  not_member: {
    outcome: "not_member",
    render: (problem) => ({ status: 403, body: { detail: `${problem.user} is NOT a member of ${problem.org}` } }),
  },
  member_not_active: {
    outcome: "inactive_member",
    render: (problem) => ({
      status: 403,
      body: { detail: `${problem.user} is NOT an active Member of ${problem.org}` },
    }),
  },
  user_inactive: {
    outcome: "inactive",
    render: () => ({ status: 403, body: { detail: "User is inactive", code: "user_inactive" } }),
  },
  bad_credentials: {
    outcome: "bad_credentials",
    render: () => ({
      status: 401,
      body: { detail: "No active account found with the given credentials" },
      headers: WWW_AUTHENTICATE,
    }),
  },
  too_many_attempts: {
    outcome: "throttled",
    render: (problem) => ({
      status: 429,
      body: { detail: `Request was throttled. Expected available in ${problem.retryAfter} seconds.` },
      headers: { "Retry-After": String(problem.retryAfter) },
    }),
  },
  no_bearer_token: {
    outcome: "invalid",
    render: () => failed(400, "No token is provided in the header or the header is missing"),
  },
  wrong_organization: {
    outcome: "wrong_organization",
    render: () => failed(400, "Token with wrong organization"),
  },
  storage_unavailable: {
    outcome: "storage_unavailable",
    render: (problem) => ({
      status: 503,
      body: { detail: "Storage is temporarily unavailable; nothing was changed. Try again." },
      headers: { "Retry-After": String(problem.retryAfter) },
    }),
  },
  misconfigured: {
    outcome: "misconfigured",
    render: () => ({
      status: 500,
      body: { detail: "Server misconfigured: the token service cannot sign or verify tokens." },
    }),
  },
  unhealthy: {
    outcome: "unhealthy",
    render: (problem) => ({
      status: 503,
      body: { status: "unavailable", failed: problem.failed },
      headers: { "Cache-Control": "no-store" },
    }),
  },
  origin_unreachable: {
    outcome: "origin_unreachable",
    render: () => ({ status: 502, body: { detail: "The origin server could not be reached." } }),
  },
  forwarding_loop: {
    outcome: "origin_unreachable",
    render: () => ({ status: 508, body: { detail: "ORIGIN_URL leads back to this service." } }),
  },
  not_acceptable: {
    outcome: "bad_request",
    render: () => ({
      status: 406,
      body: { detail: "Could not satisfy the request Accept header." },
      headers: { Vary: "Accept" },
    }),
  },
  format_not_found: {
    outcome: "not_found",
    render: () => ({ status: 404, body: { detail: "Not found." }, headers: { Vary: "Accept" } }),
  },
  origin_not_set: {
    outcome: "misconfigured",
    render: () => ({ status: 502, body: { detail: "The origin server is not configured." } }),
  },
  origin_timeout: {
    outcome: "origin_unreachable",
    render: () => ({ status: 504, body: { detail: "The origin server did not answer in time." } }),
  },
  upgrade_refused: {
    outcome: "bad_request",
    render: () => ({ status: 400, body: { detail: "Protocol upgrades (WebSocket) are not forwarded." } }),
  },
  sync_bad_signature: {
    outcome: "invalid",
    render: () => ({ status: 401, body: { detail: "Invalid signature" } }),
  },
  sync_stale_timestamp: {
    outcome: "invalid",
    render: () => ({ status: 401, body: { detail: "Timestamp outside tolerance" } }),
  },
  sync_malformed: {
    outcome: "bad_request",
    render: (problem) => ({
      status: 400,
      body:
        problem.record === undefined ? { detail: problem.detail } : { detail: problem.detail, record: problem.record },
    }),
  },
  sync_conflict: {
    outcome: "bad_request",
    render: (problem) => ({
      status: 409,
      body:
        problem.record === undefined ? { detail: problem.detail } : { detail: problem.detail, record: problem.record },
    }),
  },
  internal: {
    outcome: "error",
    render: () => ({ status: 500, body: { detail: "A server error occurred." } }),
  },
  no_social_account: {
    outcome: "github_refused",
    render: () => permissionDenied("No Social account found that matches login field of given token"),
  },
  permission_denied: {
    outcome: (problem) => outcomeOf(problem.denied),
    render: (problem) => {
      const { body } = render(problem.denied);
      const detail = (body as { detail?: unknown }).detail;
      return permissionDenied(typeof detail === "string" ? detail : problem.denied.kind);
    },
  },
  github_unavailable: {
    outcome: "github_unavailable",
    render: (problem) => ({
      status: 503,
      body: { detail: "GitHub could not tell who the token belongs to; nothing was issued. Try again later." },
      headers: { "Retry-After": String(problem.retryAfter) },
    }),
  },
};

function entryOf(problem: Problem): Entry<Problem["kind"]> {
  return PROBLEMS[problem.kind] as Entry<Problem["kind"]>;
}

export function render(problem: Problem): Rendered {
  return entryOf(problem).render(problem);
}

/** The log outcome a problem stands for. */
export function outcomeOf(problem: Problem): Outcome {
  const { outcome } = entryOf(problem);
  return typeof outcome === "function" ? outcome(problem) : outcome;
}
