/**
 * The origin sync in D1 (docs/sync.md, "Applying"): a delivery's statements (./sync-sql.ts)
 * all in ONE batch (one transaction), about 25 statements for 1 or 500 records; a refused
 * batch read back to say why (a check of ours, or D1 itself: StorageUnavailable).
 */
import type { Delivery, Kind, SyncRecord } from "../../sync/records";
import { distinctRecords, isUuidUserKey } from "../../sync/records";
import { unavailable } from "../errors";
import { guard } from "../guard";
import type { ApplyOptions, Removed, SyncOutcome, SyncStore } from "../sync";
import {
  APPLYING_INDEXES,
  BEGIN_RUN,
  CHECK_COMPLETE,
  CHECK_OPEN_RUN,
  CLEAR_STAGING,
  DELIVERY_STATE,
  END_RUN,
  ENDED,
  FORGET_DELIVERIES,
  type Holds,
  PRESENT_REFERENCES,
  RECORD_DELIVERY,
  RECORD_STATEMENTS,
  SEEN_COUNTS,
  STAGE,
  SUMMARY,
  staged,
  UNSEEN_REMOVALS,
} from "./sync-sql";

/** How long a delivery id is kept: 30 days. */
export const DELIVERY_ID_KEPT_SECONDS = 30 * 24 * 3600;

export class D1SyncStore implements SyncStore {
  constructor(private readonly db: D1Database) {}

  async apply(delivery: Delivery, options: ApplyOptions): Promise<SyncOutcome> {
    // One round trip: a replayed id fails the batch on sync_delivery's key, a run not open on
    // sync_check; only then does a read tell which (`refused`).
    const { full } = delivery;
    const records = distinctRecords(delivery.records);
    const db = this.db;
    const nowSeconds = Math.floor(options.nowMs / 1000);
    const statements: D1PreparedStatement[] = [
      db.prepare(RECORD_DELIVERY).bind(options.id, nowSeconds),
      // Ids older than the origin retries for: a replay that late is stale by its versions anyway.
      db.prepare(FORGET_DELIVERIES).bind(nowSeconds - DELIVERY_ID_KEPT_SECONDS),
    ];
    if (full?.phase === "begin") {
      statements.push(db.prepare(BEGIN_RUN).bind(full.run, nowSeconds));
    } else if (full !== undefined) {
      statements.push(db.prepare(CHECK_OPEN_RUN).bind(full.run));
    }
    const present = new Set(
      records.flatMap((record) => [
        `${record.kind} ${record.deleted}`,
        ...(record.kind === "user" && isUuidUserKey(record.key) ? [`uuid_user ${record.deleted}`] : []),
      ]),
    );
    const holds: Holds = (kind, deleted) => present.has(`${kind} ${deleted}`);
    if (records.length > 0) {
      statements.push(
        db.prepare(STAGE).bind(JSON.stringify(records.map(staged))),
        ...RECORD_STATEMENTS.filter(({ when }) => when(holds)).map(({ name, sql }) => {
          const statement = db.prepare(sql);
          if (name === "DECIDE") return statement.bind(full === undefined ? 0 : 1);
          if (name === "MARK_REVOKED") return statement.bind(options.revokeOnPasswordChange ? 1 : 0);
          if (name === "END_SESSIONS") return statement.bind(options.nowMs);
          return statement;
        }),
      );
    }
    const summaryAt = statements.length;
    statements.push(db.prepare(SUMMARY), db.prepare(ENDED).bind(options.nowMs), db.prepare(CLEAR_STAGING));
    // At a run's end: the kinds its counts name, once the run saw as many rows of each as it sent.
    const removals: { kind: Kind; at: number }[] = [];
    if (full?.phase === "end") {
      const run = full.run;
      const counts = full.counts ?? {};
      for (const [kind, sent] of Object.entries(counts)) {
        statements.push(db.prepare(CHECK_COMPLETE).bind(run, kind, sent));
      }
      for (const { counted, kind, sql } of UNSEEN_REMOVALS) {
        if (counts[counted] === undefined) continue;
        removals.push({ kind, at: statements.length });
        statements.push(db.prepare(sql).bind(run));
      }
      statements.push(db.prepare(END_RUN));
    }

    let results: D1Result[];
    try {
      results = await db.batch(statements);
    } catch (error) {
      return this.refused(error, delivery, options);
    }
    const summary = results[summaryAt]!.results[0] as { total: number; applied: number };
    const ended = (results[summaryAt + 1]!.results as { id: number; revoked_at: number }[]).map((row) => ({
      id: row.id,
      revokedAtMs: row.revoked_at,
    }));
    const outcome: SyncOutcome = {
      kind: "applied",
      applied: summary.applied,
      stale: summary.total - summary.applied,
      endedSessions: ended,
    };
    if (full?.phase === "end") {
      const removed: Removed = { user: 0, organization: 0, membership: 0, social_account: 0 };
      for (const { kind, at } of removals) removed[kind] += results[at]!.meta.changes ?? 0;
      outcome.removed = removed;
    }
    return outcome;
  }

  private state(id: string): Promise<{ duplicate: boolean; openRun: string | undefined }> {
    return guard("sync.state", async () => {
      const row = await this.db
        .prepare(DELIVERY_STATE)
        .bind(id)
        .first<{ duplicate: number; open_run: string | null }>();
      return { duplicate: row?.duplicate === 1, openRun: row?.open_run ?? undefined };
    });
  }

  /** Why a batch failed: a check of ours (answered as such) or D1 itself (StorageUnavailable). */
  private async refused(error: unknown, delivery: Delivery, options: ApplyOptions): Promise<SyncOutcome> {
    const message = String(error);
    if (/CHECK constraint failed: (failed = ''|row_id)/i.test(message) || /sync_(check|staging)/.test(message)) {
      const after = await this.state(options.id);
      const { full } = delivery;
      if (full !== undefined && full.phase !== "begin" && after.openRun !== full.run) {
        return { kind: "not_open_run", open: after.openRun };
      }
      if (full?.phase === "end") {
        const short = await this.incomplete(full.run, full.counts ?? {});
        if (short !== undefined) return short;
      }
      const { missing, heldKey } = await this.diagnose(delivery);
      if (heldKey !== undefined) return { kind: "conflict", ...heldKey };
      return { kind: "missing_reference", record: missing };
    }
    if (/UNIQUE constraint failed: sync_delivery\.id/.test(message)) return { kind: "duplicate" };
    if (/UNIQUE constraint failed/.test(message)) {
      const { conflict } = await this.diagnose(delivery);
      return {
        kind: "conflict",
        record: conflict?.record,
        detail: conflict?.detail ?? "records of this delivery conflict with each other",
      };
    }
    throw unavailable("sync.apply", error);
  }

  /** The first kind of which the run saw fewer rows than it sent, if any. */
  private incomplete(run: string, counts: Partial<Record<Kind, number>>): Promise<SyncOutcome | undefined> {
    return guard("sync.incomplete", async () => {
      const { results } = await this.db.prepare(SEEN_COUNTS).bind(run).all<{ kind: Kind; seen: number }>();
      const seen = new Map(results.map((row) => [row.kind, row.seen]));
      for (const [kind, sent] of Object.entries(counts) as [Kind, number][]) {
        const got = seen.get(kind) ?? 0;
        if (got < sent) return { kind: "incomplete_run", rowKind: kind, seen: got, sent };
      }
      return undefined;
    });
  }

  /**
   * Why a delivery's batch failed, from the records that apply (versions decide, as in the
   * batch): the first membership or social account whose user or organization the edge
   * would lack after it, and the first record that would hold a unique value another record
   * of the delivery holds (a username, an organization's name, a provider's uid).
   */
  private diagnose(delivery: Delivery): Promise<Diagnosis> {
    return guard("sync.diagnose", async () => {
      const records = distinctRecords(delivery.records).sort((a, b) => a.index - b.index);
      const users = new Set<number>();
      const orgs = new Set<string>();
      const userKeys: number[] = [];
      for (const record of records) {
        if (record.kind === "user" && !isUuidUserKey(record.key)) userKeys.push(Number(record.key));
        if (record.deleted) continue;
        if (record.kind === "membership") {
          users.add(record.row.user_id);
          orgs.add(record.row.org_uuid);
        } else if (record.kind === "social_account") users.add(record.row.user_id);
      }
      const [present, applying] = await this.db.batch([
        this.db
          .prepare(PRESENT_REFERENCES)
          .bind(JSON.stringify([...users]), JSON.stringify([...orgs]), JSON.stringify(userKeys)),
        this.db
          .prepare(APPLYING_INDEXES)
          .bind(JSON.stringify(records.map((r) => [r.index, r.kind, r.key, r.version])), delivery.full ? 1 : 0),
      ]);
      const row = present?.results[0] as { users: string; orgs: string; held: string } | undefined;
      const applies = new Set(((applying?.results ?? []) as { idx: number }[]).map((r) => r.idx));
      const applied = records.filter((record) => applies.has(record.index));
      const held = new Set<string>((JSON.parse(row?.held ?? "[]") as number[]).map(String));
      const holder = applied.find((record) => record.kind === "user" && held.has(record.key));
      return {
        ...diagnosis(
          applied,
          new Set<number>(JSON.parse(row?.users ?? "[]")),
          new Set<string>(JSON.parse(row?.orgs ?? "[]")),
        ),
        heldKey:
          holder === undefined
            ? undefined
            : {
                record: holder,
                detail: `user ${holder.key}: a user of a UUID-keyed origin holds that id here (one edge serves one origin)`,
              },
      };
    });
  }
}

interface Diagnosis {
  missing: SyncRecord | undefined;
  conflict: { record: SyncRecord; detail: string } | undefined;
  /** A user record whose integer key a UUID-keyed user's id here is (sync-sql.ts FIND_USERS). */
  heldKey?: { record: SyncRecord; detail: string };
}

/** The diagnosis over the records that apply (in the delivery's order) and the rows here now. */
function diagnosis(applying: readonly SyncRecord[], haveUsers: Set<number>, haveOrgs: Set<string>): Diagnosis {
  for (const record of applying) {
    // Memberships and social accounts name users by integer id: a UUID-keyed user is none of them.
    if (record.kind === "user" && !isUuidUserKey(record.key))
      record.deleted ? haveUsers.delete(Number(record.key)) : haveUsers.add(Number(record.key));
    if (record.kind === "organization") record.deleted ? haveOrgs.delete(record.key) : haveOrgs.add(record.key);
  }
  const missing = applying.find(
    (record) =>
      !record.deleted &&
      ((record.kind === "membership" && (!haveUsers.has(record.row.user_id) || !haveOrgs.has(record.row.org_uuid))) ||
        (record.kind === "social_account" && !haveUsers.has(record.row.user_id))),
  );
  const held = new Map<string, SyncRecord>();
  let conflict: Diagnosis["conflict"];
  for (const record of applying) {
    if (record.deleted) continue;
    const uniques: (readonly [string, string | null])[] =
      record.kind === "user"
        ? [
            ["username", record.row.username],
            ["simplejwt_id", record.row.simplejwt_id],
          ]
        : record.kind === "organization"
          ? [["name", record.row.name]]
          : record.kind === "social_account"
            ? [["provider and uid", `${record.row.provider}\u0000${record.row.uid}`]]
            : [];
    for (const [what, value] of uniques) {
      if (value === null) continue;
      const id = `${record.kind} ${what} ${value}`;
      const other = held.get(id);
      if (other !== undefined) {
        conflict = { record, detail: `${record.kind} ${what} already held by record ${other.index} of this delivery` };
        break;
      }
      held.set(id, record);
    }
    if (conflict !== undefined) break;
  }
  return { missing, conflict };
}
