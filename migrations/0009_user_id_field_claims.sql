-- Migration 0009: what simplejwt's views need of a user beyond its primary key (docs/sync.md).
-- simplejwt_id: the value of the origin's SIMPLE_JWT USER_ID_FIELD when that is not the
-- primary key, as text in Django's lookup form (a UUID lower-case and hyphenated, an integer
-- in decimal, a string as it is); NULL when USER_ID_FIELD is the primary key (users_user.id).
ALTER TABLE users_user ADD COLUMN simplejwt_id TEXT;
-- claims: the user's fields the origin's ORG_TOKEN_EDGE["CLAIMS"] declares, a JSON object
-- {field: value} its token views write as claims (TOKEN_CLAIMS); NULL when none are declared.
ALTER TABLE users_user ADD COLUMN claims TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS users_user_simplejwt_id ON users_user (simplejwt_id);
ALTER TABLE sync_staging ADD COLUMN simplejwt_id TEXT;
ALTER TABLE sync_staging ADD COLUMN claims TEXT;
