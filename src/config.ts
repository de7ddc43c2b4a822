/**
 * Configuration, parsed and validated once per set of values. A bad value never reaches a
 * route: `loadConfig` answers a ConfigError naming the setting, and the app turns it into
 * one clear 500.
 *
 * The input is the API's settings (as a host passes them to `orgTokenApi`), not an Env:
 * this repository's Worker maps its env vars onto them in worker/env.ts.
 */
import type { HmacPads } from "./crypto/hmac-sha256";
import { secretBytes, signingKey } from "./sync/signature";
import { tokenKeys } from "./tokens/keys";

export const MIN_SECRET_BYTES = 32;

/** A setting as a host has it: an env var's string, or a number. Blank or absent: the default. */
export type SettingValue = string | number | undefined;

/**
 * Everything but the secret, each optional. To add a setting: a field here, its default
 * and parser below (in `buildConfig`), its field in Config, and its env var in worker/env.ts.
 */
export interface Settings {
  /** Seconds (may be fractional); default 86400. */
  accessTokenLifetime?: SettingValue;
  /** Seconds; default 2592000 (30 days). */
  refreshTokenLifetime?: SettingValue;
  /** Seconds during which a just-rotated refresh token gets its successor pair again; default 0. */
  refreshReuseInterval?: SettingValue;
  /** Origins that get CORS headers: a comma-separated string or a list; default none. */
  corsAllowedOrigins?: string | readonly string[] | undefined;
  /** Which requests get their log line: "all" (default), "errors" (status 400 and up) or "off". */
  requestLog?: string | undefined;
  /** Failed logins allowed per 15 minutes per username at one client address before 429; default 10. */
  loginPairFailureLimit?: SettingValue;
  /** Failed logins per 15 minutes per username across addresses; past it, one try per address; default 100. */
  loginUserFailureLimit?: SettingValue;
  /** Failed logins allowed per 15 minutes per client address before 429; default 50. */
  loginAddressFailureLimit?: SettingValue;
  /** Where GitHub's REST API is, for the GitHub login: default https://api.github.com (GHES: https://host/api/v3). */
  githubApiUrl?: string | undefined;
  /** Seconds the GitHub login waits for GitHub's answer; default 5. */
  githubTimeout?: SettingValue;
  /** The origin sync's signing secret (docs/sync.md), at least 32 bytes, or `whsec_<base64>`; unset: the sync route answers 500. */
  syncSecret?: string | undefined;
  /** The sync secret the origin is moving away from, accepted too during a rotation. */
  syncPreviousSecret?: string | undefined;
  /** Whether a password change at the origin ends the user's sessions: "on" (default) or "off". */
  syncRevokeOnPasswordChange?: string | undefined;
}

/** How error messages name the secret and each setting (a host's own env var names, for example). */
export type SettingNames = Partial<Record<keyof Settings | "secret" | "previousSecrets", string>>;

export interface ConfigInput {
  /** The HS256 signing secret, at least 32 bytes. */
  secret: string | undefined;
  /** Older secrets still accepted for verification (key rotation). */
  previousSecrets?: string | readonly string[] | undefined;
  settings: Settings;
  names?: SettingNames;
}

export interface Config {
  /** HS256 key for signing every token (JWT_SECRET_KEY). */
  signingKey: CryptoKey;
  /** Keys a token may be signed with: the signing key first, then JWT_PREVIOUS_SECRET_KEYS. */
  verificationKeys: readonly CryptoKey[];
  /**
   * A separate HMAC key derived from the current secret, as its pad states (opaque ids are
   * computed in plain TypeScript, src/tokens/opaque-id.ts): the login throttle's keys. A
   * rotation changes it; nothing stored is keyed by it except short-lived login counters.
   */
  derivation: HmacPads;
  /**
   * The derivation key of each verification key, in the same order (the first is
   * `derivation`). A successor's ids derive under the one whose secret signed the presented
   * token, so a retried rotation gets the same ids whichever secret is current by then.
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
  /** GitHub's REST API base, without a trailing slash (src/github/user.ts asks `${githubApiUrl}/user`). */
  githubApiUrl: string;
  /** Seconds before GitHub's answer is given up on (503). */
  githubTimeout: number;
  sync: SyncConfig;
}

/**
 * The origin sync's settings, or why the sync route cannot serve: apart from the rest, so a
 * missing SYNC_SECRET takes down that route only, never the token routes.
 */
export type SyncConfig = { keys: readonly CryptoKey[]; revokeOnPasswordChange: boolean } | { error: string };

export const REQUEST_LOG_MODES = ["all", "errors", "off"] as const;
export type RequestLogMode = (typeof REQUEST_LOG_MODES)[number];

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const SECONDS_DEFAULTS = {
  accessTokenLifetime: 86400,
  refreshTokenLifetime: 2592000,
  refreshReuseInterval: 0,
  githubTimeout: 5,
} as const;

const YEAR = 365 * 24 * 3600;
/**
 * The range of each duration, in seconds. Lifetimes: from 1 s to 10 years (a larger one
 * overflows the response's date; a smaller one is no token). Reuse interval: up to
 * a day; beyond that a replay is no retry.
 */
const SECONDS_RANGE = {
  accessTokenLifetime: [1, 10 * YEAR],
  refreshTokenLifetime: [1, 10 * YEAR],
  refreshReuseInterval: [0, 24 * 3600],
  githubTimeout: [0.001, 60],
} as const satisfies Record<keyof typeof SECONDS_DEFAULTS, readonly [number, number]>;

/** Failed logins per window: at least one, and no more than any client could try. */
const MAX_LIMIT = 1_000_000;

const LIMIT_DEFAULTS = {
  loginPairFailureLimit: 10,
  loginUserFailureLimit: 100,
  loginAddressFailureLimit: 50,
} as const;

function isBlank(raw: SettingValue): raw is undefined | string {
  return raw === undefined || (typeof raw === "string" && raw.trim() === "");
}

/** Reads settings, naming each in its messages as the host named it. */
class SettingsReader {
  constructor(
    private readonly settings: Settings,
    private readonly names: SettingNames,
  ) {}

  name(key: keyof SettingNames): string {
    return this.names[key] ?? key;
  }

  count(key: keyof typeof LIMIT_DEFAULTS): number {
    const raw = this.settings[key];
    if (isBlank(raw)) return LIMIT_DEFAULTS[key];
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT) {
      throw new ConfigError(`${this.name(key)} must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    return value;
  }

  seconds(key: keyof typeof SECONDS_DEFAULTS): number {
    const raw = this.settings[key];
    if (isBlank(raw)) return SECONDS_DEFAULTS[key];
    const value = Number(raw);
    const [min, max] = SECONDS_RANGE[key];
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new ConfigError(`${this.name(key)} must be a number of seconds from ${min} to ${max}`);
    }
    // As Python's timedelta: whole microseconds.
    return Math.round(value * 1e6) / 1e6;
  }

  requestLog(): RequestLogMode {
    const value = (this.settings.requestLog ?? "").trim().toLowerCase();
    if (value === "") return "all";
    if (!(REQUEST_LOG_MODES as readonly string[]).includes(value)) {
      throw new ConfigError(`${this.name("requestLog")} must be one of ${REQUEST_LOG_MODES.join(", ")}`);
    }
    return value as RequestLogMode;
  }

  /** An http(s) URL without query or fragment; a trailing slash dropped. */
  githubApiUrl(): string {
    const raw = (this.settings.githubApiUrl ?? "").trim();
    if (raw === "") return "https://api.github.com";
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`${this.name("githubApiUrl")} is not a URL`);
    }
    if (
      (url.protocol !== "https:" && url.protocol !== "http:") ||
      url.search !== "" ||
      url.hash !== "" ||
      url.username !== "" ||
      url.password !== ""
    ) {
      throw new ConfigError(
        `${this.name("githubApiUrl")} must be an http(s) URL without credentials, query or fragment`,
      );
    }
    return url.href.replace(/\/+$/, "");
  }

  origins(): Set<string> {
    const raw = this.settings.corsAllowedOrigins;
    const entries = typeof raw === "string" || raw === undefined ? (raw ?? "").split(",") : [...raw];
    const list = entries.map((o) => o.trim()).filter(Boolean);
    const name = this.name("corsAllowedOrigins");
    for (const origin of list) {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw new ConfigError(`${name} has an entry that is not an origin: ${origin}`);
      }
      if (parsed.origin !== origin.replace(/\/$/, "")) {
        throw new ConfigError(`${name} entries are bare origins (scheme://host[:port]): ${origin}`);
      }
    }
    return new Set(list.map((o) => o.replace(/\/$/, "")));
  }
}

/**
 * The secrets of earlier rotations, which still verify but never sign: a list, or as an env
 * var a JSON array of strings (`["old secret"]`), because a secret may hold any character a
 * separator could be. Unset, blank or `[]`: none. Errors never quote a value.
 */
function previousSecrets(raw: string | readonly string[] | undefined, name: string): Uint8Array[] {
  if (raw === undefined || (typeof raw === "string" && raw.trim() === "")) return [];
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

async function syncKey(raw: string | undefined, name: string): Promise<CryptoKey> {
  if (raw === undefined || raw.trim() === "") throw new ConfigError(`${name} is not set`);
  let bytes: Uint8Array;
  try {
    bytes = secretBytes(raw);
  } catch {
    throw new ConfigError(`${name} starts with whsec_ but the rest is not base64`);
  }
  if (bytes.byteLength < MIN_SECRET_BYTES) throw new ConfigError(`${name} is shorter than ${MIN_SECRET_BYTES} bytes`);
  return signingKey(bytes);
}

async function syncConfig(settings: Settings, read: SettingsReader): Promise<SyncConfig> {
  try {
    const keys = [await syncKey(settings.syncSecret, read.name("syncSecret"))];
    const previous = settings.syncPreviousSecret;
    if (previous !== undefined && previous.trim() !== "") {
      keys.push(await syncKey(previous, read.name("syncPreviousSecret")));
    }
    const revoke = (settings.syncRevokeOnPasswordChange ?? "").trim().toLowerCase();
    if (!["", "on", "off", "true", "false", "1", "0"].includes(revoke)) {
      throw new ConfigError(`${read.name("syncRevokeOnPasswordChange")} must be on or off`);
    }
    return { keys, revokeOnPasswordChange: !["off", "false", "0"].includes(revoke) };
  } catch (error) {
    if (error instanceof ConfigError) return { error: error.message };
    throw error;
  }
}

async function buildConfig({
  secret,
  previousSecrets: previousRaw,
  settings,
  names = {},
}: ConfigInput): Promise<Config> {
  const read = new SettingsReader(settings, names);
  if (secret === undefined || secret === "") {
    throw new ConfigError(`${read.name("secret")} is not set`);
  }
  const secretBytes = new TextEncoder().encode(secret);
  if (secretBytes.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`${read.name("secret")} is shorter than ${MIN_SECRET_BYTES} bytes`);
  }
  const previous = previousSecrets(previousRaw, read.name("previousSecrets"));
  const accessLifetime = read.seconds("accessTokenLifetime");
  const refreshLifetime = read.seconds("refreshTokenLifetime");
  const reuseInterval = read.seconds("refreshReuseInterval");
  const corsAllowedOrigins = read.origins();
  const requestLog = read.requestLog();
  const loginPairFailureLimit = read.count("loginPairFailureLimit");
  const loginUserFailureLimit = read.count("loginUserFailureLimit");
  const loginAddressFailureLimit = read.count("loginAddressFailureLimit");
  const githubApiUrl = read.githubApiUrl();
  const githubTimeout = read.seconds("githubTimeout");
  const sync = await syncConfig(settings, read);
  const { signingKey, verificationKeys, derivations } = await tokenKeys(secretBytes, previous);
  return {
    signingKey,
    verificationKeys,
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
    githubApiUrl,
    githubTimeout,
    sync,
  };
}

/**
 * The configuration of one set of values. The app keeps what it gives per env object
 * (src/app.ts), the one cache: a Worker's env is the same object on every request.
 */
export function loadConfig(input: ConfigInput): Promise<Config> {
  return buildConfig(input);
}
