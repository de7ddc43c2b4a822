/**
 * The origin sync in D1 (docs/sync.md, "Applying"). A delivery is staged as one JSON
 * parameter (json_each: one statement whatever its size, within the 100 bound parameters a
 * statement) and applied by set-based statements over the staging table, all in ONE batch
 * (one transaction): about 25 statements for 1 or 500 records. Versions decide first, so
 * every later statement touches only the records that apply. A reference the edge lacks
 * makes a row in sync_check, whose CHECK fails the batch: nothing is written.
 */
import type { Delivery, Kind, SyncRecord } from "../../sync/records";
import { distinctRecords } from "../../sync/records";
import { unavailable } from "../errors";
import { guard } from "../guard";
import type { ApplyOptions, Removed, SyncOutcome, SyncStore } from "../sync";

export const STAGE = `INSERT INTO sync_staging (kind, key, idx, version, deleted, password_changed, username, password,
    is_active, name, user_id, org_key, active, provider, uid, login)
  SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
    json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'),
    json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'),
    json_extract(value, '$[9]'), json_extract(value, '$[10]'), json_extract(value, '$[11]'),
    json_extract(value, '$[12]'), json_extract(value, '$[13]'), json_extract(value, '$[14]'),
    json_extract(value, '$[15]')
  FROM json_each(?1)`;

/** ?1: 1 for a full run's records, which apply at a version equal to the kept one too. */
const DECIDE = `UPDATE sync_staging SET applies = (
    SELECT CASE WHEN v.version IS NULL OR sync_staging.version > v.version
      OR (?1 = 1 AND sync_staging.version >= v.version) THEN 1 ELSE 0 END
    FROM (SELECT max(version) AS version FROM sync_version
      WHERE sync_version.kind = sync_staging.kind AND sync_version.key = sync_staging.key) AS v)`;

const APPLYING = (kind: string, deleted: 0 | 1) =>
  `SELECT * FROM sync_staging WHERE kind = '${kind}' AND applies = 1 AND deleted = ${deleted}`;

/** ?1: whether a password change ends sessions. Computed before the users are written. */
const MARK_REVOKED = `UPDATE sync_staging SET revoke = 1
  WHERE kind = 'user' AND applies = 1 AND (
    (?1 = 1 AND deleted = 0 AND password_changed = 1)
    OR EXISTS (SELECT 1 FROM users_user AS u WHERE u.id = CAST(sync_staging.key AS INTEGER)
      AND u.is_active = 1 AND (sync_staging.deleted = 1 OR sync_staging.is_active = 0)))`;

// Upserts write only what differs: a full run over an unchanged edge rewrites no row.
// A name the origin gave to another row is taken from whoever holds it here (a swap in one
// delivery, or the holder's own change still on its way): NUL never passes validation.
const DISPLACE_USERS = `UPDATE users_user SET username = char(0) || 'displaced:' || id
  WHERE id IN (SELECT u.id FROM (${APPLYING("user", 0)}) AS s JOIN users_user AS u ON u.username = s.username
    WHERE u.id <> CAST(s.key AS INTEGER))`;

const UPSERT_USERS = `INSERT INTO users_user (id, username, password, is_active)
  SELECT CAST(key AS INTEGER), username, password, is_active FROM (${APPLYING("user", 0)}) ORDER BY idx
  ON CONFLICT (id) DO UPDATE SET username = excluded.username, password = excluded.password,
    is_active = excluded.is_active
  WHERE username IS NOT excluded.username OR password IS NOT excluded.password OR is_active IS NOT excluded.is_active`;

// Only ever raised: a later end (an admin command) is never moved back.
const END_SESSIONS = `UPDATE users_user SET sessions_revoked_at = max(coalesce(sessions_revoked_at, -1), ?1)
  WHERE id IN (SELECT CAST(key AS INTEGER) FROM sync_staging WHERE kind = 'user' AND revoke = 1)`;

const DELETED_USERS = `SELECT CAST(key AS INTEGER) FROM (${APPLYING("user", 1)})`;
const DELETED_ORGS = `SELECT id FROM users_orgaccount WHERE django_uuid IN (SELECT key FROM (${APPLYING("organization", 1)}))`;

// As import-django: an organization made here under the same name takes the origin's UUID.
const ADOPT_ORGS = `UPDATE users_orgaccount SET django_uuid = (
    SELECT s.key FROM (${APPLYING("organization", 0)}) AS s WHERE s.name = users_orgaccount.name)
  WHERE django_uuid IS NULL AND name IN (
    SELECT s.name FROM (${APPLYING("organization", 0)}) AS s
    WHERE NOT EXISTS (SELECT 1 FROM users_orgaccount AS o WHERE o.django_uuid = s.key))`;

const DISPLACE_ORGS = `UPDATE users_orgaccount SET name = char(0) || 'displaced:' || id
  WHERE id IN (SELECT o.id FROM (${APPLYING("organization", 0)}) AS s JOIN users_orgaccount AS o ON o.name = s.name
    WHERE o.django_uuid IS NOT s.key)`;

const UPSERT_ORGS = `INSERT INTO users_orgaccount (name, django_uuid)
  SELECT name, key FROM (${APPLYING("organization", 0)}) ORDER BY idx
  ON CONFLICT (django_uuid) DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name`;

const CHECK_MEMBERSHIP_REFERENCES = `INSERT INTO sync_check (failed)
  SELECT 'reference' FROM (${APPLYING("membership", 0)}) AS s
  WHERE NOT EXISTS (SELECT 1 FROM users_user AS u WHERE u.id = s.user_id)
    OR NOT EXISTS (SELECT 1 FROM users_orgaccount AS o WHERE o.django_uuid = s.org_key)
  LIMIT 1`;

// A membership whose user or organization changed at the origin leaves its old pair.
const MOVE_MEMBERSHIPS = `DELETE FROM users_membership WHERE id IN (
  SELECT m.id FROM (${APPLYING("membership", 0)}) AS s JOIN users_membership AS m ON m.django_uuid = s.key
  LEFT JOIN users_orgaccount AS o ON o.django_uuid = s.org_key
  WHERE m.user_id <> s.user_id OR o.id IS NOT m.org_id)`;

const UPSERT_MEMBERSHIPS = `INSERT INTO users_membership (user_id, org_id, active, django_uuid)
  SELECT s.user_id, o.id, s.active, s.key FROM (${APPLYING("membership", 0)}) AS s
  JOIN users_orgaccount AS o ON o.django_uuid = s.org_key ORDER BY s.idx
  ON CONFLICT (user_id, org_id) DO UPDATE SET active = excluded.active, django_uuid = excluded.django_uuid
  WHERE active IS NOT excluded.active OR django_uuid IS NOT excluded.django_uuid`;

const CHECK_SOCIAL_REFERENCES = `INSERT INTO sync_check (failed)
  SELECT 'reference' FROM (${APPLYING("social_account", 0)}) AS s
  WHERE NOT EXISTS (SELECT 1 FROM users_user AS u WHERE u.id = s.user_id)
  LIMIT 1`;

const DISPLACE_SOCIAL = `DELETE FROM socialaccount_socialaccount WHERE id IN (
  SELECT a.id FROM (${APPLYING("social_account", 0)}) AS s
  JOIN socialaccount_socialaccount AS a ON a.provider = s.provider AND a.uid = s.uid
  WHERE a.id <> CAST(s.key AS INTEGER))`;

const UPSERT_SOCIAL = `INSERT INTO socialaccount_socialaccount (id, user_id, provider, uid, login)
  SELECT CAST(key AS INTEGER), user_id, provider, uid, login FROM (${APPLYING("social_account", 0)}) ORDER BY idx
  ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, provider = excluded.provider, uid = excluded.uid,
    login = excluded.login
  WHERE user_id IS NOT excluded.user_id OR provider IS NOT excluded.provider OR uid IS NOT excluded.uid
    OR login IS NOT excluded.login`;

/** How long a delivery id is kept: 30 days. */
export const DELIVERY_ID_KEPT_SECONDS = 30 * 24 * 3600;

const OPEN_RUN = "(SELECT run FROM sync_run WHERE singleton = 1)";

const KEEP_VERSIONS = `INSERT INTO sync_version (kind, key, version, deleted, seen_run)
  SELECT kind, key, version, deleted, ${OPEN_RUN} FROM sync_staging WHERE applies = 1
  ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
    seen_run = coalesce(excluded.seen_run, seen_run)
  WHERE version IS NOT excluded.version OR deleted IS NOT excluded.deleted
    OR seen_run IS NOT coalesce(excluded.seen_run, seen_run)`;

// Rows a record touched while a run is open are seen by it, stale or not.
const MARK_SEEN = `UPDATE sync_version SET seen_run = ${OPEN_RUN}
  WHERE ${OPEN_RUN} IS NOT NULL AND (kind, key) IN (SELECT kind, key FROM sync_staging WHERE applies = 0)`;

const SUMMARY = "SELECT count(*) AS total, coalesce(sum(applies), 0) AS applied FROM sync_staging";
// ?1 now (ms): a deleted user's sessions ended now; the others at their column, raised or not.
const ENDED = `SELECT CAST(s.key AS INTEGER) AS id, coalesce(u.sessions_revoked_at, ?1) AS revoked_at
  FROM sync_staging AS s LEFT JOIN users_user AS u ON u.id = CAST(s.key AS INTEGER)
  WHERE s.kind = 'user' AND s.revoke = 1 ORDER BY s.idx`;

// Which of the records (?1: JSON [index, kind, key, version] rows) apply, as DECIDE decides
// (?2: 1 for a full run's): for naming the record a failed batch refuses.
const APPLYING_INDEXES = `SELECT json_extract(r.value, '$[0]') AS idx FROM json_each(?1) AS r
  WHERE NOT EXISTS (SELECT 1 FROM sync_version AS v
    WHERE v.kind = json_extract(r.value, '$[1]') AND v.key = json_extract(r.value, '$[2]')
      AND (v.version > json_extract(r.value, '$[3]') OR (?2 = 0 AND v.version = json_extract(r.value, '$[3]'))))`;

/** Keys seen by the run ?1, of one kind. */
const SEEN = (kind: string) => `SELECT key FROM sync_version WHERE kind = '${kind}' AND seen_run = ?1`;
const UNSEEN_ORGS = `SELECT id FROM users_orgaccount WHERE django_uuid IS NULL OR django_uuid NOT IN (${SEEN("organization")})`;
const UNSEEN_USERS = `SELECT id FROM users_user WHERE id NOT IN (SELECT CAST(key AS INTEGER) FROM (${SEEN("user")}))`;

/** What a delivery holds: which statements it needs (the others would find nothing to do). */
type Holds = (kind: string, deleted: boolean) => boolean;

/**
 * The statements of a delivery's records, each with when it is needed; exported for the
 * test that none scans a table of rows (EXPLAIN QUERY PLAN).
 */
export const RECORD_STATEMENTS: readonly { name: string; sql: string; when: (holds: Holds) => boolean }[] = [
  { name: "DECIDE", sql: DECIDE, when: () => true },
  { name: "MARK_REVOKED", sql: MARK_REVOKED, when: (h) => h("user", false) || h("user", true) },
  { name: "DISPLACE_USERS", sql: DISPLACE_USERS, when: (h) => h("user", false) },
  { name: "UPSERT_USERS", sql: UPSERT_USERS, when: (h) => h("user", false) },
  { name: "END_SESSIONS", sql: END_SESSIONS, when: (h) => h("user", false) },
  {
    name: "DELETE_USERS_MEMBERSHIPS",
    sql: `DELETE FROM users_membership WHERE user_id IN (${DELETED_USERS})`,
    when: (h) => h("user", true),
  },
  {
    name: "DELETE_USERS_SOCIAL",
    sql: `DELETE FROM socialaccount_socialaccount WHERE user_id IN (${DELETED_USERS})`,
    when: (h) => h("user", true),
  },
  { name: "DELETE_USERS", sql: `DELETE FROM users_user WHERE id IN (${DELETED_USERS})`, when: (h) => h("user", true) },
  { name: "ADOPT_ORGS", sql: ADOPT_ORGS, when: (h) => h("organization", false) },
  { name: "DISPLACE_ORGS", sql: DISPLACE_ORGS, when: (h) => h("organization", false) },
  { name: "UPSERT_ORGS", sql: UPSERT_ORGS, when: (h) => h("organization", false) },
  {
    name: "DELETE_ORGS_MEMBERSHIPS",
    sql: `DELETE FROM users_membership WHERE org_id IN (${DELETED_ORGS})`,
    when: (h) => h("organization", true),
  },
  {
    name: "DELETE_ORGS",
    sql: `DELETE FROM users_orgaccount WHERE id IN (${DELETED_ORGS})`,
    when: (h) => h("organization", true),
  },
  { name: "CHECK_MEMBERSHIP_REFERENCES", sql: CHECK_MEMBERSHIP_REFERENCES, when: (h) => h("membership", false) },
  { name: "MOVE_MEMBERSHIPS", sql: MOVE_MEMBERSHIPS, when: (h) => h("membership", false) },
  { name: "UPSERT_MEMBERSHIPS", sql: UPSERT_MEMBERSHIPS, when: (h) => h("membership", false) },
  {
    name: "DELETE_MEMBERSHIPS",
    sql: `DELETE FROM users_membership WHERE django_uuid IN (SELECT key FROM (${APPLYING("membership", 1)}))`,
    when: (h) => h("membership", true),
  },
  { name: "CHECK_SOCIAL_REFERENCES", sql: CHECK_SOCIAL_REFERENCES, when: (h) => h("social_account", false) },
  { name: "DISPLACE_SOCIAL", sql: DISPLACE_SOCIAL, when: (h) => h("social_account", false) },
  { name: "UPSERT_SOCIAL", sql: UPSERT_SOCIAL, when: (h) => h("social_account", false) },
  {
    name: "DELETE_SOCIAL",
    sql: `DELETE FROM socialaccount_socialaccount WHERE id IN (SELECT CAST(key AS INTEGER) FROM (${APPLYING("social_account", 1)}))`,
    when: (h) => h("social_account", true),
  },
  { name: "KEEP_VERSIONS", sql: KEEP_VERSIONS, when: () => true },
  { name: "MARK_SEEN", sql: MARK_SEEN, when: () => true },
];

/** A record as the staging statement's JSON row. */
function staged(record: SyncRecord): unknown[] {
  const base = [record.kind, record.key, record.index, record.version, record.deleted ? 1 : 0];
  if (record.deleted) return [...base, 0];
  switch (record.kind) {
    case "user": {
      const { username, password, is_active } = record.row;
      return [...base, record.passwordChanged ? 1 : 0, username, password, is_active];
    }
    case "organization":
      return [...base, 0, null, null, null, record.row.name];
    case "membership": {
      const { user_id, org_uuid, active } = record.row;
      return [...base, 0, null, null, null, null, user_id, org_uuid, active];
    }
    case "social_account": {
      const { user_id, provider, uid, login } = record.row;
      return [...base, 0, null, null, null, null, user_id, null, null, provider, uid, login];
    }
  }
}

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
      db.prepare("INSERT INTO sync_delivery (id, received_at) VALUES (?1, ?2)").bind(options.id, nowSeconds),
      // Ids older than the origin retries for: a replay that late is stale by its versions anyway.
      db.prepare("DELETE FROM sync_delivery WHERE received_at < ?1").bind(nowSeconds - DELIVERY_ID_KEPT_SECONDS),
    ];
    if (full?.phase === "begin") {
      statements.push(
        db
          .prepare("INSERT OR REPLACE INTO sync_run (singleton, run, started_at) VALUES (1, ?1, ?2)")
          .bind(full.run, nowSeconds),
      );
    } else if (full !== undefined) {
      // A page or end of the open run only.
      statements.push(
        db.prepare(`INSERT INTO sync_check (failed) SELECT 'run' WHERE ${OPEN_RUN} IS NOT ?1`).bind(full.run),
      );
    }
    const present = new Set(records.map((record) => `${record.kind} ${record.deleted}`));
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
    statements.push(db.prepare(SUMMARY), db.prepare(ENDED).bind(options.nowMs), db.prepare("DELETE FROM sync_staging"));
    // At a run's end: the kinds its counts name, once the run saw as many rows of each as it sent.
    const removals: { kind: Kind; at: number }[] = [];
    if (full?.phase === "end") {
      const run = full.run;
      const counts = full.counts ?? {};
      const remove = (kind: Kind, sql: string) => {
        removals.push({ kind, at: statements.length });
        statements.push(db.prepare(sql).bind(run));
      };
      for (const [kind, sent] of Object.entries(counts)) {
        statements.push(
          db
            .prepare(`INSERT INTO sync_check (failed) SELECT 'incomplete'
              WHERE (SELECT count(*) FROM sync_version WHERE seen_run = ?1 AND kind = ?2) < ?3`)
            .bind(run, kind, sent),
        );
      }
      if (counts.membership !== undefined) {
        remove(
          "membership",
          `DELETE FROM users_membership WHERE django_uuid IS NULL OR django_uuid NOT IN (${SEEN("membership")})`,
        );
      }
      if (counts.social_account !== undefined) {
        remove(
          "social_account",
          `DELETE FROM socialaccount_socialaccount WHERE id NOT IN (SELECT CAST(key AS INTEGER) FROM (${SEEN("social_account")}))`,
        );
      }
      if (counts.organization !== undefined) {
        remove("membership", `DELETE FROM users_membership WHERE org_id IN (${UNSEEN_ORGS})`);
        remove("organization", `DELETE FROM users_orgaccount WHERE id IN (${UNSEEN_ORGS})`);
      }
      if (counts.user !== undefined) {
        remove("membership", `DELETE FROM users_membership WHERE user_id IN (${UNSEEN_USERS})`);
        remove("social_account", `DELETE FROM socialaccount_socialaccount WHERE user_id IN (${UNSEEN_USERS})`);
        remove("user", `DELETE FROM users_user WHERE id IN (${UNSEEN_USERS})`);
      }
      statements.push(db.prepare("DELETE FROM sync_run WHERE singleton = 1"));
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
        .prepare(`SELECT EXISTS (SELECT 1 FROM sync_delivery WHERE id = ?1) AS duplicate, ${OPEN_RUN} AS open_run`)
        .bind(id)
        .first<{ duplicate: number; open_run: string | null }>();
      return { duplicate: row?.duplicate === 1, openRun: row?.open_run ?? undefined };
    });
  }

  /** Why a batch failed: a check of ours (answered as such) or D1 itself (StorageUnavailable). */
  private async refused(error: unknown, delivery: Delivery, options: ApplyOptions): Promise<SyncOutcome> {
    const message = String(error);
    if (/CHECK constraint failed: failed = ''/i.test(message) || /sync_check/.test(message)) {
      const after = await this.state(options.id);
      const { full } = delivery;
      if (full !== undefined && full.phase !== "begin" && after.openRun !== full.run) {
        return { kind: "not_open_run", open: after.openRun };
      }
      if (full?.phase === "end") {
        const short = await this.incomplete(full.run, full.counts ?? {});
        if (short !== undefined) return short;
      }
      return { kind: "missing_reference", record: (await this.diagnose(delivery)).missing };
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
      const { results } = await this.db
        .prepare("SELECT kind, count(*) AS seen FROM sync_version WHERE seen_run = ?1 GROUP BY kind")
        .bind(run)
        .all<{ kind: Kind; seen: number }>();
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
      for (const record of records) {
        if (record.deleted) continue;
        if (record.kind === "membership") {
          users.add(record.row.user_id);
          orgs.add(record.row.org_uuid);
        } else if (record.kind === "social_account") users.add(record.row.user_id);
      }
      const [present, applying] = await this.db.batch([
        this.db
          .prepare(`SELECT
            (SELECT json_group_array(id) FROM users_user WHERE id IN (SELECT value FROM json_each(?1))) AS users,
            (SELECT json_group_array(django_uuid) FROM users_orgaccount WHERE django_uuid IN (SELECT value FROM json_each(?2))) AS orgs`)
          .bind(JSON.stringify([...users]), JSON.stringify([...orgs])),
        this.db
          .prepare(APPLYING_INDEXES)
          .bind(JSON.stringify(records.map((r) => [r.index, r.kind, r.key, r.version])), delivery.full ? 1 : 0),
      ]);
      const row = present?.results[0] as { users: string; orgs: string } | undefined;
      const applies = new Set(((applying?.results ?? []) as { idx: number }[]).map((r) => r.idx));
      return diagnosis(
        records.filter((record) => applies.has(record.index)),
        new Set<number>(JSON.parse(row?.users ?? "[]")),
        new Set<string>(JSON.parse(row?.orgs ?? "[]")),
      );
    });
  }
}

interface Diagnosis {
  missing: SyncRecord | undefined;
  conflict: { record: SyncRecord; detail: string } | undefined;
}

/** The diagnosis over the records that apply (in the delivery's order) and the rows here now. */
function diagnosis(applying: readonly SyncRecord[], haveUsers: Set<number>, haveOrgs: Set<string>): Diagnosis {
  for (const record of applying) {
    if (record.kind === "user")
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
    const unique =
      record.kind === "user"
        ? ["username", record.row.username]
        : record.kind === "organization"
          ? ["name", record.row.name]
          : record.kind === "social_account"
            ? ["provider and uid", `${record.row.provider}\u0000${record.row.uid}`]
            : undefined;
    if (unique === undefined) continue;
    const id = `${record.kind} ${unique[0]} ${unique[1]}`;
    const other = held.get(id);
    if (other !== undefined) {
      conflict = {
        record,
        detail: `${record.kind} ${unique[0]} already held by record ${other.index} of this delivery`,
      };
      break;
    }
    held.set(id, record);
  }
  return { missing, conflict };
}
