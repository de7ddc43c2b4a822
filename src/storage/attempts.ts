/**
 * Failed password logins, counted per username and per client address in KV with
 * expiration. KV, not the rate-limiting binding: only failures count (a success is never
 * slowed), the window is minutes (the binding's period is 10 or 60 s, per location), and
 * expiration cleans up. KV's eventual consistency and one-write-per-second-per-key make
 * the count approximate under a burst; throttling needs no more.
 */
import { guard } from "./guard";
import { putQuietly } from "./kv";

export interface LoginAttempts {
  /** Seconds until any of these keys may try again; 0 when none is throttled. */
  retryAfter(keys: readonly ThrottleKey[], nowMs: number): Promise<number>;
  /** Count one failure against each key. */
  recordFailure(keys: readonly ThrottleKey[], nowMs: number): Promise<void>;
}

export interface ThrottleKey {
  /** An opaque id of the username or address: never the name itself (a password typed into
   * the username field must not sit in KV), and short whatever was typed (KV keys: 512 bytes). */
  key: string;
  limit: number; // failures allowed per window
}

export const FAILURE_WINDOW_SECONDS = 15 * 60;

interface Counter {
  count: number;
  since: number; // ms: when the window opened
}

export class KvLoginAttempts implements LoginAttempts {
  constructor(private readonly kv: KVNamespace) {}

  private read(keys: readonly ThrottleKey[]) {
    return guard("attempts.read", () =>
      Promise.all(keys.map(({ key }) => this.kv.get<Counter>(`login-failures:${key}`, "json"))),
    );
  }

  async retryAfter(keys: readonly ThrottleKey[], nowMs: number): Promise<number> {
    const counters = await this.read(keys);
    let wait = 0;
    counters.forEach((counter, i) => {
      if (counter === null || counter.count < keys[i]!.limit) return;
      const remaining = Math.ceil((counter.since + FAILURE_WINDOW_SECONDS * 1000 - nowMs) / 1000);
      wait = Math.max(wait, remaining);
    });
    return wait;
  }

  async recordFailure(keys: readonly ThrottleKey[], nowMs: number): Promise<void> {
    const counters = await this.read(keys);
    await Promise.all(
      keys.map(({ key }, i) => {
        const previous = counters[i];
        const open = previous != null && nowMs < previous.since + FAILURE_WINDOW_SECONDS * 1000;
        const next: Counter = open ? { count: previous.count + 1, since: previous.since } : { count: 1, since: nowMs };
        const ttl = (next.since + FAILURE_WINDOW_SECONDS * 1000 - nowMs) / 1000;
        // A lost count only lets one more guess through; it must not turn a 401 into a 503.
        return putQuietly(this.kv, `login-failures:${key}`, JSON.stringify(next), ttl);
      }),
    );
  }
}
