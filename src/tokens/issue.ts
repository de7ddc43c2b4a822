/**
 * Issuing token pairs. A rotation's successor ids are derived from the presented token's
 * id, so the same rotation signed again (a retry within the reuse interval) yields the
 * identical pair without storing any token at rest.
 */
import { CompactSign } from "jose";
import type { Config } from "../config";
import type { HmacPads } from "../crypto/hmac-sha256";
import { jwsHeader, type KeyRing } from "../crypto/keys";
import { ConfigError } from "../settings";
import { type Subject, subjectOf, type TokenClaims, type TokenType } from "./claims";
import { pythonFloat, utcTimestamp } from "./format";
import { opaqueId } from "./opaque-id";

export interface TokenPair {
  access: string;
  refresh: string;
  accessClaims: TokenClaims;
  refreshClaims: TokenClaims;
}

// The lifetimes as the body writes them, once per configuration rather than per response.
const lifetimeTexts = new WeakMap<Config, { access: string; refresh: string }>();

function lifetimesOf(config: Config): { access: string; refresh: string } {
  let texts = lifetimeTexts.get(config);
  if (texts === undefined) {
    texts = { access: pythonFloat(config.accessLifetime), refresh: pythonFloat(config.refreshLifetime) };
    lifetimeTexts.set(config, texts);
  }
  return texts;
}

/** The response body both login and refresh answer with, in the origin's key order. */
export function pairBody(pair: TokenPair, config: Config) {
  const lifetimes = lifetimesOf(config);
  return {
    exp: utcTimestamp(pair.accessClaims.exp),
    access_lifetime: lifetimes.access,
    refresh_lifetime: lifetimes.refresh,
    refresh: pair.refresh,
    access: pair.access,
  };
}

/** A fresh id, formatted as simplejwt's uuid4().hex. */
export function randomJti(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

export interface SuccessorIds {
  access: string;
  refresh: string;
}

/** Both successor ids from one HMAC of the presented id: 64 hex characters, split in two. */
export function successorJtis(derivation: HmacPads, presentedJti: string): SuccessorIds {
  const id = opaqueId(derivation, `successor:${presentedJti}`, 64);
  return { access: id.slice(0, 32), refresh: id.slice(32) };
}

function claimsFor(
  type: TokenType,
  subject: Subject,
  nowMs: number,
  lifetime: number,
  jti: string,
  family?: string,
): TokenClaims {
  // As simplejwt: iat is now, exp is now + lifetime, both truncated to whole seconds.
  const claims: TokenClaims = {
    token_type: type,
    exp: Math.floor((nowMs + lifetime * 1000) / 1000),
    iat: Math.floor(nowMs / 1000),
    jti,
    user_id: subject.userId,
    org_name: subject.orgName,
    user_name: subject.userName,
  };
  if (family !== undefined) claims.fam = family;
  claims.iat_ms = Math.floor(nowMs);
  return claims;
}

const encoder = new TextEncoder();

/**
 * A compact JWS over the claims as they are, the ring's header: jose's CompactSign, byte for
 * byte what SignJWT makes of them (test/worker/refresh.test.ts compares), without SignJWT's
 * per-call claim validation; a refresh signs two tokens, and this is most of its CPU. Both
 * APIs' tokens (simplejwt's views: ./simplejwt.ts).
 */
export function sign(claims: object, keys: KeyRing): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader(jwsHeader(keys))
    .sign(keys.signing.key);
}

async function signPair(config: Config, access: TokenClaims, refresh: TokenClaims): Promise<TokenPair> {
  if (config.orgTokensRefused !== undefined) throw new ConfigError(config.orgTokensRefused);
  const [accessToken, refreshToken] = await Promise.all([sign(access, config.keys), sign(refresh, config.keys)]);
  return { access: accessToken, refresh: refreshToken, accessClaims: access, refreshClaims: refresh };
}

/**
 * A pair for a new login: fresh ids, and the refresh token starts its own family. Both
 * tokens carry it as `fam` (simplejwt ignores the claim): an access token of an ended
 * session is refused by its family (src/storage/ended-sessions.ts).
 */
export function issueLoginPair(config: Config, subject: Subject, nowMs: number): Promise<TokenPair> {
  const refreshJti = randomJti();
  return signPair(
    config,
    claimsFor("access", subject, nowMs, config.accessLifetime, randomJti(), refreshJti),
    claimsFor("refresh", subject, nowMs, config.refreshLifetime, refreshJti, refreshJti),
  );
}

/**
 * The successor pair of a refresh token rotated at `rotatedAtMs`: deterministic in
 * (presented token, rotation time), so signing it again gives the same two tokens (the
 * same ids even across a secret rotation: `derivation` is that of the secret that signed
 * the presented token, Config.derivations). `ids`: the successor's ids when the caller
 * already derived them (the blacklist looks the refresh one up).
 */
export function issueSuccessorPair(
  config: Config,
  presented: TokenClaims,
  family: string,
  rotatedAtMs: number,
  derivation: HmacPads,
  ids: SuccessorIds = successorJtis(derivation, presented.jti),
): Promise<TokenPair> {
  const subject = subjectOf(presented);
  return signPair(
    config,
    claimsFor("access", subject, rotatedAtMs, config.accessLifetime, ids.access, family),
    claimsFor("refresh", subject, rotatedAtMs, config.refreshLifetime, ids.refresh, family),
  );
}
