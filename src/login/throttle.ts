/**
 * The login throttle: which attempts may have their password checked. Every attempt is
 * counted atomically (src/storage/attempts.ts) BEFORE the password is derived, so of any
 * burst at most the limit is ever checked; a refused attempt is given back (it checked
 * nothing), a success is given back too (it was no failure) and clears its pair.
 *
 * Three counters per 15-minute window, as django-axes' lockout parameters (by username, by
 * address, by the combination), none of which an attacker can turn on the account's owner:
 *  - pair (username, address): tight. Refused over it: a guesser at one address is stopped,
 *    and only the owner's own address (/64) could lock the owner out;
 *  - address: across usernames, for one address spraying many names;
 *  - username: across addresses, much higher. Over it, the username is under a distributed
 *    attack: each address may still try it once per window (pair count 1), so the owner,
 *    at an address that has not failed, gets in, and the guesser is slowed to one guess per
 *    address per window.
 */
import type { Config } from "../config";
import type { Counted, LoginAttempts } from "../storage/attempts";
import { opaqueId } from "../tokens/opaque-id";
import { throttledAddress } from "./address";

export type Admission =
  | { allowed: true; counted: Counted[]; pairKey: string | undefined }
  | { allowed: false; retryAfter: number; counted: Counted[]; pairKey: string | undefined };

export interface ThrottleKeys {
  pair: string;
  user: string;
  address: string;
}

/** Opaque keys (HMACs: never a name, short whatever was typed). */
export function throttleKeys(config: Config, username: string, rawAddress: string | undefined): ThrottleKeys {
  const address = throttledAddress(rawAddress);
  return {
    pair: opaqueId(config.derivation, `pair:${JSON.stringify([username, address])}`),
    user: opaqueId(config.derivation, `user:${username}`),
    address: opaqueId(config.derivation, `addr:${address}`),
  };
}

/**
 * The GitHub login's keys, apart from the password login's: the address is counted before
 * GitHub is asked, the account (GitHub's numeric id, which a rename keeps) and the pair once
 * GitHub names it.
 */
export function githubAddressKeys(config: Config, rawAddress: string | undefined): Pick<ThrottleKeys, "address"> {
  return { address: opaqueId(config.derivation, `github-addr:${throttledAddress(rawAddress)}`) };
}

export function githubLoginKeys(
  config: Config,
  githubId: number,
  rawAddress: string | undefined,
): Pick<ThrottleKeys, "pair" | "user"> {
  return {
    pair: opaqueId(config.derivation, `github-id-pair:${JSON.stringify([githubId, throttledAddress(rawAddress)])}`),
    user: opaqueId(config.derivation, `github-id:${githubId}`),
  };
}

const seconds = (untilMs: number, nowMs: number) => Math.max(1, Math.ceil((untilMs - nowMs) / 1000));

/** Takes one attempt on the given counters (pair, user, address: any of them) and decides from their counts. */
export async function admit(
  config: Config,
  attempts: LoginAttempts,
  keys: Partial<ThrottleKeys>,
  nowMs: number,
): Promise<Admission> {
  const names = (["pair", "user", "address"] as const).filter((name) => keys[name] !== undefined);
  const counted = await attempts.take(
    names.map((name) => keys[name]!),
    nowMs,
  );
  const count: Partial<Record<keyof ThrottleKeys, Counted>> = {};
  names.forEach((name, index) => {
    count[name] = counted[index];
  });
  const { pair, user, address } = count;
  const waits: number[] = [];
  if (pair && pair.count > config.loginPairFailureLimit) waits.push(pair.windowEndMs);
  if (address && address.count > config.loginAddressFailureLimit) waits.push(address.windowEndMs);
  // Over the username limit only an address's first attempt in its pair window goes through;
  // the block lifts when either window ends.
  if (user && pair && user.count > config.loginUserFailureLimit && pair.count > 1)
    waits.push(Math.min(user.windowEndMs, pair.windowEndMs));
  const pairKey = keys.pair;
  if (waits.length === 0) return { allowed: true, counted, pairKey };
  return { allowed: false, retryAfter: seconds(Math.max(...waits), nowMs), counted, pairKey };
}

/** A refused attempt checked nothing: it counts for nothing. */
export function refused(attempts: LoginAttempts, ...admissions: Admission[]): Promise<void> {
  return attempts.settle(admissions.flatMap((admission) => admission.counted));
}

/**
 * A right password (or a GitHub token whose login has an account): the attempt was no
 * failure (username and address get it back) and the pair starts over (the owner's earlier
 * typos no longer count). The username counter is not cleared: it holds other addresses'
 * failures, and clearing it on each of the owner's logins would hand a distributed guesser
 * a fresh budget.
 */
export async function succeeded(attempts: LoginAttempts, ...admissions: Admission[]): Promise<void> {
  const pairs = admissions.flatMap((admission) => (admission.pairKey === undefined ? [] : [admission.pairKey]));
  const others = admissions.flatMap((admission) => admission.counted.filter((c) => c.key !== admission.pairKey));
  await attempts.settle(others, pairs);
}
