/** The path matrix the workerd and `wrangler dev` forwarding tests share. */

/**
 * Spellings of the API's paths an origin stack (nginx, gunicorn, Django) could decode onto
 * its own token views: each is refused by the edge (the contract's 404), never forwarded.
 */
export const REFUSED_SPELLINGS = [
  "/api/org_token/refresh%2F",
  "/api/org_token%2Frefresh%2F",
  "/api/org_token%2frefresh/",
  "/api/org_token/refresh%2f?x=1",
  "/api/org_token%2F",
  "/api/org_token%2f",
  "/api%2Forg_token/refresh/",
  "/api%2forg_token%2frefresh%2f",
  "/api/org_token/refresh%252F",
  "/api/org_token%252Frefresh%252F",
  "/api/org_token%25252Frefresh/",
  "/api/org_token%5Crefresh%5C",
  "/api/org_token%5crefresh/",
  "/api%5Corg_token%5Crefresh%5C",
  "/api/org_token/refresh%255C",
  "/api/org_token//refresh/",
  "//api/org_token/refresh/",
  "/api//org_token/",
  "/api/org_token/refresh//",
  "/api/org_token/x%2F..%2Frefresh/",
  "/api/org_token/x/%252e%252e/refresh/",
  "/api/org_token/%2e%2e%2forg_token/refresh/",
  "/api/org_token/refresh/%252E%252E/refresh/",
  "/api/org_token/refresh/%252E/",
  "/api/token/blacklist%2F",
  "/api/token%2Fblacklist/",
  "/api/token%2fblacklist%2f",
  "/api%2Ftoken%2Fblacklist%2F",
  "/api/token/blacklist%252F",
  "/api/token//blacklist/",
  "/api/membership_status/Org%2F",
  "/api/membership_status%2FOrg/",
  "/api/membership_status/a%2Fb/",
  "/api/schema%2F",
  "/api/org_token/health%2F",
  "/api/org_token/..%2F..%2Fadmin/",
  "/api/other/..%2Forg_token/refresh/",
  "/api/%6Frg_token%252Frefresh/",
  // Cut at a decoded newline, query or fragment, a stack could still route these onto a view.
  "/api/org_token/refresh/%0A",
  "/api/org_token/refresh/%0d%0a",
  "/api/org_token/refresh%3Fx=1",
  "/api/org_token/refresh/%23x",
  "/api/org_token/refresh/%00",
  "/api/token/blacklist/%0a",
  "/api/token/blacklist%3F",
] as const;

/** Origin paths, some with odd characters, that no engineer adds to the route table: forwarded unchanged. */
export const FORWARDED_PATHS = [
  "/api/org_token_githubx/",
  "/accounts/login/",
  "/api/other%2Fthing/",
  "/api/org_tokens/",
  "/api/org_token/refresh/extra/",
  "/api/users/%E2%9C%93/",
  "/static/a%20b.css",
  "/api/token/",
  "/API/org_token/refresh/",
] as const;
