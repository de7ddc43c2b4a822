/** The Worker's bindings and vars, as wrangler.toml and the secrets declare them. */
export interface Env {
  DB: D1Database;
  BLACKLIST: KVNamespace;
  JWT_SECRET_KEY?: string;
  ACCESS_TOKEN_LIFETIME?: string;
  REFRESH_TOKEN_LIFETIME?: string;
  REFRESH_REUSE_INTERVAL?: string;
  REFRESH_RACE_WINDOW?: string;
  CORS_ALLOWED_ORIGINS?: string;
  LOGIN_USER_FAILURE_LIMIT?: string;
  LOGIN_ADDRESS_FAILURE_LIMIT?: string;
}
