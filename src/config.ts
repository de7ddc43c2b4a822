/**
 * Configuration, parsed and validated once per set of values. A bad value never reaches a
 * route: `loadConfig` answers a ConfigError naming the setting, and the app turns it into
 * one clear 500.
 *
 * The input is the API's settings (as a host passes them to `orgTokenApi`), not an Env:
 * this repository's Worker maps its env vars onto them in worker/env.ts.
 */

import { isHmac, type JwsAlgorithm } from "./crypto/algorithms";
import { asymmetricKeys, KeyError } from "./crypto/asymmetric-keys";
import type { HmacPads } from "./crypto/hmac-sha256";
import { derivationKeys, hmacRing, type KeyRing } from "./crypto/keys";
import {
  ConfigError,
  isBlank,
  parseSetting,
  type RequestLogMode,
  readSetting,
  type SettingInput,
  type Settings,
  type SettingsKey,
  type SimpleJwtVersion,
  type TokenClaim,
  type UserIdFieldType,
} from "./settings";
import { signingKey } from "./sync/signature";

export type { RequestLogMode, Settings, SettingValue } from "./settings";
export { ConfigError } from "./settings";

/** How error messages name the secret and each setting (a host's own env var names, for example). */
export type SettingNames = Partial<Record<SettingsKey | "secret" | "previousSecrets", string>>;

export interface ConfigInput {
  /** JWT_SECRET_KEY, at least 32 bytes: HS* signs with it; opaque ids derive from it under every ALGORITHM. */
  secret: string | undefined;
  /** Older secrets still accepted for verification (key rotation). */
  previousSecrets?: string | readonly string[] | undefined;
  settings: Settings;
  names?: SettingNames;
}

export interface Config {
  /**
   * Both APIs' token keys, of ALGORITHM (as the origin's SIMPLE_JWT signs): under HS* the
   * secrets' (JWT_SECRET_KEY signs, JWT_PREVIOUS_SECRET_KEYS verify too); under an asymmetric
   * algorithm SIGNING_KEY signs, and its public key and PREVIOUS_VERIFYING_KEYS' verify.
   */
  keys: KeyRing;
  /** The JWKS the edge publishes under an asymmetric ALGORITHM (src/routes/jwks.ts); HS*: none. */
  jwks: Jwks | undefined;
  /**
   * A separate HMAC key derived from the current secret, as its pad states (opaque ids are
   * computed in plain TypeScript, src/tokens/opaque-id.ts): the login throttle's keys. A
   * rotation changes it; nothing stored is keyed by it except short-lived login counters.
   */
  derivation: HmacPads;
  /**
   * The derivation key of each of `keys.verifying`, in the same order (the first is
   * `derivation`). Under HS* a successor's ids derive under the one whose secret signed the
   * presented token, so a retried rotation gets the same ids whichever secret is current by
   * then. Under an asymmetric algorithm each is JWT_SECRET_KEY's: a signing key's rotation
   * changes no id.
   */
  derivations: readonly HmacPads[];
  accessLifetime: number; // seconds, may be fractional as in simplejwt's timedelta
  refreshLifetime: number;
  /** Seconds during which a just-rotated refresh token gets its successor pair again. */
  reuseInterval: number;
  corsAllowedOrigins: ReadonlySet<string>;
  /** Which requests get a `request` log line (src/log.ts); Workers Logs bills per line. */
  requestLog: RequestLogMode;
  /** Login attempts per 15-minute window (src/login/throttle.ts): per username at one address
   * before 429; per username over all addresses before each address gets one try per window;
   * per address (IPv6: /64) over all usernames before 429. */
  loginPairFailureLimit: number;
  loginUserFailureLimit: number;
  loginAddressFailureLimit: number;
  /** The origin's PBKDF2 iterations: what a login upgrades a weaker hash to, and what a login naming no user costs. */
  passwordIterations: number;
  /** GitHub's REST API base, without a trailing slash (src/github/user.ts asks `${githubApiUrl}/user`). */
  githubApiUrl: string;
  /** Seconds before GitHub's answer is given up on (503). */
  githubTimeout: number;
  sync: SyncConfig;
  /** simplejwt's views (src/routes/simplejwt/), or why they cannot serve: only they answer 500 then. */
  simpleJwt: SimpleJwtConfig | { error: string };
  /**
   * How the org-token API words a token that fails to decode, as the origin's simplejwt does
   * (SIMPLE_JWT_VERSION): "joined" through 5.4 ("Token is invalid or expired"), "split" from
   * 5.5.0 ("Token is invalid", "Token is expired"). A version the views refuse leaves "joined".
   */
  decodeMessages: DecodeMessages;
  /**
   * Why the org-token API issues no token, if it must not: its tokens name users by primary
   * key in `user_id`, so under a USER_ID_FIELD other than the key simplejwt's views and guard
   * would read them as another user's.
   */
  orgTokensRefused: string | undefined;
}

/** The JWKS as served (where: src/app.ts, by JWKS_PATH). */
export interface Jwks {
  /** The response's body: {"keys": [...]}, the signing key's first. */
  body: string;
}

/** The simplejwt views by name, as the settings call them. */
export const SIMPLE_JWT_VIEWS = ["obtain", "refresh", "verify", "blacklist"] as const;
export type SimpleJwtView = (typeof SIMPLE_JWT_VIEWS)[number];
const VIEW_SETTINGS = {
  obtain: "tokenObtainPairPath",
  refresh: "tokenRefreshPath",
  verify: "tokenVerifyPath",
  blacklist: "tokenBlacklistPath",
} as const satisfies Record<SimpleJwtView, SettingsKey>;

/** Where each simplejwt view is served (as the origin mounts it, before any base path); absent: not served. */
export type SimpleJwtPaths = Partial<Record<SimpleJwtView, string>>;

/** See Config.decodeMessages. */
export type DecodeMessages = "joined" | "split";

/**
 * simplejwt's settings, by their own names, and what the origin's version changes on the
 * wire (docs/contract.md "simplejwt's views").
 */
export interface SimpleJwtConfig {
  version: SimpleJwtVersion;
  /** How a failed decode is worded (Config.decodeMessages): "split" from 5.5.0. */
  decodeMessages: DecodeMessages;
  /** 5.4.0+: refresh looks up the token's user and refuses an inactive one. */
  refreshChecksUser: boolean;
  /** 5.5.1: user_id is written as a string, and an access token's iat is its own (not the refresh's). */
  userIdAsString: boolean;
  accessOwnIat: boolean;
  rotateRefreshTokens: boolean;
  blacklistAfterRotation: boolean;
  /** The algorithm's keys (Config.keys: both APIs sign alike). */
  keys: KeyRing;
  usernameField: string;
  /**
   * How a token's user is found: by the integer primary key (USER_ID_FIELD `id`/`pk`:
   * users_user.id), or by the synced USER_ID_FIELD value (users_user.simplejwt_id; a UUID
   * primary key too) converted as Django's field of this type converts a lookup value.
   */
  userIdLookup: { by: "pk" } | { by: "field"; type: UserIdFieldType };
  /** The custom claims (TOKEN_CLAIMS), in the origin's get_token order, each from a synced field of the user. */
  tokenClaims: readonly TokenClaim[];
  userIdClaim: string;
  tokenTypeClaim: string;
  jtiClaim: string;
  /** `<first AUTH_HEADER_TYPES> realm="api"`: every 401 of the views. */
  wwwAuthenticate: string;
  authHeaderTypes: readonly string[];
  authHeaderName: string;
  /** Seconds. */
  leeway: number;
  audience: string | undefined;
  issuer: string | undefined;
}

/**
 * The origin sync's settings, or why the sync route cannot serve: apart from the rest, so a
 * missing SYNC_SECRET takes down that route only, never the token routes.
 */
export type SyncConfig = { keys: readonly CryptoKey[]; revokeOnPasswordChange: boolean } | { error: string };

/** Reads the table's settings (src/settings.ts), naming each in its messages as the host named it. */
class SettingsReader {
  constructor(
    private readonly settings: Settings,
    private readonly names: SettingNames,
  ) {}

  name(key: keyof SettingNames): string {
    return this.names[key] ?? key;
  }

  /** Whether the host set it (not blank), before any parsing. */
  isSet(key: SettingsKey): boolean {
    return !isBlank(this.settings[key]);
  }

  read<K extends SettingsKey>(key: K) {
    return readSetting(key, this.settings[key] as SettingInput<K>, this.name(key));
  }
}

/** The simplejwt views' paths; a ConfigError for a malformed one or two views at one path. */
export function simpleJwtPaths(settings: Settings, names: SettingNames = {}): SimpleJwtPaths {
  const read = new SettingsReader(settings, names);
  const paths: SimpleJwtPaths = {};
  const seen = new Map<string, SimpleJwtView>();
  for (const view of SIMPLE_JWT_VIEWS) {
    const path = read.read(VIEW_SETTINGS[view]);
    if (path === undefined) continue;
    // Paths match with or without the trailing slash: /a and /a/ are one path.
    const bare = path.replace(/\/+$/, "");
    const other = seen.get(bare);
    if (other !== undefined) {
      throw new ConfigError(`${read.name(VIEW_SETTINGS[view])} is ${read.name(VIEW_SETTINGS[other])}'s path too`);
    }
    seen.set(bare, view);
    paths[view] = path;
  }
  return paths;
}

/** The settings' name of a view's path, for messages. */
export function simpleJwtPathName(view: SimpleJwtView, names: SettingNames = {}): string {
  return names[VIEW_SETTINGS[view]] ?? VIEW_SETTINGS[view];
}

/** Claim names the edge writes itself: none of simplejwt's claim settings may be one. */
const RESERVED_CLAIMS = ["exp", "iat", "nbf", "aud", "iss", "fam", "iat_ms"];

function atLeast(version: SimpleJwtVersion, least: SimpleJwtVersion): boolean {
  const parts = (v: string) => v.split(".").map(Number);
  const [a, b] = [parts(version), parts(least)];
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  return true;
}

/** How a failed decode is worded by the origin's version: one message through 5.4, two from 5.5.0. */
function decodeMessagesOf(version: SimpleJwtVersion): DecodeMessages {
  return atLeast(version, "5.5.0") ? "split" : "joined";
}

/**
 * How a token's user is found (USER_ID_FIELD and its type), read on its own: the org-token
 * API's refusal rests on it whatever else of simplejwt's settings fails.
 */
function userIdLookupOf(read: SettingsReader): SimpleJwtConfig["userIdLookup"] {
  const userIdField = read.read("userIdField");
  const userIdFieldType = read.read("userIdFieldType");
  const pk = userIdField === "id" || userIdField === "pk";
  if (pk && userIdFieldType === "string") {
    throw new ConfigError(
      `${read.name("userIdField")} ${userIdField} with ${read.name("userIdFieldType")} ${userIdFieldType} is not served: the edge keys users by an integer or UUID primary key`,
    );
  }
  // A UUID primary key is found as any synced field is: the sync sends it as simplejwt_id.
  return pk && userIdFieldType === "integer" ? { by: "pk" } : { by: "field", type: userIdFieldType };
}

/** Why the org-token API issues no token (its tokens name users by integer primary key), or undefined. */
function orgTokensRefusedBy(read: SettingsReader): string | undefined {
  try {
    if (userIdLookupOf(read).by === "pk") return undefined;
    return `${read.name("userIdField")} ${read.read("userIdField")} is not an integer primary key: the org-token API, whose tokens name users by integer primary key, issues none`;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

function simpleJwtConfig(read: SettingsReader, keys: KeyRing): SimpleJwtConfig | { error: string } {
  try {
    const version = read.read("simpleJwtVersion");
    const userIdLookup = userIdLookupOf(read);
    const tokenClaims = read.read("tokenClaims");
    const claims = {
      userIdClaim: read.read("userIdClaim"),
      tokenTypeClaim: read.read("tokenTypeClaim"),
      jtiClaim: read.read("jtiClaim"),
    };
    const entries = Object.entries(claims) as [keyof typeof claims, string][];
    for (const [key, claim] of entries) {
      if (RESERVED_CLAIMS.includes(claim))
        throw new ConfigError(`${read.name(key)} ${claim} is a claim the edge writes itself`);
      const same = entries.find(([other, value]) => other !== key && value === claim);
      if (same) throw new ConfigError(`${read.name(key)} and ${read.name(same[0])} name the same claim`);
    }
    const written = new Set([...RESERVED_CLAIMS, "jti", ...Object.values(claims)]);
    for (const { claim } of tokenClaims) {
      if (written.has(claim)) {
        throw new ConfigError(
          `${read.name("tokenClaims")} names ${claim}, a claim simplejwt or the edge writes itself`,
        );
      }
    }
    const authHeaderTypes = read.read("authHeaderTypes");
    return {
      version,
      decodeMessages: decodeMessagesOf(version),
      refreshChecksUser: atLeast(version, "5.4.0"),
      userIdAsString: atLeast(version, "5.5.1"),
      accessOwnIat: atLeast(version, "5.5.1"),
      rotateRefreshTokens: read.read("rotateRefreshTokens"),
      blacklistAfterRotation: read.read("blacklistAfterRotation"),
      keys,
      usernameField: read.read("usernameField"),
      userIdLookup,
      tokenClaims,
      ...claims,
      wwwAuthenticate: `${authHeaderTypes[0]} realm="api"`,
      authHeaderTypes,
      authHeaderName: read.read("authHeaderName"),
      leeway: read.read("leeway"),
      audience: read.read("audience"),
      issuer: read.read("issuer"),
    };
  } catch (error) {
    if (error instanceof ConfigError) return { error: error.message };
    throw error;
  }
}

/** A sync secret's HMAC key; blank: the sync route's "not set". */
async function syncKey(key: "syncSecret" | "syncPreviousSecret", read: SettingsReader): Promise<CryptoKey> {
  const bytes = read.read(key);
  if (bytes === undefined) throw new ConfigError(`${read.name(key)} is not set`);
  return signingKey(bytes);
}

async function syncConfig(settings: Settings, read: SettingsReader): Promise<SyncConfig> {
  try {
    const keys = [await syncKey("syncSecret", read)];
    if (!isBlank(settings.syncPreviousSecret)) keys.push(await syncKey("syncPreviousSecret", read));
    return { keys, revokeOnPasswordChange: read.read("syncRevokeOnPasswordChange") };
  } catch (error) {
    if (error instanceof ConfigError) return { error: error.message };
    throw error;
  }
}

const PEM_SETTINGS = ["signingKey", "verifyingKey", "previousVerifyingKeys"] as const;

/** A PEM setting as crypto/asymmetric-keys.ts takes it; blank: unset. */
function pemSetting(read: SettingsReader, key: (typeof PEM_SETTINGS)[number]) {
  const text = read.read(key);
  return text === undefined ? undefined : { name: read.name(key), text };
}

/** ALGORITHM's key ring, and under an asymmetric algorithm the JWKS; a ConfigError names a bad key. */
async function tokenKeys(
  read: SettingsReader,
  secrets: readonly Uint8Array[],
): Promise<{ keys: KeyRing; jwks: Jwks | undefined }> {
  const algorithm = read.read("algorithm");
  if (isHmac(algorithm)) {
    // The HMAC secret is JWT_SECRET_KEY: a key set here would be silently unused. Asked before
    // the PEM is read: simplejwt's HS secret put in SIGNING_KEY is this mistake, not a bad PEM.
    const set = PEM_SETTINGS.find((key) => read.isSet(key));
    if (set !== undefined) {
      throw new ConfigError(
        `${read.name(set)} is set, but ${read.name("algorithm")} ${algorithm} signs and verifies with ${read.name("secret")}`,
      );
    }
    return { keys: await hmacRing(algorithm, secrets), jwks: undefined };
  }
  const [signing, verifying, previous] = PEM_SETTINGS.map((key) => pemSetting(read, key));
  if (signing === undefined) {
    throw new ConfigError(
      `${read.name("signingKey")} is not set: ${read.name("algorithm")} ${algorithm} signs with it`,
    );
  }
  let built: Awaited<ReturnType<typeof asymmetricKeys>>;
  try {
    built = await asymmetricKeys(algorithm, signing, verifying, previous);
  } catch (error) {
    if (error instanceof KeyError) throw new ConfigError(error.message);
    throw error;
  }
  read.read("jwksPath"); // a malformed JWKS_PATH is this configuration's error (jwksPathOf serves it)
  return { keys: built.ring, jwks: { body: JSON.stringify({ keys: built.published }) } };
}

/**
 * Where the JWKS is served for these settings: JWKS_PATH under an asymmetric ALGORITHM, else
 * nowhere (the path is forwarded as any other). An ALGORITHM the edge refuses owns no path
 * either: the token routes answer the 500 naming it, and the origin's paths stay up.
 */
export function jwksPathOf(settings: Settings, names: SettingNames = {}): string | undefined {
  const read = new SettingsReader(settings, names);
  let algorithm: JwsAlgorithm;
  try {
    algorithm = read.read("algorithm");
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
  return isHmac(algorithm) ? undefined : read.read("jwksPath");
}

async function buildConfig({
  secret,
  previousSecrets: previousRaw,
  settings,
  names = {},
}: ConfigInput): Promise<Config> {
  const read = new SettingsReader(settings, names);
  // Only an absent or empty secret is "not set": whitespace is a (short) secret.
  if (secret === undefined || secret === "") {
    throw new ConfigError(`${read.name("secret")} is not set`);
  }
  const secretBytes = parseSetting("secret", secret, read.name("secret"));
  const previous = readSetting("previousSecrets", previousRaw, read.name("previousSecrets")) ?? [];
  const accessLifetime = read.read("accessTokenLifetime");
  const refreshLifetime = read.read("refreshTokenLifetime");
  const reuseInterval = read.read("refreshReuseInterval");
  const corsAllowedOrigins = read.read("corsAllowedOrigins");
  const requestLog = read.read("requestLog");
  const loginPairFailureLimit = read.read("loginPairFailureLimit");
  const loginUserFailureLimit = read.read("loginUserFailureLimit");
  const loginAddressFailureLimit = read.read("loginAddressFailureLimit");
  const passwordIterations = read.read("passwordIterations");
  const githubApiUrl = read.read("githubApiUrl");
  const githubTimeout = read.read("githubTimeout");
  const sync = await syncConfig(settings, read);
  const secrets = [secretBytes, ...previous];
  const { keys, jwks } = await tokenKeys(read, secrets);
  const secretDerivations = await derivationKeys(secrets);
  const derivations = isHmac(keys.algorithm) ? secretDerivations : keys.verifying.map(() => secretDerivations[0]!);
  const simpleJwt = simpleJwtConfig(read, keys);
  // The org-token API's wording follows the origin's version alone, whatever else of simplejwt's fails.
  let decodeMessages: DecodeMessages = "joined";
  try {
    decodeMessages = decodeMessagesOf(read.read("simpleJwtVersion"));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  }
  return {
    keys,
    jwks,
    derivation: derivations[0]!,
    derivations,
    accessLifetime,
    refreshLifetime,
    reuseInterval,
    corsAllowedOrigins,
    requestLog,
    loginPairFailureLimit,
    loginUserFailureLimit,
    loginAddressFailureLimit,
    passwordIterations,
    githubApiUrl,
    githubTimeout,
    sync,
    simpleJwt,
    decodeMessages,
    orgTokensRefused: orgTokensRefusedBy(read),
  };
}

/**
 * The configuration of one set of values. The app keeps what it gives per env object
 * (src/app.ts), the one cache: a Worker's env is the same object on every request.
 */
export function loadConfig(input: ConfigInput): Promise<Config> {
  return buildConfig(input);
}
