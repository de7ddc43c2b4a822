/**
 * The KV blacklist's keys and entry lifetimes, one definition for the Worker
 * (./ended-sessions.ts) and the admin CLI (src/cli/sessions.ts):
 *
 *   ended:family:<fam>        "1"       the family's tokens are all refused
 *   ended:user:<id>           "<ms>"    the user's tokens issued at or before it are refused
 *   ended:org:<sha256(name)>  "<ms>"    the organization's tokens issued at or before it are refused
 *
 * Every key is bounded whatever the origin stores: KV refuses keys over 512 bytes, and an
 * organization's name may be 200 characters of four bytes each, so it is keyed by its digest.
 */
import { sha256Hex } from "../../crypto/digest";

/** KV's minimum expiration, seconds ahead. */
export const MIN_EXPIRATION_TTL = 60;

const FAMILY = /^[0-9a-f]{32}$/;

/** A family is a jti: simplejwt's are 32 hex characters; any other (a foreign token's) goes by its digest. */
export const familyKey = (family: string) =>
  FAMILY.test(family) ? `ended:family:${family}` : `ended:family:sha256:${sha256Hex(family)}`;
export const userKey = (userId: number) => `ended:user:${userId}`;
export const orgKey = (orgName: string) => `ended:org:${sha256Hex(orgName)}`;

/** Seconds an entry is kept: until `lastExpiresAt` (unix s) from `nowMs`, at least KV's minimum. */
export function expirationTtl(lastExpiresAt: number, nowMs: number): number {
  return Math.max(Math.ceil(lastExpiresAt - nowMs / 1000), MIN_EXPIRATION_TTL);
}

/** A revocation time as stored (unix ms); anything else reads as none. */
export function revokedAtOf(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}
