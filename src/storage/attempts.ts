/**
 * Login attempts, counted per opaque key (an HMAC of a username, an address or the pair) in
 * fixed windows. The interface only: the D1 implementation is in ./d1/attempts.ts. The policy
 * (which keys, which limits) is src/login/throttle.ts.
 */

/** One key's count after an attempt was taken, and the window it was counted in. */
export interface Counted {
  key: string;
  /** Attempts in the window, this one included. */
  count: number;
  windowStartMs: number;
  windowEndMs: number;
}

export interface LoginAttempts {
  /**
   * Counts one attempt against every key, atomically per key and all in one round trip:
   * of concurrent takes on a key, each sees a distinct count. A key whose window has ended
   * starts a new one.
   */
  take(keys: readonly string[], nowMs: number): Promise<Counted[]>;
  /**
   * Settles an attempt, in one round trip: gives one attempt back to each of `refund`, in
   * the window it was taken in (none if that rolled over), and forgets the counts of `reset`.
   */
  settle(refund: readonly Counted[], reset?: readonly string[]): Promise<void>;
  /** Deletes the rows whose window ended by `nowMs` (the cron); how many. */
  purge(nowMs: number): Promise<number>;
}

export const FAILURE_WINDOW_SECONDS = 15 * 60;
