/**
 * simplejwt's tokens, as its stock views read and write them (rest_framework_simplejwt
 * tokens.py, backends.py; PyJWT 2.6's decode), with the settings of the origin's SIMPLE_JWT
 * (Config.simpleJwt): claim names, algorithm, leeway, audience, issuer, and what its version
 * changes (messages, the user id's type, the access token's iat).
 *
 * The org-token API's tokens (./claims.ts, ./verify.ts, ./issue.ts) are another shape:
 * these carry no organization, and their claims are whatever the origin's settings name.
 * The edge adds its own two (`fam`, `iat_ms`), which simplejwt ignores and copies along.
 */
import { compactVerify } from "jose";
import type { SimpleJwtConfig } from "../config";
import { verifyWithRing } from "../crypto/keys";
import type { UserRef } from "../storage/members";
import { issuedAtMs } from "./claims";
import { randomJti, sign } from "./issue";
import { decodeFailureMessage } from "./verify";

/** A token's payload, in its claims' order (simplejwt keeps insertion order). */
export type Payload = Record<string, unknown>;

export type Decoded = { ok: true; payload: Payload; keyIndex: number } | { ok: false; message: string };

/** What the views say of a token, once decoded: simplejwt's TokenError messages (tokens.py Token.verify). */
export type TokenMessage =
  | "Token has no 'exp' claim"
  | "Token 'exp' claim has expired"
  | "Token has no id"
  | "Token has no type"
  | "Token has wrong type";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const JTI = /^[0-9a-f]{32}$/;

/** Python's int() of a claim, as PyJWT applies it to iat, nbf and exp; undefined where int() raises. */
function pythonInt(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/**
 * Step 1 of every view's token (TokenBackend.decode, PyJWT's jwt.decode): the signature
 * under the algorithm (one of its keys: the one a kid names, else each in order), the
 * payload a JSON object, then PyJWT's claim checks in its order: iat not in the future, nbf, exp (the only "expired"), iss and aud
 * when set. Any failure is one message (the version's).
 */
export async function decodeToken(token: string, sj: SimpleJwtConfig, nowMs: number): Promise<Decoded> {
  const verified = await verifyWithRing(sj.keys, token, (key) =>
    compactVerify(token, key, { algorithms: [sj.keys.algorithm] }),
  );
  const invalid: Decoded = { ok: false, message: decodeFailureMessage(sj.decodeMessages, false) };
  // Malformed, another algorithm, no key's signature: the same answer.
  if (!verified.ok) return invalid;
  let payload: unknown;
  try {
    payload = JSON.parse(decoder.decode(verified.value.payload));
  } catch {
    return invalid;
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return invalid;
  const claims = payload as Payload;
  const now = Math.floor(nowMs / 1000); // PyJWT's now: whole seconds
  if ("iat" in claims) {
    const iat = pythonInt(claims.iat);
    if (iat === undefined || iat > now + sj.leeway) return invalid;
  }
  if ("nbf" in claims) {
    const nbf = pythonInt(claims.nbf);
    if (nbf === undefined || nbf > now + sj.leeway) return invalid;
  }
  if ("exp" in claims) {
    const exp = pythonInt(claims.exp);
    if (exp === undefined) return invalid;
    if (exp <= now - sj.leeway) return { ok: false, message: decodeFailureMessage(sj.decodeMessages, true) };
  }
  if (sj.issuer !== undefined && claims.iss !== sj.issuer) return invalid;
  if (sj.audience !== undefined) {
    const aud = claims.aud;
    const list = typeof aud === "string" ? [aud] : aud;
    if (!Array.isArray(list) || list.some((entry) => typeof entry !== "string") || !list.includes(sj.audience)) {
      return invalid;
    }
  }
  return { ok: true, payload: claims, keyIndex: verified.keyIndex };
}

/**
 * The rest of Token.verify after the blacklist: exp present (and, with a fractional
 * leeway, not past by simplejwt's own clock), the id, then, for a typed token, its type.
 * `type` undefined: UntypedToken (the verify view), no type check.
 */
export function tokenMessage(
  payload: Payload,
  sj: SimpleJwtConfig,
  type: "access" | "refresh" | undefined,
  nowMs: number,
): TokenMessage | undefined {
  if (!("exp" in payload)) return "Token has no 'exp' claim";
  if (Number(payload.exp) * 1000 <= nowMs - sj.leeway * 1000) return "Token 'exp' claim has expired";
  if (!(sj.jtiClaim in payload)) return "Token has no id";
  if (type === undefined) return undefined;
  if (!(sj.tokenTypeClaim in payload)) return "Token has no type";
  if (payload[sj.tokenTypeClaim] !== type) return "Token has wrong type";
  return undefined;
}

/** The token's id as the ledger keys it: its text (simplejwt's CharField stores str()). */
export function jtiOf(payload: Payload, sj: SimpleJwtConfig): string {
  const jti = payload[sj.jtiClaim];
  return typeof jti === "string" ? jti : JSON.stringify(jti);
}

/** The family a token belongs to: its `fam` (the edge's), else its own id (a token of the origin's). */
export function familyOfPayload(payload: Payload, sj: SimpleJwtConfig): string {
  return typeof payload.fam === "string" && JTI.test(payload.fam) ? payload.fam : jtiOf(payload, sj);
}

/** When it was issued (unix ms), as claims.ts reads it: iat_ms where it agrees with iat, else iat's second; 0 without iat. */
export function issuedAtMsOf(payload: Payload): number {
  const { iat, iat_ms: iatMs } = payload;
  if (typeof iat !== "number" || !Number.isFinite(iat)) return 0;
  const agrees =
    typeof iatMs === "number" && Number.isSafeInteger(iatMs) && Math.floor(iatMs / 1000) === Math.floor(iat);
  return issuedAtMs({ iat: Math.floor(iat), iat_ms: agrees ? iatMs : undefined });
}

/** Whether Python finds the claim's value true (`if user_id := payload.get(USER_ID_CLAIM)`). */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/** Python's int() of a base-10 string: surrounding whitespace, a sign, digits with single underscores between. */
const PY_DECIMAL = /^\s*([+-]?\d+(?:_\d+)*)\s*$/;

/**
 * Django's IntegerField lookup value (get_prep_value: int()): a bool is 0 or 1, a float
 * truncated, a decimal string parsed as Python does; undefined where int() raises (the
 * origin's 500), or for an id beyond JavaScript's exact integers (no user has one).
 */
function djangoInt(value: unknown): number | undefined {
  let id: number;
  if (typeof value === "boolean") id = value ? 1 : 0;
  else if (typeof value === "number") id = Math.trunc(value);
  else if (typeof value === "string") {
    const match = PY_DECIMAL.exec(value);
    if (match === null) return undefined;
    id = Number(match[1]!.replaceAll("_", ""));
  } else return undefined;
  return Number.isSafeInteger(id) ? id : undefined;
}

/** Python's int(text, 16): whitespace, a sign, an optional 0x, hex digits with single underscores between. */
const PY_HEX = /^\s*([+-]?)(?:0[xX]_?)?([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)\s*$/;

/**
 * Django's UUIDField lookup value (to_python): an int is UUID(int=...), anything else
 * UUID(hex=...) — "urn:" and "uuid:" removed, braces stripped from the ends, hyphens
 * removed, then exactly 32 characters Python's int(…, 16) reads, in range — as the text
 * the edge keeps (lower case, hyphenated). undefined where Django raises ValidationError
 * (the origin's 500).
 */
function djangoUuid(value: unknown): string | undefined {
  let n: bigint;
  if (typeof value === "boolean") n = value ? 1n : 0n;
  else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) return undefined; // a float is UUID(hex=1.5): AttributeError there too
    n = BigInt(value);
  } else if (typeof value === "string") {
    const hex = value
      .replaceAll("urn:", "")
      .replaceAll("uuid:", "")
      .replace(/^[{}]+|[{}]+$/g, "")
      .replaceAll("-", "");
    if ([...hex].length !== 32) return undefined;
    const match = PY_HEX.exec(hex);
    if (match === null) return undefined;
    n = BigInt(`0x${match[2]!.replaceAll("_", "")}`);
    if (match[1] === "-") n = -n;
  } else return undefined;
  if (n < 0n || n >= 1n << 128n) return undefined;
  const h = n.toString(16).padStart(32, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Django's CharField lookup value (to_python: str()): a string as it is, an int or bool as Python prints it. */
function djangoString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return undefined; // null (IS NULL: no synced user), a float, a list, an object: the edge finds nobody
}

/**
 * The user a token's USER_ID_CLAIM value names, as `User.objects.get(**{USER_ID_FIELD: value})`
 * converts it: the primary key by int(), another field by its type's conversion (the
 * synced text it is compared with). undefined: Django raises (the origin's 500) or no user can match.
 */
export function userRefOf(value: unknown, sj: SimpleJwtConfig): UserRef | undefined {
  const lookup = sj.userIdLookup;
  if (lookup.by === "pk") {
    const id = djangoInt(value);
    return id === undefined ? undefined : { id };
  }
  const key =
    lookup.type === "integer"
      ? djangoInt(value)?.toString()
      : lookup.type === "uuid"
        ? djangoUuid(value)
        : djangoString(value);
  return key === undefined ? undefined : { key };
}

/**
 * What the obtain view writes of its user; else what of it the sync has not brought
 * (`missing`: a field's name), or `uuidKeyed`: the origin keys it by a UUID while
 * USER_ID_FIELD_TYPE says the primary key is an integer (its id here is not the origin's).
 */
export type TokenUser = { userId: unknown; claims: [string, unknown][] } | { missing: string } | { uuidKeyed: true };

/**
 * RefreshToken.for_user's `getattr(user, USER_ID_FIELD)` (an int through 5.5.0, `str()` in
 * 5.5.1; a UUID or a string is text in both), then the custom claims (TOKEN_CLAIMS) from
 * the user's synced fields, in their order.
 */
export function tokenUserOf(
  sj: SimpleJwtConfig,
  user: { userId: number; simplejwtId: string | null; claims: string | null; uuidKeyed: boolean },
): TokenUser {
  const lookup = sj.userIdLookup;
  let userId: unknown;
  if (lookup.by === "pk" && user.uuidKeyed) return { uuidKeyed: true };
  if (lookup.by === "pk") userId = sj.userIdAsString ? String(user.userId) : user.userId;
  else if (user.simplejwtId === null) return { missing: "simplejwt_id" };
  else if (lookup.type === "integer" && !sj.userIdAsString) userId = Number(user.simplejwtId);
  else userId = user.simplejwtId;
  const fields = sj.tokenClaims.length === 0 || user.claims === null ? {} : (JSON.parse(user.claims) as Payload);
  const claims: [string, unknown][] = [];
  for (const { claim, field } of sj.tokenClaims) {
    if (!Object.hasOwn(fields, field)) return { missing: `claims.${field}` };
    claims.push([claim, fields[field]]);
  }
  return { userId, claims };
}

/** Token.__init__ of a new token: the type, exp = now + lifetime, iat = now (whole seconds, floored), the id. */
function newPayload(sj: SimpleJwtConfig, type: "access" | "refresh", nowMs: number, lifetime: number, jti: string) {
  const payload: Payload = {};
  payload[sj.tokenTypeClaim] = type;
  payload.exp = Math.floor((nowMs + lifetime * 1000) / 1000);
  payload.iat = Math.floor(nowMs / 1000);
  payload[sj.jtiClaim] = jti;
  return payload;
}

/** TokenBackend.encode: aud and iss written (in place, else last) when set. */
function withAudience(payload: Payload, sj: SimpleJwtConfig): Payload {
  if (sj.audience !== undefined) payload.aud = sj.audience;
  if (sj.issuer !== undefined) payload.iss = sj.issuer;
  return payload;
}

/**
 * RefreshToken.for_user, then the origin's get_token: the user id, the custom claims; aud and
 * iss (TokenBackend.encode appends them); then the edge's `fam` (the family starts here) and `iat_ms`.
 */
export function refreshForUser(
  sj: SimpleJwtConfig,
  user: { userId: unknown; claims: readonly [string, unknown][] },
  nowMs: number,
  lifetime: number,
  jti = randomJti(),
): Payload {
  const payload = newPayload(sj, "refresh", nowMs, lifetime, jti);
  payload[sj.userIdClaim] = user.userId;
  for (const [claim, value] of user.claims) payload[claim] = value;
  withAudience(payload, sj);
  payload.fam = jti;
  payload.iat_ms = Math.floor(nowMs);
  return payload;
}

/**
 * RefreshToken.access_token: a new access token (exp = now + lifetime), then every claim of
 * the refresh token but its type, exp and id; 5.5.1 keeps its own iat too (and the edge its
 * own iat_ms with it). The family goes along (`fam`; a token of the origin's names its own).
 */
export function accessFrom(
  refresh: Payload,
  sj: SimpleJwtConfig,
  family: string,
  nowMs: number,
  lifetime: number,
  jti = randomJti(),
): Payload {
  const access = newPayload(sj, "access", nowMs, lifetime, jti);
  const noCopy = new Set([sj.tokenTypeClaim, "exp", sj.jtiClaim, "jti", ...(sj.accessOwnIat ? ["iat", "iat_ms"] : [])]);
  for (const [claim, value] of Object.entries(refresh)) if (!noCopy.has(claim)) access[claim] = value;
  if (sj.accessOwnIat) access.iat_ms = Math.floor(nowMs);
  if (access.fam === undefined) access.fam = family;
  return withAudience(access, sj);
}

/**
 * The refresh view's rotation: the same token, its claims in their order, with a new id,
 * exp = now + lifetime and iat = now (set_jti, set_exp, set_iat); iat_ms follows iat, and the
 * family is carried (`fam` added to a token of the origin's).
 */
export function rotatedRefresh(
  presented: Payload,
  sj: SimpleJwtConfig,
  family: string,
  nowMs: number,
  lifetime: number,
  jti: string,
): Payload {
  const next: Payload = { ...presented };
  next[sj.jtiClaim] = jti;
  next.exp = Math.floor((nowMs + lifetime * 1000) / 1000);
  next.iat = Math.floor(nowMs / 1000);
  next.iat_ms = Math.floor(nowMs);
  if (next.fam === undefined) next.fam = family;
  return withAudience(next, sj);
}

/** A payload signed with the views' key ring (./issue.ts sign, one definition for both APIs). */
export function signPayload(payload: Payload, sj: SimpleJwtConfig): Promise<string> {
  return sign(payload, sj.keys);
}
