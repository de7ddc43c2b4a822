/**
 * simplejwt's four views as route rows, for the OpenAPI document (src/routes/openapi.ts): at
 * the paths the settings mount them, each with its body fields, its success and the contract's
 * rows ("simplejwt's views"), described as simplejwt's serializers define them.
 */
import type { SimpleJwtPaths, SimpleJwtView } from "../../config";
import type { Problem } from "../../errors";
import { BODY_PROBLEMS, BODY_SOURCES, ORIGIN_PROBLEMS, ORIGIN_SOURCES, type RouteSpec, type Source } from "../table";
import { SIMPLE_JWT_VIEW_SPECS } from "./index";

/** What the document needs of the views' settings. */
export interface SimpleJwtRoutesOptions {
  paths: SimpleJwtPaths;
  usernameField: string;
  wwwAuthenticate: string;
}

const D = "rest_framework_simplejwt/";
/** DRF's negotiation, before anything else (docs/contract.md "What the four views share"). */
const negotiationProblems: readonly Problem[] = [{ kind: "not_acceptable" }, { kind: "format_not_found" }];
const viewSources: Partial<Record<Problem["kind"], Source>> = {
  ...BODY_SOURCES,
  not_acceptable: "origin: rest_framework/negotiation.py DefaultContentNegotiation.select_renderer",
  format_not_found: "origin: rest_framework/negotiation.py DefaultContentNegotiation.filter_renderers",
  too_many_attempts: "edge",
  ...ORIGIN_SOURCES,
};

export function simpleJwtRoutes({ paths, usernameField, wwwAuthenticate }: SimpleJwtRoutesOptions): RouteSpec[] {
  const invalid = (message: string): Problem => ({
    kind: "simplejwt_token_not_valid",
    message,
    authenticate: wwwAuthenticate,
  });
  const rows: Record<SimpleJwtView, Omit<RouteSpec, "path" | "method" | "handler">> = {
    obtain: {
      operationId: "simpleJwtTokenObtainPair",
      summary: "simplejwt's TokenObtainPairView: a token pair for a username and password",
      body: [usernameField, "password"],
      success: [{ status: 200, body: "simplejwt_pair", description: "The user's pair, refresh first" }],
      problems: [
        ...BODY_PROBLEMS,
        ...negotiationProblems,
        { kind: "too_many_attempts", retryAfter: 60 },
        {
          kind: "simplejwt_no_active_account",
          message: "No active account found with the given credentials",
          authenticate: wwwAuthenticate,
        },
        // A user whose password hash only the origin checks: its view's answer, or these.
        ...ORIGIN_PROBLEMS,
      ],
      source: `origin: ${D}serializers.py TokenObtainPairSerializer.validate`,
    },
    refresh: {
      operationId: "simpleJwtTokenRefresh",
      summary: "simplejwt's TokenRefreshView: an access token (and, with ROTATE_REFRESH_TOKENS, a new refresh token)",
      body: ["refresh"],
      success: [
        { status: 200, body: "simplejwt_refresh", description: "The access token, then the rotated refresh token" },
      ],
      problems: [
        ...BODY_PROBLEMS,
        ...negotiationProblems,
        invalid("Token is invalid or expired"),
        invalid("Token is blacklisted"),
        {
          kind: "simplejwt_no_active_account",
          message: "No active account found for the given token.",
          authenticate: wwwAuthenticate,
        },
      ],
      source: `origin: ${D}serializers.py TokenRefreshSerializer.validate`,
    },
    verify: {
      operationId: "simpleJwtTokenVerify",
      summary: "simplejwt's TokenVerifyView: whether a token is valid",
      body: ["token"],
      success: [{ status: 200, body: "simplejwt_empty", description: "Valid: {}" }],
      problems: [
        ...BODY_PROBLEMS,
        ...negotiationProblems,
        invalid("Token is invalid or expired"),
        { kind: "simplejwt_verify_blacklisted" },
      ],
      source: `origin: ${D}serializers.py TokenVerifySerializer.validate`,
    },
    blacklist: {
      operationId: "simpleJwtTokenBlacklist",
      summary: "simplejwt's TokenBlacklistView: blacklist a refresh token",
      body: ["refresh"],
      success: [{ status: 200, body: "simplejwt_empty", description: "Blacklisted: {}" }],
      problems: [
        ...BODY_PROBLEMS,
        ...negotiationProblems,
        invalid("Token is invalid or expired"),
        invalid("Token is blacklisted"),
      ],
      source: `origin: ${D}serializers.py TokenBlacklistSerializer.validate`,
    },
  };
  return (Object.entries(paths) as [SimpleJwtView, string][]).map(([view, path]) => ({
    method: "POST",
    path,
    handler: SIMPLE_JWT_VIEW_SPECS[view].handler,
    sources: viewSources,
    ...rows[view],
  }));
}
