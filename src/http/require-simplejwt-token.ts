/**
 * `requireSimpleJwtToken()`: simplejwt's JWTAuthentication on a DRF view with IsAuthenticated,
 * as Hono middleware for a host's own routes (rest_framework_simplejwt/authentication.py,
 * 5.2.2 to 5.5.1; AUTH_TOKEN_CLASSES = AccessToken). The header AUTH_HEADER_NAME names, its
 * type one of AUTH_HEADER_TYPES, the access token decoded and checked as simplejwt's views
 * check theirs (src/tokens/simplejwt.ts), then its user read from D1 (users_user by id,
 * is_active). The edge adds one check: a session ended at the edge (logout, reuse, an
 * admin's end, sessions_revoked_at) is "Token is blacklisted". Every refusal is DRF's 401 with
 * `WWW-Authenticate: <first AUTH_HEADER_TYPES> realm="api"`; the verified token then sits on
 * the context under `simpleJwtToken` (docs/contract.md, `requireSimpleJwtToken()`).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Clock } from "../clock";
import type { Config, SimpleJwtConfig } from "../config";
import { ConfigError } from "../settings";
import type { Stores } from "../storage";
import { decodeToken, issuedAtMsOf, tokenMessage, userRefOf } from "../tokens/simplejwt";
import { jsonRendering } from "./drf-rendering";
import { addVary, indented } from "./negotiation";
import { problemOf, problemResponse } from "./problem";
import { liveUserSession } from "./session-ends";

/** What `requireSimpleJwtToken()` puts on the context, as `c.var.simpleJwtToken`. */
export interface VerifiedSimpleJwtToken {
  /**
   * The id here (users_user.id) of the user the token's USER_ID_CLAIM names, found and active:
   * the origin's integer primary key, or, for a user model keyed by a UUID, a number of the
   * edge's own, never given to another user (the origin's key is then the USER_ID_CLAIM claim).
   */
  userId: number;
  /** Every verified claim, named as the origin's SIMPLE_JWT names them (token_type, exp, iat, jti, user_id, …). */
  claims: Readonly<Record<string, unknown>>;
}

export interface SimpleJwtTokenVariables {
  simpleJwtToken: VerifiedSimpleJwtToken;
}

type GuardEnv<E extends object> = { Bindings: E; Variables: SimpleJwtTokenVariables };
/** The request's configuration and stores (the app's one seam); a misconfiguration is already the contract's 500. */
type Prepare<E extends object> = (c: Context<GuardEnv<E>>) => Promise<{ config: Config; stores: Stores }>;

/** AUTH_TOKEN_CLASSES' one class, as InvalidToken's `messages` names it. */
const ACCESS_TOKEN = { token_class: "AccessToken", token_type: "access" } as const;

/** A 401's body; the realm header goes with every one. */
type Refusal = { refused: Record<string, unknown> };

/** DRF's NotAuthenticated: no credentials, so IsAuthenticated refuses (no code in the body). */
const NOT_PROVIDED: Refusal = { refused: { detail: "Authentication credentials were not provided." } };

/** JWTAuthentication.get_validated_token's InvalidToken: one message per token class. */
function notValid(message: string): Refusal {
  return {
    refused: {
      detail: "Given token not valid for any token type",
      code: "token_not_valid",
      messages: [{ ...ACCESS_TOKEN, message }],
    },
  };
}

/**
 * The header request.META[AUTH_HEADER_NAME] holds: HTTP_X_ACCESS_TOKEN is `X-Access-Token`.
 * WSGI files Content-Type and Content-Length under CONTENT_TYPE and CONTENT_LENGTH, never
 * with the HTTP_ prefix: those two names find nothing at the origin, and nothing here.
 */
function headerOf(c: Context, metaName: string): string | undefined {
  if (metaName === "HTTP_CONTENT_TYPE" || metaName === "HTTP_CONTENT_LENGTH") return undefined;
  return c.req.header(metaName.slice("HTTP_".length).replaceAll("_", "-"));
}

/** Python's bytes.split(): on runs of ASCII whitespace, none empty. */
function pythonSplit(value: string): string[] {
  return value.split(/[ \t\n\r\v\f]+/).filter((part) => part !== "");
}

export function simpleJwtTokenGuard<E extends object>(
  prepare: Prepare<E>,
  clock: Clock,
): MiddlewareHandler<GuardEnv<E>> {
  /** JWTAuthentication.authenticate, then IsAuthenticated: the token, or the 401's body. */
  async function authenticate(
    c: Context<GuardEnv<E>>,
    sj: SimpleJwtConfig,
    stores: Stores,
  ): Promise<{ verified: VerifiedSimpleJwtToken } | Refusal> {
    // get_header, get_raw_token: no header, an empty one or another type is no credentials.
    const header = headerOf(c, sj.authHeaderName);
    if (header === undefined) return NOT_PROVIDED;
    const parts = pythonSplit(header);
    if (parts.length === 0 || !sj.authHeaderTypes.includes(parts[0]!)) return NOT_PROVIDED;
    if (parts.length !== 2) {
      return {
        refused: {
          detail: "Authorization header must contain two space-delimited values",
          code: "bad_authorization_header",
        },
      };
    }

    // get_validated_token: AccessToken(raw), decode then exp, id, type (no blacklist in its pipeline).
    const now = clock();
    const decoded = await decodeToken(parts[1]!, sj, now);
    if (!decoded.ok) return notValid(decoded.message);
    const { payload } = decoded;
    const message = tokenMessage(payload, sj, "access", now);
    if (message !== undefined) return notValid(message);

    // get_user: the claim, then the user by USER_ID_FIELD, the value converted as Django's
    // lookup converts it (a value it raises on: no user here).
    if (!(sj.userIdClaim in payload)) {
      return { refused: { detail: "Token contained no recognizable user identification", code: "token_not_valid" } };
    }
    const user = userRefOf(payload[sj.userIdClaim], sj);
    const userNotFound = { refused: { detail: "User not found", code: "user_not_found" } };
    if (user === undefined) return userNotFound;
    // The user, and the edge's ended sessions (D1 and KV): an ended one is refused as a
    // blacklisted token would be in get_validated_token, before the user's rows.
    const family = typeof payload.fam === "string" ? payload.fam : undefined;
    const session = await liveUserSession(stores, { user, family, issuedAtMs: issuedAtMsOf(payload) });
    if (session.ended) return notValid("Token is blacklisted");
    if (session.user === "missing" || session.userId === undefined) return userNotFound;
    if (session.user === "inactive") return { refused: { detail: "User is inactive", code: "user_inactive" } };
    return { verified: { userId: session.userId, claims: payload } };
  }

  return async (c, next) => {
    let answer: { verified: VerifiedSimpleJwtToken } | Refusal;
    let realm: string;
    try {
      const { config, stores } = await prepare(c);
      const sj = config.simpleJwt;
      // As simplejwt's views: a setting the edge cannot honour is the 500, logged by name (below).
      if ("error" in sj) throw new ConfigError(sj.error);
      realm = sj.wwwAuthenticate;
      answer = await authenticate(c, sj, stores);
    } catch (error) {
      const problem = problemOf(error);
      if (problem !== undefined) return refusedAs(c, () => problemResponse(c, problem));
      throw error;
    }
    if ("refused" in answer) {
      const { refused } = answer;
      return refusedAs(c, () => c.json(refused, 401, { "WWW-Authenticate": realm }));
    }
    c.set("simpleJwtToken", answer.verified);
    await next();
  };
}

/**
 * A refusal as DRF renders it (./negotiation.ts): negotiated before authentication, so an
 * Accept header no renderer takes is the 406 instead (or a bad `format` DRF's 404), and the
 * refusal is indented as asked, with `Vary: Accept`. A request let through is the host's to render.
 */
async function refusedAs(c: Context, answer: () => Response): Promise<Response> {
  let response: Response;
  let indent: number | undefined;
  try {
    indent = jsonRendering(c).indent;
    response = answer();
  } catch (error) {
    const problem = problemOf(error);
    if (problem === undefined) throw error;
    response = problemResponse(c, problem);
  }
  const rendered = await indented(response, indent);
  addVary(rendered.headers, "Accept");
  return rendered;
}
