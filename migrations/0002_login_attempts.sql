-- Login attempts, counted atomically in D1 (src/storage/d1/attempts.ts). Idempotent.
-- key: an HMAC of "user:", "addr:" or "pair:" and the name (never the name itself).
CREATE TABLE IF NOT EXISTS login_attempts (
  key          TEXT    PRIMARY KEY,
  attempts     INTEGER NOT NULL,            -- taken in the window, successes and refused ones given back
  window_start INTEGER NOT NULL,            -- unix milliseconds
  window_end   INTEGER NOT NULL             -- unix milliseconds; after it the row counts for nothing and the cron deletes it
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS login_attempts_window_end ON login_attempts (window_end);
