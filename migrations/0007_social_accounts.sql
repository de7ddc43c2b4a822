-- Migration 0007: the origin's allauth social accounts (socialaccount.SocialAccount), for
-- the GitHub login (POST /api/org_token_github/). `login` is extra_data['login'], the
-- GitHub login the origin matches on; only providers the edge serves are kept.
CREATE TABLE IF NOT EXISTS socialaccount_socialaccount (
  id       INTEGER PRIMARY KEY,             -- equal to the Django SocialAccount id
  user_id  INTEGER NOT NULL REFERENCES users_user (id) ON DELETE CASCADE,
  provider TEXT    NOT NULL,
  uid      TEXT    NOT NULL,
  login    TEXT,                            -- extra_data['login']; NULL when the origin has none
  UNIQUE (provider, uid)
);
CREATE INDEX IF NOT EXISTS socialaccount_socialaccount_login ON socialaccount_socialaccount (provider, login);
