/**
 * The origin sync in D1 (docs/sync.md, "Applying"). A delivery is staged as one JSON
 * parameter (json_each: one statement whatever its size, within the 100 bound parameters a
 * statement) and applied by set-based statements over the staging table, all in ONE batch
 * (one transaction): about 25 statements for 1 or 500 records. Versions decide first, so
 * every later statement touches only the records that apply. A reference the edge lacks
 * makes a row in sync_check, whose CHECK fails the batch: nothing is written.
 */
import { fail } from "../../errors";
import { log } from "../../log";
import type { Delivery, SyncRecord } from "../../sync/records";
import { distinctRecords } from "../../sync/records";
import { guard } from "../guard";
import type { ApplyOptions, Removed, SyncOutcome, SyncStore } from "../sync";

const STAGE = `INSERT INTO sync_staging (kind, key, idx, version, deleted, password_changed, username, password,
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

// A name the origin gave to another row is taken from whoever holds it here (a swap in one
// delivery, or the holder's own change still on its way): NUL never passes validation.
const DISPLACE_USERS = `UPDATE users_user SET username = char(0) || 'displaced:' || id
  WHERE username IN (SELECT s.username FROM (${APPLYING("user", 0)}) AS s
    WHERE CAST(s.key AS INTEGER) <> users_user.id)`;

const UPSERT_USERS = `INSERT INTO users_user (id, username, password, is_active)
  SELECT CAST(key AS INTEGER), username, password, is_active FROM (${APPLYING("user", 0)}) ORDER BY idx
  ON CONFLICT (id) DO UPDATE SET username = excluded.username, password = excluded.password,
    is_active = excluded.is_active`;

const END_SESSIONS = `UPDATE users_user SET sessions_revoked_at = ?1
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
  WHERE name IN (SELECT s.name FROM (${APPLYING("organization", 0)}) AS s
    WHERE s.key IS NOT users_orgaccount.django_uuid)`;

const UPSERT_ORGS = `INSERT INTO users_orgaccount (name, django_uuid)
  SELECT name, key FROM (${APPLYING("organization", 0)}) ORDER BY idx
  ON CONFLICT (django_uuid) DO UPDATE SET name = excluded.name`;

const CHECK_MEMBERSHIP_REFERENCES = `INSERT INTO sync_check (failed)
  SELECT 'reference' FROM (${APPLYING("membership", 0)}) AS s
  WHERE NOT EXISTS (SELECT 1 FROM users_user AS u WHERE u.id = s.user_id)
    OR NOT EXISTS (SELECT 1 FROM users_orgaccount AS o WHERE o.django_uuid = s.org_key)
  LIMIT 1`;

// A membership whose user or organization changed at the origin leaves its old pair.
const MOVE_MEMBERSHIPS = `DELETE FROM users_membership WHERE django_uuid IN (
  SELECT s.key FROM (${APPLYING("membership", 0)}) AS s
  WHERE s.user_id <> users_membership.user_id
    OR s.org_key IS NOT (SELECT o.django_uuid FROM users_orgaccount AS o WHERE o.id = users_membership.org_id))`;

const UPSERT_MEMBERSHIPS = `INSERT INTO users_membership (user_id, org_id, active, django_uuid)
  SELECT s.user_id, o.id, s.active, s.key FROM (${APPLYING("membership", 0)}) AS s
  JOIN users_orgaccount AS o ON o.django_uuid = s.org_key ORDER BY s.idx
  ON CONFLICT (user_id, org_id) DO UPDATE SET active = excluded.active, django_uuid = excluded.django_uuid`;

const CHECK_SOCIAL_REFERENCES = `INSERT INTO sync_check (failed)
  SELECT 'reference' FROM (${APPLYING("social_account", 0)}) AS s
  WHERE NOT EXISTS (SELECT 1 FROM users_user AS u WHERE u.id = s.user_id)
  LIMIT 1`;

const DISPLACE_SOCIAL = `DELETE FROM socialaccount_socialaccount WHERE EXISTS (
  SELECT 1 FROM (${APPLYING("social_account", 0)}) AS s
  WHERE s.provider = socialaccount_socialaccount.provider AND s.uid = socialaccount_socialaccount.uid
    AND CAST(s.key AS INTEGER) <> socialaccount_socialaccount.id)`;

const UPSERT_SOCIAL = `INSERT INTO socialaccount_socialaccount (id, user_id, provider, uid, login)
  SELECT CAST(key AS INTEGER), user_id, provider, uid, login FROM (${APPLYING("social_account", 0)}) ORDER BY idx
  ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, provider = excluded.provider, uid = excluded.uid,
    login = excluded.login`;

const OPEN_RUN = "(SELECT run FROM sync_run WHERE singleton = 1)";

const KEEP_VERSIONS = `INSERT INTO sync_version (kind, key, version, deleted, seen_run)
  SELECT kind, key, version, deleted, ${OPEN_RUN} FROM sync_staging WHERE applies = 1
  ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
    seen_run = coalesce(excluded.seen_run, seen_run)`;

// Rows a record touched while a run is open are seen by it, stale or not.
const MARK_SEEN = `UPDATE sync_version SET seen_run = ${OPEN_RUN}
  WHERE ${OPEN_RUN} IS NOT NULL AND EXISTS (SELECT 1 FROM sync_staging AS s
    WHERE s.kind = sync_version.kind AND s.key = sync_version.key AND s.applies = 0)`;

const SUMMARY = "SELECT count(*) AS total, coalesce(sum(applies), 0) AS applied FROM sync_staging";
const ENDED = "SELECT CAST(key AS INTEGER) AS id FROM sync_staging WHERE revoke = 1 ORDER BY idx";

/** Keys seen by the run ?1, of one kind. */
const SEEN = (kind: string) => `SELECT key FROM sync_version WHERE kind = '${kind}' AND seen_run = ?1`;
const UNSEEN_ORGS = `SELECT id FROM users_orgaccount WHERE django_uuid IS NULL OR django_uuid NOT IN (${SEEN("organization")})`;
const UNSEEN_USERS = `SELECT id FROM users_user WHERE id NOT IN (SELECT CAST(key AS INTEGER) FROM (${SEEN("user")}))`;

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
    const before = await this.state(options.id);
    if (before.duplicate) return { kind: "duplicate" };
    const { full } = delivery;
    if (full !== undefined && full.phase !== "begin" && before.openRun !== full.run) {
      return { kind: "not_open_run", open: before.openRun };
    }
    const records = distinctRecords(delivery.records);
    const db = this.db;
    const statements: D1PreparedStatement[] = [
      db.prepare("INSERT INTO sync_delivery (id, received_at) VALUES (?1, ?2)").bind(options.id, options.nowSeconds),
    ];
    if (full?.phase === "begin") {
      statements.push(
        db
          .prepare("INSERT OR REPLACE INTO sync_run (singleton, run, started_at) VALUES (1, ?1, ?2)")
          .bind(full.run, options.nowSeconds),
      );
    } else if (full !== undefined) {
      // The pre-read saw the run open; this keeps it so against a concurrent begin.
      statements.push(
        db.prepare(`INSERT INTO sync_check (failed) SELECT 'run' WHERE ${OPEN_RUN} IS NOT ?1`).bind(full.run),
      );
    }
    const recordsFrom = statements.length;
    if (records.length > 0) {
      statements.push(
        db.prepare(STAGE).bind(JSON.stringify(records.map(staged))),
        db.prepare(DECIDE).bind(full === undefined ? 0 : 1),
        db.prepare(MARK_REVOKED).bind(options.revokeOnPasswordChange ? 1 : 0),
        db.prepare(DISPLACE_USERS),
        db.prepare(UPSERT_USERS),
        db.prepare(END_SESSIONS).bind(options.nowSeconds),
        db.prepare(`DELETE FROM users_membership WHERE user_id IN (${DELETED_USERS})`),
        db.prepare(`DELETE FROM socialaccount_socialaccount WHERE user_id IN (${DELETED_USERS})`),
        db.prepare(`DELETE FROM users_user WHERE id IN (${DELETED_USERS})`),
        db.prepare(ADOPT_ORGS),
        db.prepare(DISPLACE_ORGS),
        db.prepare(UPSERT_ORGS),
        db.prepare(`DELETE FROM users_membership WHERE org_id IN (${DELETED_ORGS})`),
        db.prepare(`DELETE FROM users_orgaccount WHERE id IN (${DELETED_ORGS})`),
        db.prepare(CHECK_MEMBERSHIP_REFERENCES),
        db.prepare(MOVE_MEMBERSHIPS),
        db.prepare(UPSERT_MEMBERSHIPS),
        db.prepare(
          `DELETE FROM users_membership WHERE django_uuid IN (SELECT key FROM (${APPLYING("membership", 1)}))`,
        ),
        db.prepare(CHECK_SOCIAL_REFERENCES),
        db.prepare(DISPLACE_SOCIAL),
        db.prepare(UPSERT_SOCIAL),
        db.prepare(
          `DELETE FROM socialaccount_socialaccount WHERE id IN (SELECT CAST(key AS INTEGER) FROM (${APPLYING("social_account", 1)}))`,
        ),
        db.prepare(KEEP_VERSIONS),
        db.prepare(MARK_SEEN),
      );
    }
    const summaryAt = statements.length;
    statements.push(db.prepare(SUMMARY), db.prepare(ENDED), db.prepare("DELETE FROM sync_staging"));
    const removalAt = statements.length;
    if (full?.phase === "end") {
      const run = full.run;
      statements.push(
        // Memberships and social accounts first, theirs or their user's or organization's.
        db
          .prepare(`DELETE FROM users_membership WHERE django_uuid IS NULL OR django_uuid NOT IN (${SEEN("membership")})
          OR org_id IN (${UNSEEN_ORGS}) OR user_id IN (${UNSEEN_USERS})`)
          .bind(run),
        db
          .prepare(`DELETE FROM socialaccount_socialaccount
          WHERE id NOT IN (SELECT CAST(key AS INTEGER) FROM (${SEEN("social_account")})) OR user_id IN (${UNSEEN_USERS})`)
          .bind(run),
        db.prepare(`DELETE FROM users_orgaccount WHERE id IN (${UNSEEN_ORGS})`).bind(run),
        db.prepare(`DELETE FROM users_user WHERE id IN (${UNSEEN_USERS})`).bind(run),
        db.prepare("DELETE FROM sync_run WHERE singleton = 1"),
      );
    }

    let results: D1Result[];
    try {
      results = await db.batch(statements);
    } catch (error) {
      return this.refused(error, delivery, options, recordsFrom);
    }
    const summary = results[summaryAt]!.results[0] as { total: number; applied: number };
    const ended = (results[summaryAt + 1]!.results as { id: number }[]).map((row) => row.id);
    const outcome: SyncOutcome = {
      kind: "applied",
      applied: summary.applied,
      stale: summary.total - summary.applied,
      endedSessions: ended,
    };
    if (full?.phase === "end") {
      const changes = (i: number) => results[removalAt + i]!.meta.changes ?? 0;
      const removed: Removed = {
        membership: changes(0),
        social_account: changes(1),
        organization: changes(2),
        user: changes(3),
      };
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

  /** Why a batch failed: a check of ours (answered as such) or D1 itself (503). */
  private async refused(
    error: unknown,
    delivery: Delivery,
    options: ApplyOptions,
    _from: number,
  ): Promise<SyncOutcome> {
    const message = String(error);
    if (/CHECK constraint failed: failed = ''/i.test(message) || /sync_check/.test(message)) {
      const after = await this.state(options.id);
      const { full } = delivery;
      if (full !== undefined && full.phase !== "begin" && after.openRun !== full.run) {
        return { kind: "not_open_run", open: after.openRun };
      }
      return { kind: "missing_reference", record: await this.missingReference(delivery) };
    }
    if (/UNIQUE constraint failed: sync_delivery\.id/.test(message)) return { kind: "duplicate" };
    log("error", "storage_error", { operation: "sync.apply", error: message });
    throw fail({ kind: "storage_unavailable", retryAfter: 1 }, error);
  }

  /**
   * The first membership or social account whose user or organization the edge would lack
   * after the delivery: the rows here now, with the delivery's upserts added and deletes taken away.
   */
  private missingReference(delivery: Delivery): Promise<SyncRecord | undefined> {
    return guard("sync.references", async () => {
      const users = new Set<number>();
      const orgs = new Set<string>();
      for (const record of delivery.records) {
        if (record.deleted) continue;
        if (record.kind === "membership") {
          users.add(record.row.user_id);
          orgs.add(record.row.org_uuid);
        } else if (record.kind === "social_account") users.add(record.row.user_id);
      }
      const row = await this.db
        .prepare(`SELECT
            (SELECT json_group_array(id) FROM users_user WHERE id IN (SELECT value FROM json_each(?1))) AS users,
            (SELECT json_group_array(django_uuid) FROM users_orgaccount WHERE django_uuid IN (SELECT value FROM json_each(?2))) AS orgs`)
        .bind(JSON.stringify([...users]), JSON.stringify([...orgs]))
        .first<{ users: string; orgs: string }>();
      const haveUsers = new Set<number>(JSON.parse(row?.users ?? "[]"));
      const haveOrgs = new Set<string>(JSON.parse(row?.orgs ?? "[]"));
      const last = new Map<string, SyncRecord>();
      for (const record of distinctRecords(delivery.records)) last.set(`${record.kind} ${record.key}`, record);
      for (const record of last.values()) {
        if (record.kind === "user")
          record.deleted ? haveUsers.delete(Number(record.key)) : haveUsers.add(Number(record.key));
        if (record.kind === "organization") record.deleted ? haveOrgs.delete(record.key) : haveOrgs.add(record.key);
      }
      return delivery.records.find(
        (record) =>
          !record.deleted &&
          ((record.kind === "membership" &&
            (!haveUsers.has(record.row.user_id) || !haveOrgs.has(record.row.org_uuid))) ||
            (record.kind === "social_account" && !haveUsers.has(record.row.user_id))),
      );
    });
  }
}
