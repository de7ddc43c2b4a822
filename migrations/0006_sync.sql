-- Migration 0006: the origin sync's receiver (docs/sync.md, src/storage/d1/sync.ts).
-- A membership's origin UUID: deletes arrive by it. NULL for memberships made here.
ALTER TABLE users_membership ADD COLUMN django_uuid TEXT;
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
  applies          INTEGER NOT NULL DEFAULT 0,
  revoke           INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- A row inserted here fails its batch (the CHECK): how a batch refuses a reference the edge lacks.
CREATE TABLE IF NOT EXISTS sync_check (
  failed TEXT NOT NULL CHECK (failed = '')
);
