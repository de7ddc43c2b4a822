/**
 * The API's routes as data: the app registers them and the OpenAPI document is generated
 * from them, so neither can say something the other does not.
 */
import type { Context } from "hono";
import type { Problem } from "../errors";
import type { AppEnv } from "../types";
import { HEALTH_PATH, health } from "./health";
import { login } from "./login";
import { loginGitHub } from "./login-github";
import { logout } from "./logout";
import { membershipStatus } from "./membership-status";
import { refresh } from "./refresh";
import { sync } from "./sync";

export type SuccessBody =
  | "token_pair"
  | "active_flag"
  | "logout"
  | "health"
  | "sync_result"
  | "simplejwt_pair"
  | "simplejwt_refresh"
  | "simplejwt_empty";

/**
 * Where a row comes from: `seed` (docs/refresh_token.md), `origin: <file> <function>` (the
 * code the origin runs: ps-web at 4c7ec2e, djangorestframework-simplejwt 5.3.1, DRF 3.15.2),
 * or `edge` (the edge's own). docs/contract.md shows the same column.
 */
export type Source = "seed" | "edge" | `origin: ${string}` | `seed; origin: ${string}` | `edge; origin: ${string}`;

export interface RouteSpec {
  method: "GET" | "POST";
  /** OpenAPI style, with the canonical trailing slash: /api/membership_status/{org_name}/ */
  path: string;
  operationId: string;
  summary: string;
  /** Required string fields of the request body (JSON, form or multipart). */
  body?: readonly string[];
  bearer?: boolean;
  success: readonly { status: 200; body: SuccessBody; description: string }[];
  /** The contract's error rows, each an example of a Problem the handler answers with. */
  problems: readonly Problem[];
  /** The source of the route's rows (its successes too); "edge" when unset. */
  source?: Source;
  /** Rows whose source differs from the route's, by Problem kind. */
  sources?: Partial<Record<Problem["kind"], Source>>;
  handler: (c: Context<AppEnv>) => Promise<Response>;
}

const USER = "<user_name>";
const ORG = "<org_name>";

/** A body's problems, as every route that reads one answers them (simplejwt's views too). */
export const BODY_PROBLEMS: readonly Problem[] = [
  { kind: "field_errors", fields: { "<field>": "This field is required." } },
  { kind: "json_parse_error", reason: "<reason>" },
  { kind: "body_unreadable" },
  { kind: "payload_too_large", limit: 65536 },
  { kind: "unsupported_media_type", mediaType: "<type>" },
];

/** A login forwarded to the origin (docs/contract.md "Passwords the origin checks"), the origin away. */
export const ORIGIN_PROBLEMS: readonly Problem[] = [
  { kind: "origin_not_set" },
  { kind: "origin_unreachable" },
  { kind: "origin_timeout" },
  { kind: "forwarding_loop" },
];
export const ORIGIN_SOURCES: Partial<Record<Problem["kind"], Source>> = {
  origin_not_set: "edge",
  origin_unreachable: "edge",
  origin_timeout: "edge",
  forwarding_loop: "edge",
};

const tokenProblems: readonly Problem[] = [{ kind: "token_not_valid" }, { kind: "token_blacklisted" }];

/** How DRF reads a body (docs/bodies.md); the size limit and a broken-off body are the edge's. */
export const BODY_SOURCES: Partial<Record<Problem["kind"], Source>> = {
  field_errors: "origin: rest_framework/fields.py CharField",
  json_parse_error: "origin: rest_framework/parsers.py JSONParser.parse",
  unsupported_media_type: "origin: rest_framework/request.py Request._parse",
  body_unreadable: "edge",
  payload_too_large: "edge",
};

const SERIALIZERS = "api/serializers.py";
const VIEWS = "api/views.py";
const SIMPLEJWT_AUTH = "rest_framework_simplejwt/authentication.py JWTAuthentication";

export const ROUTES: readonly RouteSpec[] = [
  {
    method: "POST",
    path: "/api/org_token/",
    operationId: "obtainOrgToken",
    summary: "Log in to an organization with a password: a new token pair",
    body: ["username", "password", "org_name"],
    success: [{ status: 200, body: "token_pair", description: "An active member: a new token pair" }],
    problems: [
      ...BODY_PROBLEMS,
      { kind: "bad_credentials" },
      { kind: "too_many_attempts", retryAfter: 60 },
      { kind: "unknown_organization", org: ORG },
      { kind: "not_member", user: USER, org: ORG },
      { kind: "member_not_active", user: USER, org: ORG },
      // A user whose password hash only the origin checks: its view's answer, or these.
      ...ORIGIN_PROBLEMS,
    ],
    source: `origin: ${SERIALIZERS} OrgTokenObtainPairSerializer.validate`,
    sources: {
      ...BODY_SOURCES,
      ...ORIGIN_SOURCES,
      bad_credentials: "origin: rest_framework_simplejwt/serializers.py TokenObtainSerializer.validate",
      too_many_attempts: "edge",
    },
    handler: login,
  },
  {
    method: "POST",
    path: "/api/org_token_github/",
    operationId: "obtainOrgTokenGitHub",
    summary: "Log in to an organization with a GitHub token: a new token pair",
    body: ["org_name", "access_token"],
    success: [{ status: 200, body: "token_pair", description: "An active member: a new token pair" }],
    problems: [
      ...BODY_PROBLEMS,
      { kind: "too_many_attempts", retryAfter: 60 },
      { kind: "no_social_account" },
      { kind: "github_unavailable", retryAfter: 30 },
      { kind: "permission_denied", denied: { kind: "unknown_organization", org: ORG } },
      { kind: "permission_denied", denied: { kind: "not_member", user: USER, org: ORG } },
      { kind: "permission_denied", denied: { kind: "user_inactive" } },
      { kind: "permission_denied", denied: { kind: "member_not_active", user: USER, org: ORG } },
    ],
    handler: loginGitHub,
  },
  {
    method: "POST",
    path: "/api/org_token/refresh/",
    operationId: "refreshOrgToken",
    summary: "Redeem a refresh token, once, for a new token pair",
    body: ["refresh"],
    success: [
      { status: 200, body: "token_pair", description: "An active member: a new pair; the presented token is consumed" },
      {
        status: 200,
        body: "active_flag",
        description: 'A member, not active: {"active": false}; the token stays usable',
      },
    ],
    problems: [
      ...BODY_PROBLEMS,
      ...tokenProblems,
      { kind: "unknown_organization", org: ORG },
      { kind: "not_member", user: USER, org: ORG },
      { kind: "user_inactive" },
    ],
    source: "seed",
    sources: {
      ...BODY_SOURCES,
      token_not_valid: "seed",
      token_blacklisted: "seed",
      // ps-web's OrgTokenRefreshSerializer.validate does not check the account: the edge's own.
      user_inactive: "edge",
    },
    handler: refresh,
  },
  {
    method: "POST",
    path: "/api/token/blacklist/",
    operationId: "blacklistRefreshToken",
    summary: "Log out: blacklist a refresh token",
    body: ["refresh"],
    success: [{ status: 200, body: "logout", description: "Blacklisted, whatever the membership: {}" }],
    problems: [
      ...BODY_PROBLEMS,
      { kind: "token_view_rejected", message: "Token is invalid or expired" },
      { kind: "token_view_rejected", message: "Token is blacklisted" },
    ],
    source: "origin: rest_framework_simplejwt/views.py TokenViewBase.post, serializers.py TokenBlacklistSerializer",
    sources: BODY_SOURCES,
    handler: logout,
  },
  {
    method: "GET",
    path: "/api/membership_status/{org_name}/",
    operationId: "membershipStatus",
    summary: "Whether the bearer of an access token is an active member of the organization",
    bearer: true,
    success: [{ status: 200, body: "active_flag", description: 'A member: {"active": true} or {"active": false}' }],
    problems: [
      { kind: "no_bearer_token" },
      { kind: "bad_authorization_header" },
      { kind: "access_token_not_valid", message: "Token is invalid or expired" },
      { kind: "no_user_identification" },
      { kind: "user_not_found" },
      { kind: "user_inactive" },
      { kind: "status_unknown_org", org: ORG },
      { kind: "status_invalid_token" },
      { kind: "status_not_member", user: USER, org: ORG },
      { kind: "status_org_mismatch", tokenOrg: "<token org_name>", org: ORG },
    ],
    source: `origin: ${VIEWS} get_token_org_active_membership`,
    sources: {
      no_bearer_token: `origin: ${VIEWS} get_user_in_token`,
      bad_authorization_header: `origin: ${SIMPLEJWT_AUTH}.get_raw_token`,
      access_token_not_valid: `origin: ${SIMPLEJWT_AUTH}.get_validated_token`,
      no_user_identification: `origin: ${SIMPLEJWT_AUTH}.get_user`,
      user_not_found: `origin: ${SIMPLEJWT_AUTH}.get_user`,
      user_inactive: `origin: ${SIMPLEJWT_AUTH}.get_user`,
    },
    handler: membershipStatus,
  },
  {
    method: "GET",
    path: HEALTH_PATH,
    operationId: "health",
    summary: "Whether the Worker reaches D1 and KV (no data read or shown)",
    success: [{ status: 200, body: "health", description: 'Both answer: {"status": "ok"}' }],
    problems: [{ kind: "unhealthy", failed: ["d1", "kv"] }],
    source: "edge",
    handler: health,
  },
  {
    method: "POST",
    path: "/api/org_token/sync/",
    operationId: "originSync",
    summary: "The Django origin's changes, signed (docs/sync.md): applied all or nothing",
    success: [
      {
        status: 200,
        body: "sync_result",
        description: 'Applied, or nothing to do: {"applied": n, "stale": n, "duplicate": false}',
      },
    ],
    problems: [
      { kind: "sync_malformed", detail: "<what>", record: 0 },
      { kind: "sync_bad_signature" },
      { kind: "sync_stale_timestamp" },
      { kind: "sync_conflict", detail: "Not the open full run" },
      { kind: "payload_too_large", limit: 1048576 },
      { kind: "unsupported_media_type", mediaType: "<type>" },
    ],
    handler: sync,
  },
];

/** Where the problems any route may answer come from. */
export const COMMON_SOURCES: Partial<Record<Problem["kind"], Source>> = {
  method_not_allowed: "origin: rest_framework/views.py APIView.http_method_not_allowed",
  storage_unavailable: "edge",
  misconfigured: "edge",
};

/** A row's source: the route's override for its kind, the common one, else the route's. */
export function sourceOf(route: RouteSpec, kind: Problem["kind"] | undefined): Source {
  return (kind && (route.sources?.[kind] ?? COMMON_SOURCES[kind])) ?? route.source ?? "edge";
}

/** Problems any route may answer. */
export const COMMON_PROBLEMS: readonly Problem[] = [
  { kind: "method_not_allowed", method: "<method>", allow: ["<allowed>"] },
  { kind: "storage_unavailable", retryAfter: 1 },
  { kind: "misconfigured" },
];
