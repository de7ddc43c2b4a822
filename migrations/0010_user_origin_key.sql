-- Migration 0010: users whose origin key is a UUID (docs/sync.md, "Records").
-- origin_key: the origin's primary key when it is a UUID (lower-case, hyphenated); the edge
-- numbers such users itself (id). NULL: id is the origin's integer primary key.
ALTER TABLE users_user ADD COLUMN origin_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS users_user_origin_key ON users_user (origin_key);
-- row_id: a staged user's row here, found before the batch writes or deletes it; 0 (the
-- CHECK fails the batch) for an integer key whose id a UUID-keyed user holds.
ALTER TABLE sync_staging ADD COLUMN row_id INTEGER CHECK (row_id IS NULL OR row_id > 0);
-- The highest id the edge has given a UUID-keyed user: a deleted user's id is never given
-- again (users_user.id has no AUTOINCREMENT), so nothing kept under it (an ended session in
-- KV, a host's data keyed by it) passes to another user.
CREATE TABLE IF NOT EXISTS users_user_ids (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  last_id   INTEGER NOT NULL
);
