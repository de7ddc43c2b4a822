/**
 * Every setting, once: its env var, kind, default, bounds, parser and doc line. The rest is
 * derived from this table — the API's `Settings` type and the parsing in src/config.ts and
 * src/http/origin-settings.ts, the env var names of this package's Worker (src/env-names.ts,
 * worker/env.ts) and of the admin CLI — and checked against it: README's "Configuration"
 * table and docs/mounting.md's list (test/node/settings-doc.test.ts), wrangler.toml's [vars].
 *
 * To add a setting: an entry here (and its README row, which the test prints when missing);
 * src/config.ts reads it into its Config field.
 *
 * The bottom layer: nothing here knows of tokens, routes or the Worker.
 */
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, type JwsAlgorithm } from "./crypto/algorithms";
import { secretBytes } from "./sync/signature";
import { parseUrl } from "./url";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** A setting as a host has it: an env var's string, or a number. Blank or absent: the default. */
export type SettingValue = string | number | undefined;

export type Bounds = readonly [min: number, max: number];

export interface Setting<In, Out> {
  /** The env var this package's Worker and the admin CLI read it from (a host names its own). */
  readonly env: string;
  /** A `secret` is set with `wrangler secret put`, never among wrangler.toml's [vars]. */
  readonly kind: "var" | "secret";
  /** The value when unset or blank, spelled as the env var would be; undefined: none. */
  readonly default: string | undefined;
  /** The least and greatest value of a number. */
  readonly bounds?: Bounds;
  /** The value of a set (non-blank) setting, or a ConfigError naming it `name`. */
  parse(raw: In, name: string, bounds: Bounds): Out;
  /** Its line in README's Configuration table (Markdown). */
  readonly doc: string;
}

/** At least this many bytes: the JWT secret, each previous one, the sync secrets. */
export const MIN_SECRET_BYTES = 32;

/** Failed logins per window: at least one, and no more than any client could try. */
export const MAX_LIMIT = 1_000_000;

const YEAR = 365 * 24 * 3600;
/** Lifetimes: from 1 s to 10 years (a larger one overflows the response's date; a smaller one is no token). */
const LIFETIME: Bounds = [1, 10 * YEAR];
/** Beyond a day, a replay is no retry. */
const REUSE: Bounds = [0, 24 * 3600];
const FAILURES: Bounds = [1, MAX_LIMIT];
const GITHUB_WAIT: Bounds = [0.001, 60];
/** PBKDF2 iterations: Django's least ever (1.4: 10000) under 1000 is no hash worth upgrading to; above 2000000 no login is computed (src/passwords/django-format.ts). */
const PBKDF2_ITERATIONS: Bounds = [1000, 2_000_000];
/** Above 0; at most 5 minutes: a hung origin must not hold requests. */
const ORIGIN_WAIT: Bounds = [0, 300];
/** simplejwt's LEEWAY: up to a day. */
const LEEWAY: Bounds = [0, 24 * 3600];

export const REQUEST_LOG_MODES = ["all", "errors", "off"] as const;
export type RequestLogMode = (typeof REQUEST_LOG_MODES)[number];

// The parsers. Each gets a non-blank value; every message names the setting as the host does.

/** Seconds, fractions allowed, within bounds; as Python's timedelta, whole microseconds. */
function seconds(raw: string | number, name: string, [min, max]: Bounds): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number of seconds from ${min} to ${max}`);
  }
  return Math.round(value * 1e6) / 1e6;
}

/** A whole number within bounds. */
function count(raw: string | number, name: string, [min, max]: Bounds): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Seconds above the least bound and up to the greatest, in whole milliseconds (rounded up). */
function milliseconds(raw: string | number, name: string, [min, max]: Bounds): number {
  const text = typeof raw === "number" ? String(raw) : raw.trim();
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > min) || value > max) {
    throw new ConfigError(`${name} must be a number of seconds above ${min} and at most ${max}`);
  }
  return Math.ceil(value * 1000);
}

/** `value` when it is one of `allowed`; else a ConfigError listing them (`why` after the list). */
function oneOf<T extends string>(allowed: readonly T[], value: string, name: string, why = ""): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(`${name} must be one of ${allowed.join(", ")}${why}`);
  return value as T;
}

/** Each value as inline code, for a doc line: `a`, `b`. */
function codes(values: readonly string[]): string {
  return values.map((value) => `\`${value}\``).join(", ");
}

function requestLog(raw: string, name: string): RequestLogMode {
  return oneOf(REQUEST_LOG_MODES, raw.trim().toLowerCase(), name);
}

/** on or off (true/false, 1/0 too). */
function onOff(raw: string, name: string): boolean {
  const value = raw.trim().toLowerCase();
  if (!["on", "off", "true", "false", "1", "0"].includes(value)) throw new ConfigError(`${name} must be on or off`);
  return !["off", "false", "0"].includes(value);
}

/** An http(s) URL without credentials, query or fragment; a trailing slash dropped. */
function apiBase(raw: string, name: string): string {
  const url = parseUrl(raw.trim(), "http-base");
  if (url === "unparsable") throw new ConfigError(`${name} is not a URL`);
  if (url === "misshapen") {
    throw new ConfigError(`${name} must be an http(s) URL without credentials, query or fragment`);
  }
  return url.href.replace(/\/+$/, "");
}

/** A bare http(s) origin, scheme://host[:port]. */
function httpOrigin(raw: string, name: string): URL {
  const url = parseUrl(raw.trim(), "http-origin");
  if (url === "unparsable") throw new ConfigError(`${name} is not a URL`);
  if (url === "misshapen") throw new ConfigError(`${name} must be a bare http(s) origin, scheme://host[:port]`);
  return url;
}

/** Origins, comma-separated or a list; each without its trailing slash. */
function origins(raw: string | readonly string[], name: string): ReadonlySet<string> {
  const list = (typeof raw === "string" ? raw.split(",") : [...raw]).map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    const url = parseUrl(origin, "origin");
    if (url === "unparsable") throw new ConfigError(`${name} has an entry that is not an origin: ${origin}`);
    if (url === "misshapen") {
      throw new ConfigError(`${name} entries are bare origins (scheme://host[:port]): ${origin}`);
    }
  }
  return new Set(list.map((o) => o.replace(/\/$/, "")));
}

/** The JWT secret's UTF-8 bytes, at least MIN_SECRET_BYTES. Messages never quote a secret. */
function jwtSecret(raw: string, name: string): Uint8Array {
  const bytes = new TextEncoder().encode(raw);
  if (bytes.byteLength < MIN_SECRET_BYTES) throw new ConfigError(`${name} is shorter than ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

/**
 * The secrets of earlier rotations, which still verify but never sign: a list, or as an env
 * var a JSON array of strings (`["old secret"]`), because a secret may hold any character a
 * separator could be. `[]`: none.
 */
function previousSecrets(raw: string | readonly string[], name: string): Uint8Array[] {
  let list: unknown = raw;
  if (typeof raw === "string") {
    try {
      list = JSON.parse(raw);
    } catch {
      list = undefined;
    }
  }
  if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string")) {
    throw new ConfigError(`${name} must be a JSON array of strings, e.g. ["<previous secret>"]`);
  }
  return list.map((entry: string, index) => {
    const bytes = new TextEncoder().encode(entry);
    if (bytes.byteLength < MIN_SECRET_BYTES) {
      throw new ConfigError(`${name} entry ${index + 1} is shorter than ${MIN_SECRET_BYTES} bytes`);
    }
    return bytes;
  });
}

/** A sync secret's key bytes: its UTF-8, or for `whsec_<base64>` the decoded bytes; at least MIN_SECRET_BYTES. */
function syncSecret(raw: string, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = secretBytes(raw);
  } catch {
    throw new ConfigError(`${name} starts with whsec_ but the rest is not base64`);
  }
  if (bytes.byteLength < MIN_SECRET_BYTES) throw new ConfigError(`${name} is shorter than ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

/** The simplejwt versions whose wire behaviour the edge knows (docs/contract.md, "simplejwt's views"). */
export const SIMPLE_JWT_VERSIONS = ["5.2.2", "5.3.0", "5.3.1", "5.4.0", "5.5.0", "5.5.1"] as const;
export type SimpleJwtVersion = (typeof SIMPLE_JWT_VERSIONS)[number];

function simpleJwtVersion(raw: string, name: string): SimpleJwtVersion {
  return oneOf(SIMPLE_JWT_VERSIONS, raw.trim(), name, " (the origin's installed simplejwt)");
}

/** A plain absolute path, as Django routes it: no escapes, query, `\`, `//` or dot segments. */
function isPlainPath(value: string): boolean {
  return (
    /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(value) &&
    !value.includes("//") &&
    !value.split("/").some((segment) => segment === "." || segment === "..")
  );
}

/** Where the origin mounts a simplejwt view (`/api/token/`); blank: the view is not served. */
/** `value` when it is a plain path (isPlainPath); else a ConfigError with `example`. */
function plainPath(value: string, name: string, example: string): string {
  if (!isPlainPath(value)) {
    throw new ConfigError(
      `${name} must be a plain absolute path such as ${example} (no escapes, query, // or dot segments)`,
    );
  }
  return value;
}

function viewPath(raw: string, name: string): string | undefined {
  const value = raw.trim();
  return value === "" ? undefined : plainPath(value, name, "/api/token/");
}

/** Where the JWKS is served. */
function jwksPath(raw: string, name: string): string {
  return plainPath(raw.trim(), name, "/.well-known/jwks.json");
}

const ALGORITHMS: readonly JwsAlgorithm[] = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS];

/** simplejwt's ALGORITHM, as far as PyJWT and workerd's Web Crypto both sign it. */
function algorithm(raw: string, name: string): JwsAlgorithm {
  const value = raw.trim();
  if (!(ALGORITHMS as readonly string[]).includes(value)) {
    const why = value === "ES256K" ? " (workerd's Web Crypto has no secp256k1)" : "";
    throw new ConfigError(`${name} ${value} is not served${why}: the edge signs with ${ALGORITHMS.join(", ")}`);
  }
  return value as JwsAlgorithm;
}

/** PEM text (a key, or keys one after another), checked when the keys are imported (src/crypto/asymmetric-keys.ts). */
function pemText(raw: string, name: string): string {
  if (!raw.includes("-----BEGIN "))
    throw new ConfigError(`${name} is not PEM: expected -----BEGIN ... KEY----- blocks`);
  return raw;
}

/** A Python identifier: a model field's name. */
function fieldName(raw: string, name: string): string {
  const value = raw.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new ConfigError(`${name} must be a model field's name`);
  return value;
}

/** How Django's lookup converts a USER_ID_FIELD value (IntegerField, UUIDField, CharField's to_python). */
const USER_ID_FIELD_TYPES = ["integer", "uuid", "string"] as const;
export type UserIdFieldType = (typeof USER_ID_FIELD_TYPES)[number];

function userIdFieldType(raw: string, name: string): UserIdFieldType {
  return oneOf(USER_ID_FIELD_TYPES, raw.trim(), name);
}

/** A custom claim and the user's field it is written from (ORG_TOKEN_EDGE["CLAIMS"]). */
export interface TokenClaim {
  claim: string;
  field: string;
}

/** `claim:field` pairs, comma-separated, in the order the origin's get_token adds them. */
function tokenClaims(raw: string, name: string): readonly TokenClaim[] {
  const pairs: TokenClaim[] = [];
  if (raw.trim() === "") return pairs;
  for (const part of raw.split(",")) {
    const match = /^\s*([^\s:,]+)\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(part);
    if (match === null) throw new ConfigError(`${name} must be claim:field pairs, comma-separated (name:first_name)`);
    const [, claim, field] = match as unknown as [string, string, string];
    if (pairs.some((pair) => pair.claim === claim)) throw new ConfigError(`${name} names the claim ${claim} twice`);
    pairs.push({ claim, field });
  }
  return pairs;
}

/** A claim's name: any non-empty text without surrounding whitespace. */
function claimName(raw: string, name: string): string {
  const value = raw.trim();
  if (value === "") throw new ConfigError(`${name} must name a claim`);
  return value;
}

/** Comma-separated header types (`Bearer`, `JWT`), at least one, each one word. */
function headerTypes(raw: string, name: string): readonly string[] {
  const list = raw
    .split(",")
    .map((type) => type.trim())
    .filter(Boolean);
  if (list.length === 0 || list.some((type) => !/^[!-~]+$/.test(type))) {
    throw new ConfigError(`${name} must be comma-separated words such as Bearer`);
  }
  return list;
}

/** A request.META name of a header: HTTP_ and the header's name upper-cased, `-` as `_`. */
function metaHeaderName(raw: string, name: string): string {
  const value = raw.trim();
  if (!/^HTTP_[A-Z0-9_]+$/.test(value))
    throw new ConfigError(`${name} must be a request.META name such as HTTP_AUTHORIZATION`);
  return value;
}

/** Optional text (AUDIENCE, ISSUER): blank is none. */
function optionalText(raw: string): string | undefined {
  const value = raw.trim();
  return value === "" ? undefined : value;
}

const range = ([min, max]: Bounds) => `${min} to ${max}`;

/**
 * The table, keyed by each setting's name in the API (`orgTokenApi`'s settings, bindings
 * and origin options), in README's order.
 */
export const SETTINGS = {
  secret: {
    env: "JWT_SECRET_KEY",
    kind: "secret",
    default: undefined,
    parse: jwtSecret,
    doc: `at least ${MIN_SECRET_BYTES} bytes: under an \`HS*\` \`ALGORITHM\` the key shared with the origin (its \`SIMPLE_JWT\` \`SIGNING_KEY\`); always the key opaque ids and login counters derive from`,
  },
  previousSecrets: {
    env: "JWT_PREVIOUS_SECRET_KEYS",
    kind: "secret",
    default: undefined,
    parse: previousSecrets,
    doc: "JSON array of older secrets that still verify under `HS*` ([rotation](docs/deploy.md#rotating-the-secret)); under an asymmetric `ALGORITHM` unused (the previous keys are `PREVIOUS_VERIFYING_KEYS`)",
  },
  syncSecret: {
    env: "SYNC_SECRET",
    kind: "secret",
    default: undefined,
    parse: syncSecret,
    doc: `the origin sync's signing secret ([docs/sync.md](docs/sync.md)), at least ${MIN_SECRET_BYTES} bytes or \`whsec_<base64>\`; unset, only the sync route answers 500`,
  },
  syncPreviousSecret: {
    env: "SYNC_PREVIOUS_SECRET",
    kind: "secret",
    default: undefined,
    parse: syncSecret,
    doc: "the sync secret being rotated out, accepted too until the rotation ends",
  },
  syncRevokeOnPasswordChange: {
    env: "SYNC_REVOKE_ON_PASSWORD_CHANGE",
    kind: "var",
    default: "on",
    parse: onOff,
    doc: "`off`: a password change at the origin ends no session",
  },
  accessTokenLifetime: {
    env: "ACCESS_TOKEN_LIFETIME",
    kind: "var",
    default: "86400",
    bounds: LIFETIME,
    parse: seconds,
    doc: `seconds, ${range(LIFETIME)}`,
  },
  refreshTokenLifetime: {
    env: "REFRESH_TOKEN_LIFETIME",
    kind: "var",
    default: "2592000",
    bounds: LIFETIME,
    parse: seconds,
    doc: `seconds, ${range(LIFETIME)}; a rotated token gets the full lifetime`,
  },
  refreshReuseInterval: {
    env: "REFRESH_REUSE_INTERVAL",
    kind: "var",
    default: "0",
    bounds: REUSE,
    parse: seconds,
    doc: `seconds (${range(REUSE)}) in which a spent token gets the identical pair again`,
  },
  corsAllowedOrigins: {
    env: "CORS_ALLOWED_ORIGINS",
    kind: "var",
    default: "",
    parse: origins,
    doc: "comma-separated origins that get CORS headers",
  },
  requestLog: {
    env: "REQUEST_LOG",
    kind: "var",
    default: "all",
    parse: requestLog,
    doc: `which requests get a log line: ${REQUEST_LOG_MODES.map((mode) => `\`${mode}\``).join(", ")}`,
  },
  loginPairFailureLimit: {
    env: "LOGIN_PAIR_FAILURE_LIMIT",
    kind: "var",
    default: "10",
    bounds: FAILURES,
    parse: count,
    doc: `failed logins per username and address per 15 minutes before 429; each limit ${range(FAILURES)}`,
  },
  loginUserFailureLimit: {
    env: "LOGIN_USER_FAILURE_LIMIT",
    kind: "var",
    default: "100",
    bounds: FAILURES,
    parse: count,
    doc: "per username over all addresses; past it one try per address",
  },
  loginAddressFailureLimit: {
    env: "LOGIN_ADDRESS_FAILURE_LIMIT",
    kind: "var",
    default: "50",
    bounds: FAILURES,
    parse: count,
    doc: "per address (IPv6: its /64) over all usernames",
  },
  passwordIterations: {
    env: "PASSWORD_ITERATIONS",
    kind: "var",
    default: "600000",
    bounds: PBKDF2_ITERATIONS,
    parse: count,
    doc: `the origin's PBKDF2 iterations (its \`PBKDF2PasswordHasher.iterations\`, ${range(PBKDF2_ITERATIONS)}): a login upgrades a weaker hash to it, and a login naming no user costs as much`,
  },
  githubApiUrl: {
    env: "GITHUB_API_URL",
    kind: "var",
    default: "https://api.github.com",
    parse: apiBase,
    doc: "GitHub's REST API for the GitHub login (GitHub Enterprise: `https://host/api/v3`)",
  },
  githubTimeout: {
    env: "GITHUB_TIMEOUT",
    kind: "var",
    default: "5",
    bounds: GITHUB_WAIT,
    parse: seconds,
    doc: `seconds (${range(GITHUB_WAIT)}) the GitHub login waits for GitHub`,
  },
  originUrl: {
    env: "ORIGIN_URL",
    kind: "var",
    default: undefined,
    parse: httpOrigin,
    doc: "the Django origin, `scheme://host[:port]`: other paths the routes bring are forwarded there (unset: 404), and logins of users whose password hash only the origin checks (unset: 502)",
  },
  originTimeout: {
    env: "ORIGIN_TIMEOUT",
    kind: "var",
    default: "30",
    bounds: ORIGIN_WAIT,
    parse: milliseconds,
    doc: `seconds (above ${ORIGIN_WAIT[0]}, at most ${ORIGIN_WAIT[1]}) the origin has to start answering, then a JSON 504`,
  },
  simpleJwtVersion: {
    env: "SIMPLE_JWT_VERSION",
    kind: "var",
    default: "5.2.2",
    parse: simpleJwtVersion,
    doc: `the origin's installed djangorestframework-simplejwt, ${SIMPLE_JWT_VERSIONS[0]} to ${SIMPLE_JWT_VERSIONS.at(-1)}: its views' messages, claims and refresh's user check ([contract](docs/contract.md#simplejwts-views))`,
  },
  tokenObtainPairPath: {
    env: "TOKEN_OBTAIN_PAIR_PATH",
    kind: "var",
    default: "",
    parse: viewPath,
    doc: "where the origin mounts simplejwt's `TokenObtainPairView` (`/api/token/`); empty: not served",
  },
  tokenRefreshPath: {
    env: "TOKEN_REFRESH_PATH",
    kind: "var",
    default: "",
    parse: viewPath,
    doc: "where it mounts `TokenRefreshView`; empty: not served",
  },
  tokenVerifyPath: {
    env: "TOKEN_VERIFY_PATH",
    kind: "var",
    default: "",
    parse: viewPath,
    doc: "where it mounts `TokenVerifyView`; empty: not served",
  },
  tokenBlacklistPath: {
    env: "TOKEN_BLACKLIST_PATH",
    kind: "var",
    default: "",
    parse: viewPath,
    doc: "where it mounts `TokenBlacklistView` (`/api/token/blacklist/` replaces the org-token logout there); empty: not served",
  },
  rotateRefreshTokens: {
    env: "ROTATE_REFRESH_TOKENS",
    kind: "var",
    default: "false",
    parse: onOff,
    doc: "simplejwt's: its refresh view answers a new refresh token too",
  },
  blacklistAfterRotation: {
    env: "BLACKLIST_AFTER_ROTATION",
    kind: "var",
    default: "false",
    parse: onOff,
    doc: "simplejwt's: a rotated refresh token is spent, exactly once (the token ledger); verify answers blacklisted tokens 400",
  },
  algorithm: {
    env: "ALGORITHM",
    kind: "var",
    default: "HS256",
    parse: algorithm,
    doc: `simplejwt's \`ALGORITHM\`, for both APIs' tokens: ${codes(HMAC_ALGORITHMS)} with \`JWT_SECRET_KEY\`; ${codes(ASYMMETRIC_ALGORITHMS)} (\`EdDSA\`: Ed25519) with \`SIGNING_KEY\` ([keys](docs/contract.md#asymmetric-keys-and-the-jwks))`,
  },
  signingKey: {
    env: "SIGNING_KEY",
    kind: "secret",
    default: undefined,
    parse: pemText,
    doc: "under an asymmetric `ALGORITHM`, the private key PEM that signs (PKCS#8, or PKCS#1 RSA, or SEC1 EC): simplejwt's `SIGNING_KEY`; refused under `HS*`",
  },
  verifyingKey: {
    env: "VERIFYING_KEY",
    kind: "var",
    default: undefined,
    parse: pemText,
    doc: "the public key PEM of `SIGNING_KEY` (simplejwt's `VERIFYING_KEY`); optional, derived from `SIGNING_KEY`, and refused if not its pair; refused under `HS*`",
  },
  previousVerifyingKeys: {
    env: "PREVIOUS_VERIFYING_KEYS",
    kind: "var",
    default: undefined,
    parse: pemText,
    doc: "public key PEMs one after another that verify too and are published: previous signing keys, kept `REFRESH_TOKEN_LIFETIME` after they stopped signing ([rotation](docs/deploy.md#rotating-the-signing-key)); refused under `HS*`",
  },
  jwksPath: {
    env: "JWKS_PATH",
    kind: "var",
    default: "/.well-known/jwks.json",
    parse: jwksPath,
    doc: "where the edge publishes its public keys (a JWKS for the origin's `JWK_URL`) under an asymmetric `ALGORITHM`; under `HS*` the path is forwarded",
  },
  usernameField: {
    env: "USERNAME_FIELD",
    kind: "var",
    default: "username",
    parse: fieldName,
    doc: "the origin's `USERNAME_FIELD`: the obtain view's body key for the user's name",
  },
  userIdField: {
    env: "USER_ID_FIELD",
    kind: "var",
    default: "id",
    parse: fieldName,
    doc: "simplejwt's: the user's field its tokens name the user by; `id` or `pk` is the primary key, another field is the one the sync brings (`simplejwt_id`, docs/sync.md)",
  },
  userIdFieldType: {
    env: "USER_ID_FIELD_TYPE",
    kind: "var",
    default: "integer",
    parse: userIdFieldType,
    doc: "how Django converts a token's user id for `USER_ID_FIELD`'s lookup: `integer`, `uuid` (`UUIDField`) or `string` (`CharField` and kin); the primary key is `integer` or `uuid`",
  },
  tokenClaims: {
    env: "TOKEN_CLAIMS",
    kind: "var",
    default: "",
    parse: tokenClaims,
    doc: "the claims the origin's `TOKEN_OBTAIN_SERIALIZER` adds, `claim:field` comma-separated in its order (`name:first_name,email:email`): written from the user's synced fields after simplejwt's own",
  },
  userIdClaim: {
    env: "USER_ID_CLAIM",
    kind: "var",
    default: "user_id",
    parse: claimName,
    doc: "simplejwt's: the claim naming the user in its views' tokens",
  },
  tokenTypeClaim: {
    env: "TOKEN_TYPE_CLAIM",
    kind: "var",
    default: "token_type",
    parse: claimName,
    doc: "simplejwt's: the claim of the token's type in its views' tokens",
  },
  jtiClaim: {
    env: "JTI_CLAIM",
    kind: "var",
    default: "jti",
    parse: claimName,
    doc: "simplejwt's: the claim of the token's id in its views' tokens",
  },
  authHeaderTypes: {
    env: "AUTH_HEADER_TYPES",
    kind: "var",
    default: "Bearer",
    parse: headerTypes,
    doc: "simplejwt's, comma-separated: the first names the views' `WWW-Authenticate` (`Bearer realm=\"api\"`)",
  },
  authHeaderName: {
    env: "AUTH_HEADER_NAME",
    kind: "var",
    default: "HTTP_AUTHORIZATION",
    parse: metaHeaderName,
    doc: "simplejwt's: the header `requireSimpleJwtToken()` reads the access token from (`HTTP_X_ACCESS_TOKEN`: `X-Access-Token`)",
  },
  leeway: {
    env: "LEEWAY",
    kind: "var",
    default: "0",
    bounds: LEEWAY,
    parse: seconds,
    doc: `simplejwt's, seconds (${range(LEEWAY)}) of tolerance on its views' tokens' \`exp\`, \`iat\`, \`nbf\``,
  },
  audience: {
    env: "AUDIENCE",
    kind: "var",
    default: "",
    parse: optionalText,
    doc: "simplejwt's: written as `aud` and required on its views' tokens when set",
  },
  issuer: {
    env: "ISSUER",
    kind: "var",
    default: "",
    parse: optionalText,
    doc: "simplejwt's: written as `iss` and required on its views' tokens when set",
  },
} as const satisfies Record<string, Setting<never, unknown>>;

/** The bindings, for README's table and worker/env.ts: not settings, but named there too. */
export const BINDINGS = {
  db: {
    env: "DB",
    kind: "D1 binding",
    doc: "users, organizations, memberships, social accounts, the token ledger, login counters, the sync's versions",
  },
  kv: { env: "BLACKLIST", kind: "KV binding", doc: "the edge blacklist of ended sessions, the health probe's key" },
} as const;

export type SettingKey = keyof typeof SETTINGS;
type Entry<K extends SettingKey> = (typeof SETTINGS)[K];

/** What a host may pass for a setting: what its parser takes, or blank/absent for the default. */
export type SettingInput<K extends SettingKey> = Parameters<Entry<K>["parse"]>[0] | undefined;

/** A setting's value: parsed, or its default's; undefined only for a setting without default. */
export type SettingOutput<K extends SettingKey> =
  | ReturnType<Entry<K>["parse"]>
  | (Entry<K>["default"] extends string ? never : undefined);

/** Not among `orgTokenApi`'s `settings`: the JWT secrets come with its bindings, the origin's with its own options. */
const APART = ["secret", "previousSecrets", "originUrl", "originTimeout"] as const;

/** The settings a host passes as `orgTokenApi`'s `settings`: all but those apart. */
export type SettingsKey = Exclude<SettingKey, (typeof APART)[number]>;
export const SETTINGS_KEYS: readonly SettingsKey[] = (Object.keys(SETTINGS) as SettingKey[]).filter(
  (key): key is SettingsKey => !(APART as readonly string[]).includes(key),
);

/** Everything but the JWT secrets and the origin, each optional: README's Configuration table camelCased. */
export type Settings = { [K in SettingsKey]?: SettingInput<K> };

/** Whether a value counts as unset: absent, or a string of nothing but whitespace. */
export function isBlank(raw: unknown): raw is undefined | string {
  return raw === undefined || (typeof raw === "string" && raw.trim() === "");
}

/** One setting's value from a set `raw`, blank or not; a ConfigError naming it `name` when invalid. */
export function parseSetting<K extends SettingKey>(
  key: K,
  raw: NonNullable<SettingInput<K>>,
  name: string = key,
): ReturnType<Entry<K>["parse"]> {
  const entry: Setting<unknown, unknown> = SETTINGS[key];
  return entry.parse(raw, name, entry.bounds ?? [-Infinity, Infinity]) as ReturnType<Entry<K>["parse"]>;
}

/** One setting's value from `raw`, its default when blank; a ConfigError naming it `name` when invalid. */
export function readSetting<K extends SettingKey>(key: K, raw: SettingInput<K>, name: string = key): SettingOutput<K> {
  const value = isBlank(raw) ? SETTINGS[key].default : raw;
  if (value === undefined) return undefined as SettingOutput<K>;
  return parseSetting(key, value as NonNullable<SettingInput<K>>, name);
}
