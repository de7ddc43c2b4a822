/**
 * Login attempts in D1 (table login_attempts). D1, not KV: KV is eventually consistent and
 * takes one write per second per key, so a burst read the same count and was counted as two.
 * An upsert with RETURNING on the primary is atomic (SQLite runs one statement at a time) and
 * costs one round trip for all keys (a batch); a Durable Object would count as well, at the
 * price of a class to deploy and migrate and a second storage to reason about.
 */

import { type Counted, FAILURE_WINDOW_SECONDS, type LoginAttempts } from "../attempts";
import { guard } from "../guard";

// In SQLite's UPDATE every right-hand side reads the row as it was, so the three CASEs agree.
const TAKE = `INSERT INTO login_attempts (key, attempts, window_start, window_end) VALUES (?1, 1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET
  attempts     = CASE WHEN window_end <= ?2 THEN 1  ELSE attempts + 1 END,
  window_start = CASE WHEN window_end <= ?2 THEN ?2 ELSE window_start END,
  window_end   = CASE WHEN window_end <= ?2 THEN ?3 ELSE window_end END
RETURNING attempts, window_start, window_end`;

const REFUND =
  "UPDATE login_attempts SET attempts = attempts - 1 WHERE key = ?1 AND window_start = ?2 AND attempts > 0";

const RESET = "DELETE FROM login_attempts WHERE key = ?1";

interface Row {
  attempts: number;
  window_start: number;
  window_end: number;
}

export class D1LoginAttempts implements LoginAttempts {
  constructor(
    private readonly primary: D1Database,
    private readonly windowMs = FAILURE_WINDOW_SECONDS * 1000,
  ) {}

  take(keys: readonly string[], nowMs: number): Promise<Counted[]> {
    if (keys.length === 0) return Promise.resolve([]);
    const statements = keys.map((key) => this.primary.prepare(TAKE).bind(key, nowMs, nowMs + this.windowMs));
    return guard("attempts.take", async () => {
      const results = await this.primary.batch<Row>(statements);
      return results.map((result, i) => {
        const row = result.results[0]!;
        return { key: keys[i]!, count: row.attempts, windowStartMs: row.window_start, windowEndMs: row.window_end };
      });
    });
  }

  async settle(refund: readonly Counted[], reset: readonly string[] = []): Promise<void> {
    const statements = [
      ...refund.map((c) => this.primary.prepare(REFUND).bind(c.key, c.windowStartMs)),
      ...reset.map((key) => this.primary.prepare(RESET).bind(key)),
    ];
    if (statements.length === 0) return;
    await guard("attempts.settle", () => this.primary.batch(statements));
  }

  async purge(nowMs: number): Promise<number> {
    const result = await guard("attempts.purge", () =>
      this.primary.prepare("DELETE FROM login_attempts WHERE window_end <= ?1").bind(nowMs).run(),
    );
    return result.meta.changes;
  }
}
