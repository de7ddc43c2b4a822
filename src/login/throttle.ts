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
  | { allowed: true; counted: Counted[] }
  | { allowed: false; retryAfter: number; counted: Counted[] };

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

const seconds = (untilMs: number, nowMs: number) => Math.max(1, Math.ceil((untilMs - nowMs) / 1000));

/** Takes one attempt on the three counters and decides from the counts they answer. */
export async function admit(
  config: Config,
  attempts: LoginAttempts,
  keys: ThrottleKeys,
  nowMs: number,
): Promise<Admission> {
  const counted = await attempts.take([keys.pair, keys.user, keys.address], nowMs);
  const [pair, user, address] = counted as [Counted, Counted, Counted];
  const waits: number[] = [];
  if (pair.count > config.loginPairFailureLimit) waits.push(pair.windowEndMs);
  if (address.count > config.loginAddressFailureLimit) waits.push(address.windowEndMs);
  // Over the username limit only an address's first attempt in its pair window goes through;
  // the block lifts when either window ends.
  if (user.count > config.loginUserFailureLimit && pair.count > 1)
    waits.push(Math.min(user.windowEndMs, pair.windowEndMs));
  if (waits.length === 0) return { allowed: true, counted };
  return { allowed: false, retryAfter: seconds(Math.max(...waits), nowMs), counted };
}

/** A refused attempt checked no password: it counts for nothing. */
export function refused(attempts: LoginAttempts, admission: Admission): Promise<void> {
  return attempts.settle(admission.counted);
}

/**
 * A right password: the attempt was no failure (username and address get it back) and the
 * pair starts over (the owner's earlier typos no longer count). The username counter is not
 * cleared: it holds other addresses' failures, and clearing it on each of the owner's logins
 * would hand a distributed guesser a fresh budget.
 */
export async function succeeded(attempts: LoginAttempts, admission: Admission): Promise<void> {
  const [pair, ...others] = admission.counted as [Counted, ...Counted[]];
  await attempts.settle(others, [pair.key]);
}
