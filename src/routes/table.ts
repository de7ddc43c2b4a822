/**
 * The API's routes as data: the app registers them and the OpenAPI document is generated
 * from them, so neither can say something the other does not.
 */
import type { Context } from "hono";
import type { Problem } from "../errors";
import type { AppEnv } from "../types";
import { HEALTH_PATH, health } from "./health";
import { login } from "./login";
import { logout } from "./logout";
import { membershipStatus } from "./membership-status";
import { refresh } from "./refresh";
import { sync } from "./sync";

export type SuccessBody = "token_pair" | "active_flag" | "logout" | "health" | "sync_result";

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
  handler: (c: Context<AppEnv>) => Promise<Response>;
}

const USER = "<user_name>";
const ORG = "<org_name>";

const bodyProblems: readonly Problem[] = [
  { kind: "field_errors", fields: { "<field>": "This field is required." } },
  { kind: "json_parse_error", reason: "<reason>" },
  { kind: "body_unreadable" },
  { kind: "payload_too_large", limit: 65536 },
  { kind: "unsupported_media_type", mediaType: "<type>" },
];

const tokenProblems: readonly Problem[] = [{ kind: "token_not_valid" }, { kind: "token_blacklisted" }];

export const ROUTES: readonly RouteSpec[] = [
  {
    method: "POST",
    path: "/api/org_token/",
    operationId: "obtainOrgToken",
    summary: "Log in to an organization with a password: a new token pair",
    body: ["username", "password", "org_name"],
    success: [{ status: 200, body: "token_pair", description: "An active member: a new token pair" }],
    problems: [
      ...bodyProblems,
      { kind: "bad_credentials" },
      { kind: "too_many_attempts", retryAfter: 60 },
      { kind: "unknown_organization", org: ORG },
      { kind: "not_member", user: USER, org: ORG },
      { kind: "member_not_active", user: USER, org: ORG },
    ],
    handler: login,
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
      ...bodyProblems,
      ...tokenProblems,
      { kind: "unknown_organization", org: ORG },
      { kind: "not_member", user: USER, org: ORG },
      { kind: "user_inactive" },
    ],
    handler: refresh,
  },
  {
    method: "POST",
    path: "/api/token/blacklist/",
    operationId: "blacklistRefreshToken",
    summary: "Log out: blacklist a refresh token",
    body: ["refresh"],
    success: [
      { status: 200, body: "logout", description: 'Blacklisted: {} for an active member, {"active": false} otherwise' },
    ],
    problems: [...bodyProblems, ...tokenProblems],
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
      { kind: "access_token_not_valid" },
      { kind: "wrong_organization" },
      { kind: "unknown_organization", org: ORG },
      { kind: "not_member", user: USER, org: ORG },
      { kind: "user_inactive" },
    ],
    handler: membershipStatus,
  },
  {
    method: "GET",
    path: HEALTH_PATH,
    operationId: "health",
    summary: "Whether the Worker reaches D1 and KV (no data read or shown)",
    success: [{ status: 200, body: "health", description: 'Both answer: {"status": "ok"}' }],
    problems: [{ kind: "unhealthy", failed: ["d1", "kv"] }],
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

/** Problems any route may answer. */
export const COMMON_PROBLEMS: readonly Problem[] = [
  { kind: "method_not_allowed", method: "<method>", allow: ["<allowed>"] },
  { kind: "storage_unavailable", retryAfter: 1 },
  { kind: "misconfigured" },
];
