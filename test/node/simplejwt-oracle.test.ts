/**
 * The origin as the oracle of the edge's simplejwt views (issue 25): the stock project in
 * examples/simplejwt-project (Debian's Django 3.2, DRF 3.14, simplejwt 5.2.2) under runserver,
 * and the edge under `wrangler dev` configured from it as its operator would
 * (`org_token_edge_config --with-secrets`, users by `org_token_edge_sync --full`). Every case
 * sends the same requests to both and compares, step by step, the status, the body (tokens by
 * their claims: support/simplejwt.ts describeToken), its top-level key order, the media type,
 * WWW-Authenticate, and Allow on a 405.
 *
 * Per configuration (simplejwt's defaults; ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION; a
 * custom USER_ID_CLAIM and AUTH_HEADER_TYPES, the spec's answers renamed to them):
 * - "the harness": each case at the origin matches its `spec` (the statuses and exact bodies
 *   simplejwt 5.2.2 answers, measured at a running origin and written down), and a second origin
 *   process answers it identically. This proves the comparison compares what it should,
 *   independently of the edge.
 * - "the edge against the origin": the same cases, origin vs edge; then tokens crossing: one
 *   side issues, the other refreshes, verifies, blacklists (and the origin's protected view
 *   takes the edge's access token).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VAR_NAMES } from "../../src/env-names";
import { type LocalWorker, seedDatabase, startWorker } from "./support/local-worker";
import {
  type Algorithm,
  decode,
  describeToken,
  type EdgeVars,
  edgeVarsFromOrigin,
  exampleEnv,
  IAT_NOW_OR_PRESENTED,
  manage,
  mint,
  type Origin,
  reconcile,
  startOrigin,
} from "./support/simplejwt";

const SIGNING_KEY = "oracle-test-signing-key-that-is-long-enough-0123456789";
const SYNC_SECRET = "oracle-test-sync-secret-that-is-long-enough-0123456789";
const OTHER_KEY = "not-the-shared-key-but-just-as-long-0123456789abcdef";
const PASSWORD = { alice: "alice's password 1", bob: "bob's password 2" };
const LIFETIMES = { access: 300, refresh: 86_400 }; // simplejwt's defaults, both configurations
const WWW = 'Bearer realm="api"';
const P = {
  obtain: "/api/token/",
  refresh: "/api/token/refresh/",
  verify: "/api/token/verify/",
  blacklist: "/api/token/blacklist/",
  whoami: "/api/whoami/",
};

interface Config {
  name: string;
  env: Record<string, string>;
  rotate: boolean;
  blacklistAfterRotation: boolean;
  /** Whether the harness is also checked against a second origin process (once is enough: it checks the harness, not the settings). */
  secondOrigin?: boolean;
  /** USER_ID_CLAIM (simplejwt's default: user_id). */
  userIdClaim?: string;
  /** AUTH_HEADER_TYPES (simplejwt's default: Bearer); the first names WWW-Authenticate's type. */
  headerTypes?: string[];
  /** The HTTP header AUTH_HEADER_NAME names (simplejwt's default HTTP_AUTHORIZATION: Authorization). */
  headerName?: string;
}
const CONFIGS: Config[] = [
  { name: "simplejwt's defaults", env: {}, rotate: false, blacklistAfterRotation: false, secondOrigin: true },
  {
    name: "ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION on",
    env: { SIMPLE_JWT_ROTATE: "1" },
    rotate: true,
    blacklistAfterRotation: true,
  },
  {
    name: 'a custom user id claim and header type (USER_ID_CLAIM "uid", AUTH_HEADER_TYPES ("JWT",))',
    env: { SIMPLE_JWT_USER_ID_CLAIM: "uid", SIMPLE_JWT_AUTH_HEADER_TYPES: '["JWT"]' },
    rotate: false,
    blacklistAfterRotation: false,
    userIdClaim: "uid",
    headerTypes: ["JWT"],
  },
  {
    name: 'ROTATE_REFRESH_TOKENS alone, AUTH_HEADER_NAME "HTTP_X_ACCESS_TOKEN", AUTH_HEADER_TYPES ("JWT", "Bearer")',
    env: {
      SIMPLE_JWT_ROTATE_REFRESH_TOKENS: "true",
      SIMPLE_JWT_AUTH_HEADER_NAME: "HTTP_X_ACCESS_TOKEN",
      SIMPLE_JWT_AUTH_HEADER_TYPES: '["JWT", "Bearer"]',
    },
    rotate: true,
    blacklistAfterRotation: false,
    headerTypes: ["JWT", "Bearer"],
    headerName: "X-Access-Token",
  },
];

const userIdClaim = (config: Config) => config.userIdClaim ?? "user_id";
const headerTypes = (config: Config) => config.headerTypes ?? ["Bearer"];
const headerType = (config: Config) => headerTypes(config)[0]!;
const headerName = (config: Config) => config.headerName ?? "Authorization";

/**
 * Vars the edge needs that are not the origin's: the origin has no login throttle, and the
 * cases' failed logins (about 15 for alice) would pass the edge's default 10 per username and
 * address. The configuration under test is entirely the origin's.
 */
/** The edge: the repository's Worker with a protected host route, the origin's /api/whoami/. */
const HOST = "test/node/support/simplejwt-host.ts";

const EDGE_ONLY_VARS = {
  LOGIN_PAIR_FAILURE_LIMIT: "1000000",
  LOGIN_USER_FAILURE_LIMIT: "1000000",
  LOGIN_ADDRESS_FAILURE_LIMIT: "1000000",
};

interface Side {
  name: string;
  url: string;
}
interface Users {
  alice: number;
  bob: number;
}
interface Context {
  config: Config;
  users: Users;
}

type Body =
  | { json: unknown }
  | { form: Array<[string, string]> }
  | { multipart: Array<[string, string]> }
  | { raw: string | Uint8Array; type?: string }
  | undefined;

/** One answer as the comparison sees it. */
interface Observation {
  step: string;
  status: number;
  /** Content-Type's media type (DRF writes no charset). */
  mediaType: string | null;
  wwwAuthenticate: string | null;
  /** On a 405 only. */
  allow?: string | null;
  /** The JSON body's top-level keys in order (simplejwt's pair is refresh then access). */
  bodyKeys?: string[];
  /** The JSON body with each token described (describeToken); else the text. */
  body: unknown;
}

const now = () => Math.floor(Date.now() / 1000);
const hex32 = () => randomBytes(16).toString("hex");

/** The requests of one case, as one client makes them: obtain at `issuer`, everything else at `user`. */
class Session {
  readonly observations: Observation[] = [];
  constructor(
    readonly issuer: Side,
    readonly user: Side,
    readonly ctx: Context,
  ) {}

  /** The configuration's USER_ID_CLAIM. */
  get uid(): string {
    return userIdClaim(this.ctx.config);
  }

  async send(
    step: string,
    side: Side,
    method: string,
    path: string,
    body?: Body,
    headers: Record<string, string> = {},
  ) {
    const init: RequestInit = {
      method,
      headers: { ...headers },
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    };
    let fields: Record<string, unknown> | undefined;
    if (body !== undefined) {
      if ("json" in body) {
        init.body = JSON.stringify(body.json);
        (init.headers as Record<string, string>)["Content-Type"] = "application/json";
        if (typeof body.json === "object" && body.json !== null) fields = body.json as Record<string, unknown>;
      } else if ("form" in body) {
        init.body = new URLSearchParams(body.form);
        fields = Object.fromEntries(body.form);
      } else if ("multipart" in body) {
        const data = new FormData();
        for (const [name, value] of body.multipart) data.append(name, value);
        init.body = data;
        fields = Object.fromEntries(body.multipart);
      } else {
        init.body = body.raw;
        if (body.type !== undefined) (init.headers as Record<string, string>)["Content-Type"] = body.type;
      }
    }
    const presented = decode(fields?.refresh ?? fields?.token)?.payload;
    const sentAt = now();
    const response = await fetch(`${side.url}${path}`, init);
    const text = await response.text();
    const answeredAt = now();
    const mediaType = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? null;
    let json: unknown;
    let described: unknown = text;
    let bodyKeys: string[] | undefined;
    if (mediaType === "application/json") {
      try {
        json = JSON.parse(text);
      } catch {
        described = `not JSON: ${text.slice(0, 200)}`;
      }
      if (json !== undefined) described = json;
      if (typeof json === "object" && json !== null && !Array.isArray(json)) {
        bodyKeys = Object.keys(json);
        described = Object.fromEntries(
          Object.entries(json).map(([name, value]) =>
            (name === "access" || name === "refresh") && typeof value === "string"
              ? [name, describeToken(value, { sentAt, answeredAt, lifetimes: LIFETIMES, presented, key: SIGNING_KEY })]
              : [name, value],
          ),
        );
      }
    } else if (text.length > 200) {
      described = `${text.slice(0, 200)}...`;
    }
    const observation: Observation = {
      step,
      status: response.status,
      mediaType,
      wwwAuthenticate: response.headers.get("www-authenticate"),
      body: described,
    };
    if (response.status === 405) observation.allow = response.headers.get("allow");
    if (bodyKeys !== undefined) observation.bodyKeys = bodyKeys;
    this.observations.push(observation);
    return { status: response.status, json: json as Record<string, string> | undefined };
  }

  /** GET the protected view at the user side, `value` in the header AUTH_HEADER_NAME names. */
  whoami(step: string, value: string) {
    return this.send(step, this.user, "GET", P.whoami, undefined, { [headerName(this.ctx.config)]: value });
  }

  /** POST at the user side. */
  post(step: string, path: string, body?: Body) {
    return this.send(step, this.user, "POST", path, body);
  }

  /** A pair for `username` from the issuer side (JSON). */
  async obtain(step: string, username: keyof typeof PASSWORD = "alice") {
    const answer = await this.send(step, this.issuer, "POST", P.obtain, {
      json: { username, password: PASSWORD[username] },
    });
    return { access: answer.json?.access ?? "", refresh: answer.json?.refresh ?? "" };
  }

  /** A token signed here with the shared key: a refresh token of alice issued 100 s ago, unless overridden (undefined removes a claim). */
  mint(overrides: Record<string, unknown> = {}, { key = SIGNING_KEY, alg = "HS256" as Algorithm } = {}) {
    const t = now();
    const claims: Record<string, unknown> = {
      token_type: "refresh",
      exp: t + 3_600,
      iat: t - 100,
      jti: hex32(),
      [this.uid]: this.ctx.users.alice,
      ...overrides,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return mint(claims, key, alg);
  }
}

// The spec's answers (5.2.2), as the harness checks the origin against them.
const jsonAnswer = (status: number, body: Record<string, unknown>, wwwAuthenticate: string | null = null) => ({
  status,
  mediaType: "application/json",
  wwwAuthenticate,
  bodyKeys: Object.keys(body),
  body,
});
const noAccount = jsonAnswer(401, { detail: "No active account found with the given credentials" }, WWW);
const invalid = (detail: string) => jsonAnswer(401, { detail, code: "token_not_valid" }, WWW);
const INVALID = invalid("Token is invalid or expired");
const BLACKLISTED = invalid("Token is blacklisted");
const WRONG_TYPE = invalid("Token has wrong type");
const fields400 = (body: Record<string, unknown>) => jsonAnswer(400, body);
const REQUIRED = ["This field is required."];
const BLANK = ["This field may not be blank."];
const NOT_STRING = ["Not a valid string."];
const OK_EMPTY = jsonAnswer(200, {});
const NOT_PROVIDED = jsonAnswer(401, { detail: "Authentication credentials were not provided." }, WWW);
/** JWTAuthentication's answer to an access token that fails its checks. */
const notValidForAny = (message: string) =>
  jsonAnswer(
    401,
    {
      detail: "Given token not valid for any token type",
      code: "token_not_valid",
      messages: [{ token_class: "AccessToken", token_type: "access", message }],
    },
    WWW,
  );
const notAllowed = (method: string) => ({
  ...jsonAnswer(405, { detail: `Method "${method}" not allowed.` }),
  allow: "POST, OPTIONS",
});
/** A token as simplejwt 5.2.2 issues it (claims by value, exp/iat/jti by shape). */
const token = (
  type: "access" | "refresh",
  userId: number | null,
  { iat = "now", jti = "new, 32 hex", extra = {} as Record<string, unknown> } = {},
) => {
  const claims: Record<string, unknown> = { token_type: type, ...extra };
  if (userId !== null) claims.user_id = userId;
  return {
    header: { alg: "HS256", typ: "JWT" },
    claims,
    claimNames: [...Object.keys(claims), "exp", "iat", "jti"].sort(),
    exp: "now + lifetime",
    iat,
    jti,
    signature: "the shared key",
  };
};
const pair = (userId: number) =>
  jsonAnswer(200, { refresh: token("refresh", userId), access: token("access", userId) });
/** Refresh's 200: the access's iat is the presented refresh's (5.2.2); with rotation a new refresh after it. */
const refreshed = (ctx: Context, userId: number | null = ctx.users.alice, extra = {}) =>
  jsonAnswer(
    200,
    ctx.config.rotate
      ? {
          access: token("access", userId, { iat: "the presented token's", extra }),
          refresh: token("refresh", userId, { extra }),
        }
      : { access: token("access", userId, { iat: "the presented token's", extra }) },
  );

interface Case {
  name: string;
  /** At the origin only (its own protected view): in the harness and where the edge issues the token. */
  originOnly?: boolean;
  /** Its tokens can be issued by one side and presented to the other. */
  cross?: boolean;
  run(s: Session): Promise<void>;
  /** The origin's answers, step by step, as the spec records them (each matched as a subset). */
  spec(ctx: Context): Array<Record<string, unknown>>;
}

const alice = (password = PASSWORD.alice) => ({ username: "alice", password });

const CASES: Case[] = [
  // TokenObtainPairView
  {
    name: "obtain: good credentials (JSON)",
    run: async (s) => void (await s.obtain("obtain")),
    spec: ({ users }) => [pair(users.alice)],
  },
  {
    name: "obtain: wrong password",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: alice("not alice's password") })),
    spec: () => [noAccount],
  },
  {
    name: "obtain: unknown user",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: { username: "nobody", password: "x" } })),
    spec: () => [noAccount],
  },
  {
    name: "obtain: inactive user, right password",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: { username: "bob", password: PASSWORD.bob } })),
    spec: () => [noAccount],
  },
  {
    name: "obtain: numbers for strings are coerced (then no account)",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: { username: 123, password: 1.5 } })),
    spec: () => [noAccount],
  },
  {
    name: "obtain: fields missing ({}, username only, password only)",
    run: async (s) => {
      await s.post("{}", P.obtain, { json: {} });
      await s.post("username only", P.obtain, { json: { username: "alice" } });
      await s.post("password only", P.obtain, { json: { password: PASSWORD.alice } });
    },
    spec: () => [
      fields400({ username: REQUIRED, password: REQUIRED }),
      fields400({ password: REQUIRED }),
      fields400({ username: REQUIRED }),
    ],
  },
  {
    name: "obtain: null and blank",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: { username: null, password: "" } })),
    spec: () => [fields400({ username: ["This field may not be null."], password: BLANK })],
  },
  {
    name: "obtain: whitespace only is blank",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: { username: "   ", password: "\t" } })),
    spec: () => [fields400({ username: BLANK, password: BLANK })],
  },
  {
    name: "obtain: non-strings (bool, list, object)",
    run: async (s) => {
      await s.post("bool, list", P.obtain, { json: { username: true, password: ["x"] } });
      await s.post("object, bool", P.obtain, { json: { username: { a: 1 }, password: false } });
    },
    spec: () => [
      fields400({ username: NOT_STRING, password: NOT_STRING }),
      fields400({ username: NOT_STRING, password: NOT_STRING }),
    ],
  },
  {
    name: "obtain: a NUL character",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: { username: "al\u0000ice", password: "x" } })),
    spec: () => [fields400({ username: ["Null characters are not allowed."] })],
  },
  {
    name: "obtain: a lone surrogate",
    run: async (s) =>
      void (await s.post("obtain", P.obtain, {
        raw: '{"username":"\\ud800","password":"x"}',
        type: "application/json",
      })),
    spec: () => [fields400({ username: ["Surrogate characters are not allowed: U+D800."] })],
  },
  {
    name: "obtain: surrounding whitespace is trimmed",
    run: async (s) =>
      void (await s.post("obtain", P.obtain, { json: { username: " alice ", password: ` ${PASSWORD.alice} ` } })),
    spec: ({ users }) => [pair(users.alice)],
  },
  {
    name: "obtain: unknown keys are ignored",
    run: async (s) => void (await s.post("obtain", P.obtain, { json: { ...alice(), org_name: "x", extra: 1 } })),
    spec: ({ users }) => [pair(users.alice)],
  },
  {
    name: "obtain: duplicate JSON keys, the last wins",
    run: async (s) =>
      void (await s.post("obtain", P.obtain, {
        raw: `{"username":"nobody","username":"alice","password":${JSON.stringify(PASSWORD.alice)}}`,
        type: "application/json",
      })),
    spec: ({ users }) => [pair(users.alice)],
  },
  {
    name: "obtain: application/json; charset=utf-8",
    run: async (s) =>
      void (await s.post("obtain", P.obtain, {
        raw: JSON.stringify(alice()),
        type: "application/json; charset=utf-8",
      })),
    spec: ({ users }) => [pair(users.alice)],
  },
  {
    name: "obtain: form-encoded (good, wrong password, blank, a repeated key's last value)",
    run: async (s) => {
      await s.post("good", P.obtain, { form: Object.entries(alice()) });
      await s.post("wrong password", P.obtain, { form: Object.entries(alice("wrong")) });
      await s.post("blank", P.obtain, {
        form: [
          ["username", ""],
          ["password", ""],
        ],
      });
      await s.post("repeated", P.obtain, {
        form: [
          ["username", "nobody"],
          ["username", "alice"],
          ["password", PASSWORD.alice],
        ],
      });
    },
    spec: ({ users }) => [
      pair(users.alice),
      noAccount,
      fields400({ username: BLANK, password: BLANK }),
      pair(users.alice),
    ],
  },
  {
    name: "obtain: multipart (good, password missing)",
    run: async (s) => {
      await s.post("good", P.obtain, { multipart: Object.entries(alice()) });
      await s.post("password missing", P.obtain, { multipart: [["username", "alice"]] });
    },
    spec: ({ users }) => [pair(users.alice), fields400({ password: REQUIRED })],
  },
  {
    name: "obtain: no body",
    run: async (s) => {
      await s.post("no body at all", P.obtain);
      await s.post("empty JSON body", P.obtain, { raw: "", type: "application/json" });
    },
    spec: () => [
      fields400({ username: REQUIRED, password: REQUIRED }),
      fields400({ username: REQUIRED, password: REQUIRED }),
    ],
  },
  {
    name: "obtain: bad JSON",
    run: async (s) => void (await s.post("obtain", P.obtain, { raw: "{bad", type: "application/json" })),
    spec: () => [
      jsonAnswer(400, {
        detail: "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
      }),
    ],
  },
  {
    name: "obtain: NaN in JSON",
    run: async (s) =>
      void (await s.post("obtain", P.obtain, { raw: '{"username":NaN,"password":"x"}', type: "application/json" })),
    spec: () => [
      jsonAnswer(400, { detail: "JSON parse error - Out of range float values are not JSON compliant: 'NaN'" }),
    ],
  },
  {
    name: "obtain: invalid UTF-8",
    run: async (s) =>
      void (await s.post("obtain", P.obtain, {
        raw: Buffer.concat([Buffer.from('{"username":"'), Buffer.from([0xff]), Buffer.from('","password":"x"}')]),
        type: "application/json",
      })),
    spec: () => [
      jsonAnswer(400, {
        detail: "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 13: invalid start byte",
      }),
    ],
  },
  {
    name: "obtain: JSON that is not an object (list, string, null)",
    run: async (s) => {
      await s.post("[1]", P.obtain, { raw: "[1]", type: "application/json" });
      await s.post('"x"', P.obtain, { raw: '"x"', type: "application/json" });
      await s.post("null", P.obtain, { raw: "null", type: "application/json" });
    },
    spec: () => [
      fields400({ non_field_errors: ["Invalid data. Expected a dictionary, but got list."] }),
      fields400({ non_field_errors: ["Invalid data. Expected a dictionary, but got str."] }),
      fields400({ non_field_errors: ["No data provided"] }),
    ],
  },
  {
    name: "obtain: text/plain is 415",
    run: async (s) => void (await s.post("obtain", P.obtain, { raw: JSON.stringify(alice()), type: "text/plain" })),
    spec: () => [jsonAnswer(415, { detail: 'Unsupported media type "text/plain" in request.' })],
  },
  {
    name: "obtain: GET and PUT are 405 with Allow",
    run: async (s) => {
      await s.send("GET", s.user, "GET", P.obtain);
      await s.send("PUT", s.user, "PUT", P.obtain, { json: alice() });
    },
    spec: () => [notAllowed("GET"), notAllowed("PUT")],
  },

  // TokenRefreshView
  {
    name: "refresh: the refresh token of a pair",
    cross: true,
    run: async (s) => {
      const { refresh } = await s.obtain("obtain");
      await s.post("refresh", P.refresh, { json: { refresh } });
    },
    spec: (ctx) => [pair(ctx.users.alice), refreshed(ctx)],
  },
  {
    name: "refresh: a refresh token issued 100 s ago (access iat copied, rotation renews it)",
    run: async (s) => void (await s.post("refresh", P.refresh, { json: { refresh: s.mint() } })),
    spec: (ctx) => [refreshed(ctx)],
  },
  {
    name: "refresh: a token without user_id keeps its custom claims (test_it_should_return_access_token_if_everything_ok)",
    run: async (s) =>
      void (await s.post("refresh", P.refresh, {
        json: { refresh: s.mint({ [s.uid]: undefined, test_claim: "arst" }) },
      })),
    spec: (ctx) => [refreshed(ctx, null, { test_claim: "arst" })],
  },
  {
    name: "refresh: a token of an inactive user, of no user (5.2.2 checks neither; test_it_should_raise_error_for_inactive_users is 5.4+)",
    run: async (s) => {
      await s.post("inactive", P.refresh, { json: { refresh: s.mint({ [s.uid]: s.ctx.users.bob }) } });
      await s.post("no such user", P.refresh, { json: { refresh: s.mint({ [s.uid]: 987_654_321 }) } });
    },
    spec: (ctx) => [refreshed(ctx, ctx.users.bob), refreshed(ctx, 987_654_321)],
  },
  {
    name: "refresh and blacklist: a token_type of another name (test_it_should_raise_token_error_if_token_has_wrong_type)",
    run: async (s) => {
      await s.post("refresh", P.refresh, { json: { refresh: s.mint({ token_type: "wrong_type" }) } });
      await s.post("blacklist", P.blacklist, { json: { refresh: s.mint({ token_type: "wrong_type" }) } });
    },
    spec: () => [WRONG_TYPE, WRONG_TYPE],
  },
  {
    name: "refresh: form-encoded and multipart",
    run: async (s) => {
      await s.post("form", P.refresh, { form: [["refresh", s.mint()]] });
      await s.post("multipart", P.refresh, { multipart: [["refresh", s.mint()]] });
    },
    spec: (ctx) => [refreshed(ctx), refreshed(ctx)],
  },
  {
    name: "refresh: field missing, blank, null",
    run: async (s) => {
      await s.post("{}", P.refresh, { json: {} });
      await s.post("blank", P.refresh, { json: { refresh: "  " } });
      await s.post("null", P.refresh, { json: { refresh: null } });
    },
    spec: () => [
      fields400({ refresh: REQUIRED }),
      fields400({ refresh: BLANK }),
      fields400({ refresh: ["This field may not be null."] }),
    ],
  },
  {
    name: "refresh: not a token (a string, a number)",
    run: async (s) => {
      await s.post("abc", P.refresh, { json: { refresh: "abc" } });
      await s.post("5", P.refresh, { json: { refresh: 5 } });
    },
    spec: () => [INVALID, INVALID],
  },
  {
    name: "refresh: bad signature",
    run: async (s) => void (await s.post("refresh", P.refresh, { json: { refresh: s.mint({}, { key: OTHER_KEY }) } })),
    spec: () => [INVALID],
  },
  {
    name: "refresh: HS512 with the shared key (not the configured algorithm)",
    run: async (s) => void (await s.post("refresh", P.refresh, { json: { refresh: s.mint({}, { alg: "HS512" }) } })),
    spec: () => [INVALID],
  },
  {
    name: "refresh: expired (minted with the shared key, exp a second ago)",
    run: async (s) =>
      void (await s.post("refresh", P.refresh, { json: { refresh: s.mint({ exp: now() - 1, iat: now() - 3_600 }) } })),
    spec: () => [INVALID],
  },
  {
    name: "refresh: iat in the future, nbf in the future",
    run: async (s) => {
      await s.post("iat", P.refresh, { json: { refresh: s.mint({ iat: now() + 600 }) } });
      await s.post("nbf", P.refresh, { json: { refresh: s.mint({ nbf: now() + 600 }) } });
    },
    spec: () => [INVALID, INVALID],
  },
  {
    name: "refresh: no exp claim, no token_type claim",
    run: async (s) => {
      await s.post("no exp", P.refresh, { json: { refresh: s.mint({ exp: undefined }) } });
      await s.post("no token_type", P.refresh, { json: { refresh: s.mint({ token_type: undefined }) } });
    },
    spec: () => [invalid("Token has no 'exp' claim"), invalid("Token has no type")],
  },
  {
    name: "refresh: an access token (wrong type)",
    cross: true,
    run: async (s) => {
      const { access } = await s.obtain("obtain");
      await s.post("refresh with the access token", P.refresh, { json: { refresh: access } });
    },
    spec: ({ users }) => [pair(users.alice), WRONG_TYPE],
  },
  {
    name: "refresh: the same refresh token again (rotation on: blacklisted; off: still valid)",
    cross: true,
    run: async (s) => {
      const { refresh } = await s.obtain("obtain");
      await s.post("first", P.refresh, { json: { refresh } });
      await s.post("again", P.refresh, { json: { refresh } });
    },
    spec: (ctx) => [
      pair(ctx.users.alice),
      { status: 200 },
      ctx.config.rotate && ctx.config.blacklistAfterRotation
        ? BLACKLISTED
        : { status: 200, bodyKeys: ctx.config.rotate ? ["access", "refresh"] : ["access"] },
    ],
  },
  {
    name: "refresh: the rotated refresh token refreshes in turn",
    cross: true,
    run: async (s) => {
      const first = await s.post("first", P.refresh, { json: { refresh: (await s.obtain("obtain")).refresh } });
      if (first.json?.refresh !== undefined)
        await s.post("rotated", P.refresh, { json: { refresh: first.json.refresh } });
    },
    spec: (ctx) => [pair(ctx.users.alice), { status: 200 }, ...(ctx.config.rotate ? [refreshed(ctx)] : [])],
  },
  {
    name: "refresh: a blacklisted refresh token (test_it_should_return_401_if_token_is_blacklisted)",
    cross: true,
    run: async (s) => {
      const { refresh } = await s.obtain("obtain");
      await s.post("blacklist", P.blacklist, { json: { refresh } });
      await s.post("refresh", P.refresh, { json: { refresh } });
    },
    spec: ({ users }) => [pair(users.alice), OK_EMPTY, BLACKLISTED],
  },
  {
    name: "refresh: GET is 405",
    run: async (s) => void (await s.send("GET", s.user, "GET", P.refresh)),
    spec: () => [notAllowed("GET")],
  },

  // TokenVerifyView
  {
    name: "verify: the access and refresh tokens of a pair",
    cross: true,
    run: async (s) => {
      const { access, refresh } = await s.obtain("obtain");
      await s.post("access", P.verify, { json: { token: access } });
      await s.post("refresh", P.verify, { json: { token: refresh } });
    },
    spec: ({ users }) => [pair(users.alice), OK_EMPTY, OK_EMPTY],
  },
  {
    name: "verify: field missing, blank",
    run: async (s) => {
      await s.post("{}", P.verify, { json: {} });
      await s.post("blank", P.verify, { json: { token: "" } });
    },
    spec: () => [fields400({ token: REQUIRED }), fields400({ token: BLANK })],
  },
  {
    name: "verify: not a token, bad signature, expired",
    run: async (s) => {
      await s.post("abc", P.verify, { json: { token: "abc" } });
      await s.post("bad signature", P.verify, { json: { token: s.mint({}, { key: OTHER_KEY }) } });
      await s.post("expired", P.verify, { json: { token: s.mint({ exp: now() - 1, iat: now() - 3_600 }) } });
    },
    spec: () => [INVALID, INVALID, INVALID],
  },
  {
    name: "verify: no exp, no jti",
    run: async (s) => {
      await s.post("no exp", P.verify, { json: { token: s.mint({ exp: undefined }) } });
      await s.post("no jti", P.verify, { json: { token: s.mint({ jti: undefined }) } });
    },
    spec: () => [invalid("Token has no 'exp' claim"), invalid("Token has no id")],
  },
  {
    name: "verify: any token_type passes (test_it_should_ignore_token_type)",
    run: async (s) => {
      await s.post("fake_type", P.verify, { json: { token: s.mint({ token_type: "fake_type" }) } });
      await s.post("no token_type", P.verify, { json: { token: s.mint({ token_type: undefined }) } });
    },
    spec: () => [OK_EMPTY, OK_EMPTY],
  },
  {
    name: "verify: a blacklisted refresh token (400 with BLACKLIST_AFTER_ROTATION, else 200)",
    cross: true,
    run: async (s) => {
      const { refresh } = await s.obtain("obtain");
      await s.post("blacklist", P.blacklist, { json: { refresh } });
      await s.post("verify", P.verify, { json: { token: refresh } });
    },
    spec: (ctx) => [
      pair(ctx.users.alice),
      OK_EMPTY,
      ctx.config.blacklistAfterRotation ? fields400({ non_field_errors: ["Token is blacklisted"] }) : OK_EMPTY,
    ],
  },
  {
    name: "verify: a refresh token rotated out",
    cross: true,
    run: async (s) => {
      const { refresh } = await s.obtain("obtain");
      await s.post("refresh", P.refresh, { json: { refresh } });
      await s.post("verify the old one", P.verify, { json: { token: refresh } });
    },
    spec: (ctx) => [
      pair(ctx.users.alice),
      { status: 200 },
      ctx.config.rotate && ctx.config.blacklistAfterRotation
        ? fields400({ non_field_errors: ["Token is blacklisted"] })
        : OK_EMPTY,
    ],
  },
  {
    name: "verify: GET is 405",
    run: async (s) => void (await s.send("GET", s.user, "GET", P.verify)),
    spec: () => [notAllowed("GET")],
  },

  // TokenBlacklistView
  {
    name: "blacklist: a refresh token, then again",
    cross: true,
    run: async (s) => {
      const { refresh } = await s.obtain("obtain");
      await s.post("blacklist", P.blacklist, { json: { refresh } });
      await s.post("again", P.blacklist, { json: { refresh } });
    },
    spec: ({ users }) => [pair(users.alice), OK_EMPTY, BLACKLISTED],
  },
  {
    name: "blacklist: an access token (wrong type)",
    cross: true,
    run: async (s) => {
      const { access } = await s.obtain("obtain");
      await s.post("blacklist", P.blacklist, { json: { refresh: access } });
    },
    spec: ({ users }) => [pair(users.alice), WRONG_TYPE],
  },
  {
    name: "blacklist: a minted refresh token without user_id, again, then refreshed and verified (test_it_should_return_if_everything_ok)",
    run: async (s) => {
      const refresh = s.mint({ [s.uid]: undefined });
      await s.post("verify", P.verify, { json: { token: refresh } });
      await s.post("blacklist", P.blacklist, { json: { refresh } });
      await s.post("again", P.blacklist, { json: { refresh } });
      await s.post("refresh", P.refresh, { json: { refresh } });
    },
    spec: () => [OK_EMPTY, OK_EMPTY, BLACKLISTED, BLACKLISTED],
  },
  {
    name: "blacklist: a minted refresh token of no user",
    run: async (s) =>
      void (await s.post("blacklist", P.blacklist, { json: { refresh: s.mint({ [s.uid]: 987_654_321 }) } })),
    spec: () => [OK_EMPTY],
  },
  {
    name: "blacklist: field missing, not a token, expired, no exp",
    run: async (s) => {
      await s.post("{}", P.blacklist, { json: {} });
      await s.post("abc", P.blacklist, { json: { refresh: "abc" } });
      await s.post("expired", P.blacklist, { json: { refresh: s.mint({ exp: now() - 1, iat: now() - 3_600 }) } });
      await s.post("no exp", P.blacklist, { json: { refresh: s.mint({ exp: undefined }) } });
    },
    spec: () => [fields400({ refresh: REQUIRED }), INVALID, INVALID, invalid("Token has no 'exp' claim")],
  },
  {
    name: "blacklist: GET is 405",
    run: async (s) => void (await s.send("GET", s.user, "GET", P.blacklist)),
    spec: () => [notAllowed("GET")],
  },

  // A protected view: the origin's WhoAmIView (JWTAuthentication + IsAuthenticated), the edge's
  // host route behind requireSimpleJwtToken() (support/simplejwt-host.ts).
  {
    name: "whoami: the access token of a pair (test_get_user), and no token",
    cross: true,
    run: async (s) => {
      const { access } = await s.obtain("obtain");
      await s.whoami("whoami", `${headerType(s.ctx.config)} ${access}`);
      await s.send("no token", s.user, "GET", P.whoami);
    },
    spec: ({ users }) => [pair(users.alice), jsonAnswer(200, { id: users.alice, username: "alice" }), NOT_PROVIDED],
  },
  {
    name: "whoami: the header's forms (test_get_header, test_get_raw_token and its keyword tests)",
    cross: true,
    run: async (s) => {
      const { access } = await s.obtain("obtain");
      const config = s.ctx.config;
      await s.whoami("empty", "");
      await s.whoami("Basic", "Basic abc");
      await s.whoami("the type alone", headerType(config));
      await s.whoami("three parts", `${headerType(config)} one two`);
      await s.whoami("lower-case type", `${headerType(config).toLowerCase()} ${access}`);
      await s.whoami("Bearer", `Bearer ${access}`);
      await s.whoami("JWT", `JWT ${access}`);
      const other = headerName(config) === "Authorization" ? "X-Access-Token" : "Authorization";
      await s.send("in the other header", s.user, "GET", P.whoami, undefined, {
        [other]: `${headerType(config)} ${access}`,
      });
    },
    spec: ({ users, config }) => {
      const ok = jsonAnswer(200, { id: users.alice, username: "alice" });
      const twoParts = jsonAnswer(
        401,
        { detail: "Authorization header must contain two space-delimited values", code: "bad_authorization_header" },
        WWW,
      );
      const byType = (type: string) => (headerTypes(config).includes(type) ? ok : NOT_PROVIDED);
      return [
        pair(users.alice),
        NOT_PROVIDED,
        NOT_PROVIDED,
        twoParts,
        twoParts,
        NOT_PROVIDED,
        byType("Bearer"),
        byType("JWT"),
        NOT_PROVIDED,
      ];
    },
  },
  {
    name: "whoami: the access token's checks and its user (test_get_validated_token, test_get_user, test_get_user_with_str_user_id_claim)",
    cross: true,
    run: async (s) => {
      const { refresh } = await s.obtain("obtain");
      const type = headerType(s.ctx.config);
      const access = (overrides: Record<string, unknown>) =>
        `${type} ${s.mint({ token_type: "access", ...overrides })}`;
      await s.whoami("expired", access({ exp: now() - 1, iat: now() - 3_600 }));
      await s.whoami("a refresh token", `${type} ${refresh}`);
      await s.whoami("no user id", access({ [s.uid]: undefined }));
      await s.whoami("no such user", access({ [s.uid]: 987_654_321 }));
      await s.whoami("an inactive user", access({ [s.uid]: s.ctx.users.bob }));
      await s.whoami("the id as a string", access({ [s.uid]: String(s.ctx.users.alice) }));
    },
    spec: ({ users }) => [
      pair(users.alice),
      notValidForAny("Token is invalid or expired"),
      notValidForAny("Token has wrong type"),
      jsonAnswer(401, { detail: "Token contained no recognizable user identification", code: "token_not_valid" }, WWW),
      jsonAnswer(401, { detail: "User not found", code: "user_not_found" }, WWW),
      jsonAnswer(401, { detail: "User is inactive", code: "user_inactive" }, WWW),
      jsonAnswer(200, { id: users.alice, username: "alice" }),
    ],
  },
];

/**
 * The spec's answers (written for simplejwt's defaults) under a configuration's names: each
 * token's user id claim renamed to USER_ID_CLAIM, WWW-Authenticate's type to AUTH_HEADER_TYPES'.
 */
function forConfig<T>(spec: T, config: Config): T {
  const claim = userIdClaim(config);
  const www = `${headerType(config)} realm="api"`;
  const rename = (name: string) => (name === "user_id" ? claim : name);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== "object" || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if ("claims" in value && "claimNames" in value) {
      return Object.fromEntries(
        entries.map(([name, v]) => {
          if (name === "claims")
            return [name, Object.fromEntries(Object.entries(v as object).map(([k, x]) => [rename(k), x]))];
          if (name === "claimNames") return [name, (v as string[]).map(rename).sort()];
          return [name, v];
        }),
      );
    }
    return Object.fromEntries(
      entries.map(([name, v]) => [name, name === "wwwAuthenticate" && v === WWW ? www : walk(v)]),
    );
  };
  return walk(spec) as T;
}

/** `got` equals `reference`, each iat that could not be told (IAT_NOW_OR_PRESENTED) taken as the other side's. */
function expectSame(got: Observation[], reference: Observation[]) {
  const ref = reconcile(got, reference);
  expect(reconcile(ref, got)).toEqual(ref);
}

async function observe(c: Case, issuer: Side, user: Side, ctx: Context): Promise<Observation[]> {
  const session = new Session(issuer, user, ctx);
  await c.run(session);
  return session.observations;
}

const cases = (filter: (c: Case) => boolean) => CASES.filter(filter).map((c) => [c.name, c] as const);

/** Each of describeToken's judgements, on tokens minted here: what it equates and what it tells apart. */
describe("describeToken: the comparison of tokens", () => {
  const t = now();
  const context = { sentAt: t, answeredAt: t, lifetimes: LIFETIMES, key: SIGNING_KEY };
  const claims = { token_type: "access", exp: t + 300, iat: t, jti: hex32(), user_id: 1 };
  const base = describeToken(mint(claims, SIGNING_KEY), context);

  it("equates tokens that differ in jti, in the edge's fam and iat_ms, and in claim order", () => {
    const other = mint(
      { user_id: 1, jti: hex32(), fam: "f", iat_ms: t * 1000, iat: t, exp: t + 300, token_type: "access" },
      SIGNING_KEY,
    );
    expect(describeToken(other, context)).toEqual(base);
    expect(base).toMatchObject({ exp: "now + lifetime", iat: "now", jti: "new, 32 hex", signature: "the shared key" });
  });

  it("tells apart a claim's value, an extra or missing claim, a lifetime, a non-integer time, a jti, the key, the header", () => {
    const variants = [
      { ...claims, user_id: "1" },
      { ...claims, extra: 1 },
      { ...claims, jti: undefined },
      { ...claims, exp: t + 301 },
      { ...claims, iat: t - 100 },
      { ...claims, exp: t + 300.5 },
      { ...claims, jti: "not-hex" },
    ];
    for (const variant of variants) expect(describeToken(mint(variant, SIGNING_KEY), context)).not.toEqual(base);
    expect(describeToken(mint(claims, OTHER_KEY), context)).not.toEqual(base);
    expect(describeToken(mint(claims, SIGNING_KEY, "HS384"), context)).not.toEqual(base);
  });

  it("knows an access token's iat copied from the presented refresh token", () => {
    const presented = { iat: t - 100, jti: hex32() };
    const access = mint({ ...claims, iat: t - 100 }, SIGNING_KEY);
    expect(describeToken(access, { ...context, presented })).toMatchObject({
      iat: "the presented token's",
      exp: "now + lifetime",
    });
    const fresh = describeToken(mint({ ...claims, iat: t }, SIGNING_KEY), { ...context, presented: { iat: t } });
    expect(fresh.iat).toBe(IAT_NOW_OR_PRESENTED);
    expect(reconcile({ iat: "now" }, fresh)).toMatchObject({ iat: "now" });
    expect(reconcile({ iat: "the presented token's" }, fresh)).toMatchObject({ iat: "the presented token's" });
    expect(reconcile({ iat: "other" }, fresh)).toMatchObject({ iat: IAT_NOW_OR_PRESENTED });
  });
});

interface Setup {
  env: NodeJS.ProcessEnv;
  ctx: Context;
  originA: Origin;
  originB?: Origin;
  edge: LocalWorker;
  edgeVars: EdgeVars;
  dirs: string[];
}

/**
 * One configuration's origin (migrated, alice and bob created), second origin where the config
 * asks, and edge, configured and filled only through the origin's two commands
 * (org_token_edge_config, org_token_edge_sync --full).
 */
async function prepare(config: Config): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "simplejwt-oracle-"));
  const env = exampleEnv({
    ...config.env,
    DJANGO_SQLITE_PATH: join(dir, "origin.sqlite3"),
    DJANGO_SECRET_KEY: SIGNING_KEY,
    ORG_TOKEN_EDGE_SECRET: SYNC_SECRET,
    ORG_TOKEN_EDGE_DELIVER_ON_COMMIT: "0", // the users go over by --full, once the edge runs
  });
  await manage(["migrate", "--noinput", "-v", "0"], env);
  const users = JSON.parse(
    await manage(
      [
        "shell",
        "-c",
        `import json
from django.contrib.auth.models import User
alice = User.objects.create_user("alice", password=${JSON.stringify(PASSWORD.alice)})
bob = User.objects.create_user("bob", password=${JSON.stringify(PASSWORD.bob)}, is_active=False)
print(json.dumps({"alice": alice.pk, "bob": bob.pk}))`,
      ],
      env,
    ),
  ) as Users;
  const edgeVars = await edgeVarsFromOrigin(env);
  const persistTo = join(dir, "edge-state");
  await seedDatabase(persistTo, dir, "SELECT 1;");
  const [originA, originB, edge] = await Promise.all([
    startOrigin(env),
    config.secondOrigin ? startOrigin(env) : Promise.resolve(undefined),
    startWorker({ persistTo, stateDir: dir, vars: { ...edgeVars.vars, ...EDGE_ONLY_VARS }, main: HOST }),
  ]);
  // The origin's users, as the operator brings them: one full run.
  await manage(["org_token_edge_sync", "--full"], { ...env, ORG_TOKEN_EDGE_URL: edge.url });
  return { env, ctx: { config, users }, originA, originB, edge, edgeVars, dirs: [dir] };
}

// Each configuration's setup starts while the one before runs its cases (processes of at most
// two configurations at once).
const setups = new Map<Config, Promise<Setup>>();
const setup = (config: Config) => {
  if (!setups.has(config)) setups.set(config, prepare(config));
  return setups.get(config)!;
};

for (const [index, config] of CONFIGS.entries()) {
  describe(`the stock project (${config.name})`, () => {
    let s: Setup;
    const A = () => ({ name: "origin", url: s.originA.url });
    const E = () => ({ name: "edge", url: s.edge.url });

    beforeAll(async () => {
      s = await setup(config);
      const next = CONFIGS[index + 1];
      // Started ahead; a failure is reported by the describe that awaits it.
      if (next !== undefined) setup(next).catch(() => {});
    }, 240_000);

    afterAll(async () => {
      if (!s) return;
      await Promise.all([s.originA.stop(), s.originB?.stop(), s.edge.stop()]);
      for (const dir of s.dirs) rmSync(dir, { recursive: true, force: true });
    });

    describe(`the harness: each case at the origin as the spec records it${config.secondOrigin ? ", and the same at a second origin process" : ""}`, () => {
      it.each(cases(() => true))("%s", async (_, c) => {
        const reference = await observe(c, A(), A(), s.ctx);
        const spec = forConfig(c.spec(s.ctx), config);
        expect(reference.length, JSON.stringify(reference, null, 1)).toBe(spec.length);
        for (const [i, observation] of reference.entries())
          expect(reconcile(spec[i], observation), observation.step).toMatchObject(spec[i]!);
        if (!s.originB) return;
        const B = { name: "second origin", url: s.originB.url };
        expectSame(await observe(c, B, B, s.ctx), reference);
        // Tokens crossing between the two processes: issued by one, presented to the other.
        if (c.cross) expectSame(await observe(c, B, A(), s.ctx), reference);
      });
    });

    // The same request to the origin and to the edge.
    describe("the edge against the origin", () => {
      it("the edge's vars come from the origin: signing key, sync secret, version, the four paths, the settings", () => {
        const { edgeVars } = s;
        expect(edgeVars.vars, `${edgeVars.source}:\n${edgeVars.text}`).toMatchObject({
          JWT_SECRET_KEY: SIGNING_KEY,
          SYNC_SECRET: SYNC_SECRET,
          SIMPLE_JWT_VERSION: "5.2.2",
          TOKEN_OBTAIN_PAIR_PATH: P.obtain,
          TOKEN_REFRESH_PATH: P.refresh,
          TOKEN_VERIFY_PATH: P.verify,
          TOKEN_BLACKLIST_PATH: P.blacklist,
          ACCESS_TOKEN_LIFETIME: String(LIFETIMES.access),
          REFRESH_TOKEN_LIFETIME: String(LIFETIMES.refresh),
        });
        // Every line names one of the edge's settings (src/settings.ts): a misspelt one would be ignored.
        const known = new Set<string>(Object.values(VAR_NAMES));
        expect(Object.keys(edgeVars.vars).filter((name) => !known.has(name))).toEqual([]);
        expect(edgeVars.vars.USER_ID_CLAIM ?? "user_id").toBe(userIdClaim(config));
        expect((edgeVars.vars.AUTH_HEADER_TYPES ?? "Bearer").split(",")[0]).toBe(headerType(config));
        const flag = (name: string) => ["true", "on", "1"].includes((edgeVars.vars[name] ?? "").toLowerCase());
        expect(flag("ROTATE_REFRESH_TOKENS")).toBe(config.rotate);
        expect(flag("BLACKLIST_AFTER_ROTATION")).toBe(config.blacklistAfterRotation);
      });

      it.each(cases((c) => !c.originOnly))("%s", async (_, c) => {
        const reference = await observe(c, A(), A(), s.ctx);
        expectSame(await observe(c, E(), E(), s.ctx), reference);
      });

      it.each(cases((c) => c.cross === true))("crossing, the edge issues and the origin uses: %s", async (_, c) => {
        const reference = await observe(c, A(), A(), s.ctx);
        expectSame(await observe(c, E(), A(), s.ctx), reference);
      });

      it.each(cases((c) => c.cross === true && !c.originOnly))(
        "crossing, the origin issues and the edge uses: %s",
        async (_, c) => {
          const reference = await observe(c, A(), A(), s.ctx);
          expectSame(await observe(c, A(), E(), s.ctx), reference);
        },
      );
    });
  });
}
