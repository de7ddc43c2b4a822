-- org-token-edge schema: the whole current schema, equal to migrations/ applied in order
-- (test/node/migrations.test.ts checks). Idempotent: apply it as often as you like.
-- Changes go into a new migrations/NNNN_*.sql AND here.
-- The first three tables mirror the Django origin's (users_user, users_orgaccount,
-- users_membership) column for column where we use them, so an import is a straight copy.

CREATE TABLE IF NOT EXISTS users_user (
  id          INTEGER PRIMARY KEY,          -- the Django user id (an integer key), else the edge's own (origin_key)
  username    TEXT    NOT NULL UNIQUE,
  password    TEXT,                         -- Django's encoded hash; NULL: no password login
  is_active   INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  first_name  TEXT    NOT NULL DEFAULT '',
  last_name   TEXT    NOT NULL DEFAULT '',
  email       TEXT    NOT NULL DEFAULT '',
  last_login  TEXT,
  date_joined TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  sessions_revoked_at INTEGER,              -- unix ms: tokens issued at or before it are refused (migrations 0005, 0008)
  simplejwt_id TEXT,                        -- the origin's USER_ID_FIELD value when not the primary key, in Django's lookup form (0009)
  claims      TEXT,                         -- JSON {field: value}: the fields the origin's token claims are written from (0009)
  origin_key  TEXT                          -- the origin's UUID primary key (then id is the edge's own); NULL: id is the origin's (0010)
);
CREATE UNIQUE INDEX IF NOT EXISTS users_user_simplejwt_id ON users_user (simplejwt_id);
CREATE UNIQUE INDEX IF NOT EXISTS users_user_origin_key ON users_user (origin_key);

-- The highest id given a UUID-keyed user (0010): never given again, whatever is deleted.
CREATE TABLE IF NOT EXISTS users_user_ids (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  last_id   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS users_orgaccount (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  django_uuid TEXT,                         -- the origin's UUID primary key (migration 0004), NULL if made here
  sessions_revoked_at INTEGER               -- unix ms: tokens of this organization issued at or before it are refused (0005, 0008)
);

CREATE TABLE IF NOT EXISTS users_membership (
  id      INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users_user (id) ON DELETE CASCADE,
  org_id  INTEGER NOT NULL REFERENCES users_orgaccount (id) ON DELETE CASCADE,
  active  INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  django_uuid TEXT,                         -- the origin's UUID primary key (migration 0006), NULL if made here
  UNIQUE (user_id, org_id)
);

-- Every refresh token that was redeemed (rotated) or logged out, by jti. The primary key
-- is what makes redemption exactly-once: of concurrent inserts of one jti, one changes a row.
CREATE TABLE IF NOT EXISTS token_ledger (
  jti        TEXT    PRIMARY KEY,
  family     TEXT    NOT NULL,              -- the login this token descends from
  reason     TEXT    NOT NULL CHECK (reason IN ('rotated', 'logout')),
  used_at    INTEGER NOT NULL,              -- unix milliseconds; the successor pair's issue time
  expires_at INTEGER NOT NULL               -- unix seconds: the token's own exp, after which the row is useless
) WITHOUT ROWID;

-- Token families revoked because a consumed refresh token was presented again.
CREATE TABLE IF NOT EXISTS token_family_revocation (
  family     TEXT    PRIMARY KEY,
  revoked_at INTEGER NOT NULL,              -- unix milliseconds
  expires_at INTEGER NOT NULL               -- unix seconds: no token of the family outlives this
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS token_ledger_expires_at ON token_ledger (expires_at);
CREATE INDEX IF NOT EXISTS token_family_revocation_expires_at ON token_family_revocation (expires_at);
-- A family's logout, found by its family: the access-token checks read it (migration 0008).
CREATE INDEX IF NOT EXISTS token_ledger_logout_family ON token_ledger (family) WHERE reason = 'logout';

-- Login attempts, counted atomically per HMAC key (src/storage/d1/attempts.ts; migration 0002).
CREATE TABLE IF NOT EXISTS login_attempts (
  key          TEXT    PRIMARY KEY,
  attempts     INTEGER NOT NULL,            -- taken in the window, successes and refused ones given back
  window_start INTEGER NOT NULL,            -- unix milliseconds
  window_end   INTEGER NOT NULL             -- unix milliseconds; after it the row counts for nothing and the cron deletes it
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS login_attempts_window_end ON login_attempts (window_end);
CREATE UNIQUE INDEX IF NOT EXISTS users_orgaccount_django_uuid ON users_orgaccount (django_uuid);

-- The origin's allauth social accounts, for the GitHub login (migration 0007).
CREATE TABLE IF NOT EXISTS socialaccount_socialaccount (
  id       INTEGER PRIMARY KEY,             -- equal to the Django SocialAccount id
  user_id  INTEGER NOT NULL REFERENCES users_user (id) ON DELETE CASCADE,
  provider TEXT    NOT NULL,
  uid      TEXT    NOT NULL,
  login    TEXT,                            -- extra_data['login']; NULL when the origin has none
  UNIQUE (provider, uid)
);
CREATE INDEX IF NOT EXISTS socialaccount_socialaccount_login ON socialaccount_socialaccount (provider, login);
-- A user's social accounts, for the sync's user delete (migration 0008).
CREATE INDEX IF NOT EXISTS socialaccount_socialaccount_user_id ON socialaccount_socialaccount (user_id);

-- The origin sync (migration 0006, docs/sync.md).
CREATE UNIQUE INDEX IF NOT EXISTS users_membership_django_uuid ON users_membership (django_uuid);
-- A deleted organization's memberships are found by it (the sync deletes them itself).
CREATE INDEX IF NOT EXISTS users_membership_org_id ON users_membership (org_id);

-- For every (kind, key) of the origin ever applied: the highest version, and whether the row
-- is deleted (a tombstone), so an older or replayed change never overwrites a newer one.
CREATE TABLE IF NOT EXISTS sync_version (
  kind     TEXT    NOT NULL CHECK (kind IN ('user', 'organization', 'membership', 'social_account')),
  key      TEXT    NOT NULL,                -- the origin's primary key as text (decimal or UUID)
  version  INTEGER NOT NULL,
  deleted  INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  seen_run TEXT,                            -- the last full run that saw the row
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sync_version_seen_run ON sync_version (seen_run, kind);

-- Delivery ids applied (webhook-id): the same id again changes nothing.
CREATE TABLE IF NOT EXISTS sync_delivery (
  id          TEXT    PRIMARY KEY,
  received_at INTEGER NOT NULL              -- unix seconds; kept 30 days (after that, versions alone make a replay stale)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sync_delivery_received_at ON sync_delivery (received_at);

-- The open full reconciliation run, if any: one row at most.
CREATE TABLE IF NOT EXISTS sync_run (
  singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
  run        TEXT    NOT NULL,
  started_at INTEGER NOT NULL               -- unix seconds
);

-- A delivery's records while its batch runs; empty between batches (each batch clears it).
CREATE TABLE IF NOT EXISTS sync_staging (
  kind             TEXT    NOT NULL,
  key              TEXT    NOT NULL,
  idx              INTEGER NOT NULL,        -- the record's index in the delivery
  version          INTEGER NOT NULL,
  deleted          INTEGER NOT NULL,
  password_changed INTEGER NOT NULL DEFAULT 0,
  username         TEXT,
  password         TEXT,
  is_active        INTEGER,
  name             TEXT,
  user_id          INTEGER,
  org_key          TEXT,
  active           INTEGER,
  provider         TEXT,
  uid              TEXT,
  login            TEXT,
  simplejwt_id     TEXT,
  claims           TEXT,
  applies          INTEGER NOT NULL DEFAULT 0,
  revoke           INTEGER NOT NULL DEFAULT 0,
  row_id           INTEGER CHECK (row_id IS NULL OR row_id > 0), -- a user's row here (0010)
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- A row inserted here fails its batch (the CHECK): how a batch refuses a reference the edge lacks.
CREATE TABLE IF NOT EXISTS sync_check (
  failed TEXT NOT NULL CHECK (failed = '')
);
