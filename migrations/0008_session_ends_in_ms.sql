-- Migration 0008: session ends told to the millisecond, and the reads that find them.
-- sessions_revoked_at becomes unix milliseconds: a token issued at or before it is refused,
-- by its iat_ms claim where it has one (the edge's tokens), else by the start of its iat second.
UPDATE users_user SET sessions_revoked_at = sessions_revoked_at * 1000
  WHERE sessions_revoked_at IS NOT NULL AND sessions_revoked_at < 100000000000;
UPDATE users_orgaccount SET sessions_revoked_at = sessions_revoked_at * 1000
  WHERE sessions_revoked_at IS NOT NULL AND sessions_revoked_at < 100000000000;
-- A family's logout, found by its family: the access-token checks read it in D1.
CREATE INDEX IF NOT EXISTS token_ledger_logout_family ON token_ledger (family) WHERE reason = 'logout';
-- A user's social accounts, found by the user: the sync's user delete reads them.
CREATE INDEX IF NOT EXISTS socialaccount_socialaccount_user_id ON socialaccount_socialaccount (user_id);
