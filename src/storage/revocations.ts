/**
 * The blacklist of refresh tokens, consulted in one place by refresh and logout.
 *
 * Two tiers. D1's `token_ledger` is the truth: its primary key on jti makes consumption
 * exactly-once, whatever the concurrency or location (the conditional insert that changes
 * a row is the one winner). KV is the edge copy, with expiration: read first for a fast
 * reject, written after the win; being eventually consistent, it is never trusted to say
 * "not revoked".
 */
import { guard } from "./guard";
import { putQuietly } from "./kv";

export type Revocation =
  | { kind: "rotated"; usedAtMs: number } // redeemed by a refresh at usedAtMs
  | { kind: "logged_out" }
  | { kind: "family_revoked" }; // a consumed token of its family was presented again

export interface LedgerEntry {
  jti: string;
  family: string;
  /** When the token is used: the successor pair's issue time for a rotation. */
  usedAtMs: number;
  /** The token's own exp (seconds): neither KV nor the ledger need remember it longer. */
  expiresAt: number;
}

export type Outcome = { won: true } | { won: false; revocation: Revocation };

export interface Revocations {
  /** What is known of this token: KV first, then the ledger (maybe on a replica). */
  lookup(jti: string, family: string): Promise<Revocation | undefined>;
  /** Redeem a refresh token exactly once: one caller wins, every other learns why not. */
  consume(entry: LedgerEntry): Promise<Outcome>;
  /** Blacklist a token by logout, with the same exactly-once answer. */
  logout(entry: LedgerEntry): Promise<Outcome>;
  /** Stop every refresh token of a family, the newest included; true for the call that did it. */
  revokeFamily(family: string, nowMs: number, expiresAt: number): Promise<boolean>;
  /** Delete ledger and family rows whose tokens have all expired. */
  purgeExpired(nowMs: number): Promise<{ tokens: number; families: number }>;
}

/** Where work that must not delay or fail the response goes (ExecutionContext.waitUntil). */
export type Background = (work: Promise<unknown>) => void;

const PURGE_SLICE_ROWS = 5000;
const PURGE_SLICES = 20; // 100000 rows an hour at most; the next run takes the rest

/** A ledger row, and the KV copy of it under `jti:<jti>`. */
interface LedgerRow {
  reason: "rotated" | "logout";
  used_at: number; // unix milliseconds
}

function fromLedger(row: LedgerRow): Revocation {
  return row.reason === "rotated" ? { kind: "rotated", usedAtMs: row.used_at } : { kind: "logged_out" };
}

// Insert unless the jti is already there or its family was revoked; the `changes` count
// (1 or 0) names the single winner. The reads after it, in the same batch (one transaction,
// one round trip), tell a loser why it lost.
const CONSUME = `
  INSERT INTO token_ledger (jti, family, reason, used_at, expires_at)
  SELECT ?1, ?2, ?3, ?4, ?5
  WHERE NOT EXISTS (SELECT 1 FROM token_family_revocation WHERE family = ?2)
  ON CONFLICT (jti) DO NOTHING`;
const LEDGER_ROW = "SELECT reason, used_at FROM token_ledger WHERE jti = ?1";
const FAMILY_REVOKED = "SELECT 1 AS revoked FROM token_family_revocation WHERE family = ?1";
const LOOKUP = `
  SELECT
    (SELECT 1 FROM token_family_revocation WHERE family = ?2) AS family_revoked,
    l.reason, l.used_at
  FROM (SELECT 1) LEFT JOIN token_ledger AS l ON l.jti = ?1`;

export class D1KvRevocations implements Revocations {
  constructor(
    private readonly primary: D1Database,
    private readonly reader: D1Database | D1DatabaseSession,
    private readonly kv: KVNamespace,
    private readonly background: Background,
  ) {}

  async lookup(jti: string, family: string): Promise<Revocation | undefined> {
    const [token, familyEntry] = await guard("revocations.lookup.kv", () =>
      Promise.all([this.kv.get<LedgerRow>(`jti:${jti}`, "json"), this.kv.get(`family:${family}`)]),
    );
    if (familyEntry !== null) return { kind: "family_revoked" };
    if (token !== null) return fromLedger(token);
    const row = await guard("revocations.lookup.d1", () =>
      this.reader
        .prepare(LOOKUP)
        .bind(jti, family)
        .first<{ family_revoked: number | null; reason: LedgerRow["reason"] | null; used_at: number | null }>(),
    );
    if (row?.family_revoked) return { kind: "family_revoked" };
    if (row?.reason && row.used_at !== null) return fromLedger({ reason: row.reason, used_at: row.used_at });
    return undefined;
  }

  consume(entry: LedgerEntry): Promise<Outcome> {
    return this.record(entry, "rotated");
  }

  logout(entry: LedgerEntry): Promise<Outcome> {
    return this.record(entry, "logout");
  }

  private async record(entry: LedgerEntry, reason: LedgerRow["reason"]): Promise<Outcome> {
    let results: D1Result[];
    try {
      results = await this.primary.batch([
        this.primary.prepare(CONSUME).bind(entry.jti, entry.family, reason, entry.usedAtMs, entry.expiresAt),
        this.primary.prepare(LEDGER_ROW).bind(entry.jti),
        this.primary.prepare(FAMILY_REVOKED).bind(entry.family),
      ]);
    } catch (error) {
      // A batch can commit and still fail on the way back (a timeout, a lost connection).
      // Answering 503 then would strand the client: its retry would look like reuse.
      if (await this.committed(entry, reason)) return this.won(entry, reason);
      return guard(`revocations.${reason}`, () => Promise.reject(error));
    }
    const [insert, ledger, family] = results;
    if (insert?.meta.changes === 1) return this.won(entry, reason);
    if (family?.results.length) return { won: false, revocation: { kind: "family_revoked" } };
    const row = ledger?.results[0] as LedgerRow | undefined;
    if (row === undefined) throw new Error("ledger insert changed nothing and found nothing");
    return { won: false, revocation: fromLedger(row) };
  }

  /** Whether our own write is in the ledger: the row for this jti, with our reason and time. */
  private async committed(entry: LedgerEntry, reason: LedgerRow["reason"]): Promise<boolean> {
    try {
      const row = await this.primary.prepare(LEDGER_ROW).bind(entry.jti).first<LedgerRow>();
      // A same-millisecond sibling would have signed the identical pair: answering it is no second pair.
      return row !== null && row.reason === reason && row.used_at === entry.usedAtMs;
    } catch {
      return false;
    }
  }

  private won(entry: LedgerEntry, reason: LedgerRow["reason"]): Outcome {
    const value: LedgerRow = { reason, used_at: entry.usedAtMs };
    this.putKv(`jti:${entry.jti}`, JSON.stringify(value), entry.expiresAt, entry.usedAtMs);
    return { won: true };
  }

  async revokeFamily(family: string, nowMs: number, expiresAt: number): Promise<boolean> {
    const result = await guard("revocations.revokeFamily", () =>
      this.primary
        .prepare(
          `INSERT INTO token_family_revocation (family, revoked_at, expires_at) VALUES (?1, ?2, ?3)
           ON CONFLICT (family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)
           WHERE excluded.expires_at > expires_at`,
        )
        .bind(family, nowMs, expiresAt)
        .run(),
    );
    // Of many concurrent replays, only the one that wrote the row writes KV (1 write/s per key).
    if (result.meta.changes === 0) return false;
    this.putKv(`family:${family}`, String(nowMs), expiresAt, nowMs);
    return true;
  }

  async purgeExpired(nowMs: number): Promise<{ tokens: number; families: number }> {
    const nowSeconds = Math.floor(nowMs / 1000);
    const removed = { tokens: 0, families: 0 };
    // In slices, so no single statement runs into D1's per-query limits; bounded per run.
    for (let slice = 0; slice < PURGE_SLICES; slice++) {
      const [tokens, families] = await guard("revocations.purgeExpired", () =>
        this.primary.batch([
          this.primary
            .prepare(`DELETE FROM token_ledger WHERE jti IN
                        (SELECT jti FROM token_ledger WHERE expires_at < ?1 LIMIT ${PURGE_SLICE_ROWS})`)
            .bind(nowSeconds),
          this.primary
            .prepare(`DELETE FROM token_family_revocation WHERE family IN
                        (SELECT family FROM token_family_revocation WHERE expires_at < ?1 LIMIT ${PURGE_SLICE_ROWS})`)
            .bind(nowSeconds),
        ]),
      );
      removed.tokens += tokens?.meta.changes ?? 0;
      removed.families += families?.meta.changes ?? 0;
      if ((tokens?.meta.changes ?? 0) < PURGE_SLICE_ROWS && (families?.meta.changes ?? 0) < PURGE_SLICE_ROWS) break;
    }
    return removed;
  }

  /** The KV copy: after the D1 write, off the response path; a failure only costs speed. */
  private putKv(key: string, value: string, expiresAt: number, nowMs: number): void {
    this.background(putQuietly(this.kv, key, value, expiresAt - nowMs / 1000));
  }
}
