-- Migration 0005: sessions ended in bulk. A refresh or access token of this user (or of
-- this organization) whose `iat` is earlier than the value (unix seconds) is refused: a
-- password change or a disabled user at the origin (the origin sync), or an admin command.
-- NULL: nothing revoked.
ALTER TABLE users_user ADD COLUMN sessions_revoked_at INTEGER;
ALTER TABLE users_orgaccount ADD COLUMN sessions_revoked_at INTEGER;
