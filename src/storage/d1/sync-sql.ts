/**
 * The origin sync's statements in D1 (docs/sync.md, "Applying"), which src/storage/d1/sync.ts
 * batches. A delivery is staged as one JSON parameter (STAGE: json_each, one statement
 * whatever its size, within the 100 bound parameters a statement) and applied by set-based
 * statements over the staging table (RECORD_STATEMENTS). Versions decide first (DECIDE), so
 * every later statement touches only the records that apply. A reference the edge lacks
 * makes a row in sync_check, whose CHECK fails the batch: nothing is written.
 */
import { DISPLACED_NAME_SQL, type Kind, type SyncRecord } from "../../sync/records";

export const STAGE = `INSERT INTO sync_staging (kind, key, idx, version, deleted, password_changed, username, password,
    is_active, name, user_id, org_key, active, provider, uid, login, simplejwt_id, claims)
  SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
    json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'),
    json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]'),
    json_extract(value, '$[9]'), json_extract(value, '$[10]'), json_extract(value, '$[11]'),
    json_extract(value, '$[12]'), json_extract(value, '$[13]'), json_extract(value, '$[14]'),
    json_extract(value, '$[15]'), json_extract(value, '$[16]'), json_extract(value, '$[17]')
  FROM json_each(?1)`;

/** ?1: 1 for a full run's records, which apply at a version equal to the kept one too. */
const DECIDE = `UPDATE sync_staging SET applies = (
    SELECT CASE WHEN v.version IS NULL OR sync_staging.version > v.version
      OR (?1 = 1 AND sync_staging.version >= v.version) THEN 1 ELSE 0 END
    FROM (SELECT max(version) AS version FROM sync_version
      WHERE sync_version.kind = sync_staging.kind AND sync_version.key = sync_staging.key) AS v)`;

const APPLYING = (kind: string, deleted: 0 | 1) =>
  `SELECT * FROM sync_staging WHERE kind = '${kind}' AND applies = 1 AND deleted = ${deleted}`;

/**
 * A user's key is the origin's integer id, which is its row's id here, or the origin's UUID
 * primary key (hyphenated: records.ts keyOf), kept in users_user.origin_key beside an id the
 * edge gives. Each staged user's row, found before anything is written or deleted: NULL for a
 * UUID the edge has no row for yet, until NUMBER_NEW_USERS gives it an id. One edge serves one
 * origin: an integer key whose id a UUID-keyed user holds here (a D1 that served another
 * origin) is 0, which sync_staging's CHECK refuses, failing the batch rather than overwrite
 * that user.
 */
const USER_ORIGIN_KEY = "CASE WHEN key GLOB '*-*' THEN key END";
const FIND_USERS = `UPDATE sync_staging SET row_id = CASE
    WHEN key GLOB '*-*' THEN (SELECT id FROM users_user WHERE origin_key = sync_staging.key)
    WHEN EXISTS (SELECT 1 FROM users_user WHERE id = CAST(sync_staging.key AS INTEGER) AND origin_key IS NOT NULL) THEN 0
    ELSE CAST(key AS INTEGER) END
  WHERE kind = 'user' AND applies = 1`;

/**
 * New UUID-keyed users' ids, in the delivery's order, after the highest ever given
 * (users_user_ids) or held: never a deleted user's (users_user.id has no AUTOINCREMENT).
 */
const NUMBER_NEW_USERS = `UPDATE sync_staging SET row_id = n.id FROM (
    SELECT s.key AS key, row_number() OVER (ORDER BY s.idx) + max(
      coalesce((SELECT last_id FROM users_user_ids), 0), coalesce((SELECT max(id) FROM users_user), 0)) AS id
    FROM sync_staging AS s WHERE s.kind = 'user' AND s.applies = 1 AND s.deleted = 0 AND s.row_id IS NULL) AS n
  WHERE sync_staging.kind = 'user' AND sync_staging.key = n.key`;
const KEEP_LAST_USER_ID = `INSERT INTO users_user_ids (singleton, last_id)
  SELECT 1, max(row_id) FROM sync_staging WHERE kind = 'user' AND applies = 1 AND key GLOB '*-*'
  HAVING max(row_id) IS NOT NULL
  ON CONFLICT (singleton) DO UPDATE SET last_id = max(last_id, excluded.last_id)`;

/** ?1: whether a password change ends sessions. Computed before the users are written. */
const MARK_REVOKED = `UPDATE sync_staging SET revoke = 1
  WHERE kind = 'user' AND applies = 1 AND (
    (?1 = 1 AND deleted = 0 AND password_changed = 1)
    OR EXISTS (SELECT 1 FROM users_user AS u WHERE u.id = sync_staging.row_id
      AND u.is_active = 1 AND (sync_staging.deleted = 1 OR sync_staging.is_active = 0)))`;

// Upserts write only what differs: a full run over an unchanged edge rewrites no row.
// A name the origin gave to another row is taken from whoever holds it here (a swap in one
// delivery, or the holder's own change still on its way): NUL never passes validation.
const DISPLACE_USERS = `UPDATE users_user SET username = ${DISPLACED_NAME_SQL}
  WHERE id IN (SELECT u.id FROM (${APPLYING("user", 0)}) AS s JOIN users_user AS u ON u.username = s.username
    WHERE u.id IS NOT s.row_id)`;

// The same for simplejwt's user id (USER_ID_FIELD): its old holder here is found by no token
// until its own change arrives.
const DISPLACE_SIMPLEJWT_IDS = `UPDATE users_user SET simplejwt_id = NULL
  WHERE id IN (SELECT u.id FROM (${APPLYING("user", 0)}) AS s JOIN users_user AS u ON u.simplejwt_id = s.simplejwt_id
    WHERE u.id IS NOT s.row_id)`;

const UPSERT_USERS = `INSERT INTO users_user (id, origin_key, username, password, is_active, simplejwt_id, claims)
  SELECT row_id, ${USER_ORIGIN_KEY}, username, password, is_active, simplejwt_id, claims FROM (${APPLYING("user", 0)})
  ORDER BY idx
  ON CONFLICT (id) DO UPDATE SET username = excluded.username, password = excluded.password,
    is_active = excluded.is_active, simplejwt_id = excluded.simplejwt_id, claims = excluded.claims
  WHERE username IS NOT excluded.username OR password IS NOT excluded.password OR is_active IS NOT excluded.is_active
    OR simplejwt_id IS NOT excluded.simplejwt_id OR claims IS NOT excluded.claims`;

// Only ever raised: a later end (an admin command) is never moved back.
const END_SESSIONS = `UPDATE users_user SET sessions_revoked_at = max(coalesce(sessions_revoked_at, -1), ?1)
  WHERE id IN (SELECT row_id FROM sync_staging WHERE kind = 'user' AND revoke = 1)`;

const DELETED_USERS = `SELECT row_id FROM (${APPLYING("user", 1)})`;
const DELETED_ORGS = `SELECT id FROM users_orgaccount WHERE django_uuid IN (SELECT key FROM (${APPLYING("organization", 1)}))`;

// As import-django: an organization made here under the same name takes the origin's UUID.
const ADOPT_ORGS = `UPDATE users_orgaccount SET django_uuid = (
    SELECT s.key FROM (${APPLYING("organization", 0)}) AS s WHERE s.name = users_orgaccount.name)
  WHERE django_uuid IS NULL AND name IN (
    SELECT s.name FROM (${APPLYING("organization", 0)}) AS s
    WHERE NOT EXISTS (SELECT 1 FROM users_orgaccount AS o WHERE o.django_uuid = s.key))`;

const DISPLACE_ORGS = `UPDATE users_orgaccount SET name = ${DISPLACED_NAME_SQL}
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

export const SUMMARY = "SELECT count(*) AS total, coalesce(sum(applies), 0) AS applied FROM sync_staging";
// ?1 now (ms): a deleted user's sessions ended now; the others at their column, raised or not.
export const ENDED = `SELECT s.row_id AS id, coalesce(u.sessions_revoked_at, ?1) AS revoked_at
  FROM sync_staging AS s LEFT JOIN users_user AS u ON u.id = s.row_id
  WHERE s.kind = 'user' AND s.revoke = 1 ORDER BY s.idx`;

// Which of the records (?1: JSON [index, kind, key, version] rows) apply, as DECIDE decides
// (?2: 1 for a full run's): for naming the record a failed batch refuses.
export const APPLYING_INDEXES = `SELECT json_extract(r.value, '$[0]') AS idx FROM json_each(?1) AS r
  WHERE NOT EXISTS (SELECT 1 FROM sync_version AS v
    WHERE v.kind = json_extract(r.value, '$[1]') AND v.key = json_extract(r.value, '$[2]')
      AND (v.version > json_extract(r.value, '$[3]') OR (?2 = 0 AND v.version = json_extract(r.value, '$[3]'))))`;

/** Keys seen by the run ?1, of one kind. */
const SEEN = (kind: string) => `SELECT key FROM sync_version WHERE kind = '${kind}' AND seen_run = ?1`;
const UNSEEN_ORGS = `SELECT id FROM users_orgaccount WHERE django_uuid IS NULL OR django_uuid NOT IN (${SEEN("organization")})`;
// A row by the key it is known by: its origin UUID, else its id (an integer key's digits only).
const UNSEEN_USERS = `SELECT id FROM users_user WHERE CASE WHEN origin_key IS NULL
    THEN id NOT IN (SELECT CAST(key AS INTEGER) FROM (${SEEN("user")}) WHERE key NOT GLOB '*-*')
    ELSE origin_key NOT IN (${SEEN("user")}) END`;

// The delivery and the run around its records.
export const RECORD_DELIVERY = "INSERT INTO sync_delivery (id, received_at) VALUES (?1, ?2)";
/** ?1: the oldest receipt kept (s). */
export const FORGET_DELIVERIES = "DELETE FROM sync_delivery WHERE received_at < ?1";
export const BEGIN_RUN = "INSERT OR REPLACE INTO sync_run (singleton, run, started_at) VALUES (1, ?1, ?2)";
/** A page or end of the open run only (?1: the delivery's run). */
export const CHECK_OPEN_RUN = `INSERT INTO sync_check (failed) SELECT 'run' WHERE ${OPEN_RUN} IS NOT ?1`;
export const CLEAR_STAGING = "DELETE FROM sync_staging";
/** ?1 the run, ?2 a kind, ?3 how many rows of it the run sent. */
export const CHECK_COMPLETE = `INSERT INTO sync_check (failed) SELECT 'incomplete'
  WHERE (SELECT count(*) FROM sync_version WHERE seen_run = ?1 AND kind = ?2) < ?3`;

/**
 * At a run's end (?1 the run), for each kind its counts name (`counted`), in this order: the
 * rows the run did not see, and what hangs on them; `kind` is what each statement removes.
 */
export const UNSEEN_REMOVALS: readonly { counted: Kind; kind: Kind; sql: string }[] = [
  {
    counted: "membership",
    kind: "membership",
    sql: `DELETE FROM users_membership WHERE django_uuid IS NULL OR django_uuid NOT IN (${SEEN("membership")})`,
  },
  {
    counted: "social_account",
    kind: "social_account",
    sql: `DELETE FROM socialaccount_socialaccount WHERE id NOT IN (SELECT CAST(key AS INTEGER) FROM (${SEEN("social_account")}))`,
  },
  { counted: "organization", kind: "membership", sql: `DELETE FROM users_membership WHERE org_id IN (${UNSEEN_ORGS})` },
  { counted: "organization", kind: "organization", sql: `DELETE FROM users_orgaccount WHERE id IN (${UNSEEN_ORGS})` },
  { counted: "user", kind: "membership", sql: `DELETE FROM users_membership WHERE user_id IN (${UNSEEN_USERS})` },
  {
    counted: "user",
    kind: "social_account",
    sql: `DELETE FROM socialaccount_socialaccount WHERE user_id IN (${UNSEEN_USERS})`,
  },
  { counted: "user", kind: "user", sql: `DELETE FROM users_user WHERE id IN (${UNSEEN_USERS})` },
];
export const END_RUN = "DELETE FROM sync_run WHERE singleton = 1";

// The reads after a refused batch.
/** ?1 the delivery id: whether it was applied already, and the open run. */
export const DELIVERY_STATE = `SELECT EXISTS (SELECT 1 FROM sync_delivery WHERE id = ?1) AS duplicate, ${OPEN_RUN} AS open_run`;
/** ?1 the run: how many rows of each kind it saw. */
export const SEEN_COUNTS = "SELECT kind, count(*) AS seen FROM sync_version WHERE seen_run = ?1 GROUP BY kind";
/**
 * ?1 user ids, ?2 organization UUIDs (JSON arrays): those the edge has; ?3 users' integer keys:
 * those whose id a UUID-keyed user holds here (FIND_USERS).
 */
export const PRESENT_REFERENCES = `SELECT
  (SELECT json_group_array(id) FROM users_user WHERE id IN (SELECT value FROM json_each(?1))) AS users,
  (SELECT json_group_array(django_uuid) FROM users_orgaccount WHERE django_uuid IN (SELECT value FROM json_each(?2))) AS orgs,
  (SELECT json_group_array(id) FROM users_user WHERE origin_key IS NOT NULL AND id IN (SELECT value FROM json_each(?3))) AS held`;

/**
 * What a delivery holds: which statements it needs (the others would find nothing to do). A
 * kind, or `uuid_user`: users keyed by UUID (records.ts isUuidUserKey).
 */
export type Holds = (kind: Kind | "uuid_user", deleted: boolean) => boolean;

/**
 * The statements of a delivery's records, each with when it is needed; exported for the
 * test that none scans a table of rows (EXPLAIN QUERY PLAN).
 */
export const RECORD_STATEMENTS: readonly { name: string; sql: string; when: (holds: Holds) => boolean }[] = [
  { name: "DECIDE", sql: DECIDE, when: () => true },
  { name: "FIND_USERS", sql: FIND_USERS, when: (h) => h("user", false) || h("user", true) },
  { name: "NUMBER_NEW_USERS", sql: NUMBER_NEW_USERS, when: (h) => h("uuid_user", false) },
  { name: "KEEP_LAST_USER_ID", sql: KEEP_LAST_USER_ID, when: (h) => h("uuid_user", false) },
  { name: "MARK_REVOKED", sql: MARK_REVOKED, when: (h) => h("user", false) || h("user", true) },
  { name: "DISPLACE_USERS", sql: DISPLACE_USERS, when: (h) => h("user", false) },
  { name: "DISPLACE_SIMPLEJWT_IDS", sql: DISPLACE_SIMPLEJWT_IDS, when: (h) => h("user", false) },
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
export function staged(record: SyncRecord): unknown[] {
  const base = [record.kind, record.key, record.index, record.version, record.deleted ? 1 : 0];
  if (record.deleted) return [...base, 0];
  switch (record.kind) {
    case "user": {
      const { username, password, is_active, simplejwt_id, claims } = record.row;
      return [
        ...base,
        record.passwordChanged ? 1 : 0,
        username,
        password,
        is_active,
        ...[null, null, null, null, null, null, null],
        simplejwt_id,
        claims,
      ];
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
