/**
 * Configuration, parsed and validated once per set of values. A bad value never reaches a
 * route: `loadConfig` answers a ConfigError naming the setting, and the app turns it into
 * one clear 500.
 *
 * The input is the API's settings (as a host passes them to `orgTokenApi`), not an Env:
 * this repository's Worker maps its env vars onto them in worker/env.ts.
 */

import type { HmacPads } from "./crypto/hmac-sha256";
import { tokenKeys } from "./crypto/keys";
import {
  ConfigError,
  isBlank,
  parseSetting,
  type RequestLogMode,
  readSetting,
  type SettingInput,
  type Settings,
  type SettingsKey,
} from "./settings";
import { signingKey } from "./sync/signature";

export type { RequestLogMode, Settings, SettingValue } from "./settings";
export { ConfigError } from "./settings";

/** How error messages name the secret and each setting (a host's own env var names, for example). */
export type SettingNames = Partial<Record<SettingsKey | "secret" | "previousSecrets", string>>;

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

/** Reads the table's settings (src/settings.ts), naming each in its messages as the host named it. */
class SettingsReader {
  constructor(
    private readonly settings: Settings,
    private readonly names: SettingNames,
  ) {}

  name(key: keyof SettingNames): string {
    return this.names[key] ?? key;
  }

  read<K extends SettingsKey>(key: K) {
    return readSetting(key, this.settings[key] as SettingInput<K>, this.name(key));
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
  const githubApiUrl = read.read("githubApiUrl");
  const githubTimeout = read.read("githubTimeout");
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
