/** simplejwt's TokenObtainPairView at the edge (docs/contract.md "simplejwt's views"), 5.2.2 and 5.5.1. */
import { describe, expect, it, vi } from "vitest";
import { call, claimsOf, manualClock, postJson, quickApp } from "../support/harness";
import { decodeProtectedHeader, PASSWORD, PATHS, seedUser, sjEnv, V522, V551 } from "../support/simplejwt";

const NO_ACCOUNT = { detail: "No active account found with the given credentials" };

describe("obtain: fields as DRF's CharField", () => {
  it("unset path: not served (the contract's 404, nothing owned)", async () => {
    const response = await postJson(quickApp(), PATHS.obtain, { username: "a", password: "b" });
    expect(response.status).toBe(404);
  });

  it("all field errors at once, USERNAME_FIELD first", async () => {
    const target = quickApp();
    const empty = await postJson(target, PATHS.obtain, {}, V522);
    expect(empty.status).toBe(400);
    expect(await empty.text()).toBe('{"username":["This field is required."],"password":["This field is required."]}');
    const mixed = await postJson(target, PATHS.obtain, { username: null, password: "  " }, V522);
    expect(await mixed.text()).toBe(
      '{"username":["This field may not be null."],"password":["This field may not be blank."]}',
    );
    const types = await postJson(target, PATHS.obtain, { username: true, password: ["x"] }, V522);
    expect(await types.json()).toEqual({ username: ["Not a valid string."], password: ["Not a valid string."] });
    const numbers = await postJson(target, PATHS.obtain, { username: 123, password: 1.5 }, V522);
    expect(numbers.status).toBe(401);
    expect(await numbers.json()).toEqual(NO_ACCOUNT);
  });

  it("USERNAME_FIELD names the body key (email)", async () => {
    const user = await seedUser();
    const env = sjEnv({ USERNAME_FIELD: "email" });
    const missing = await postJson(quickApp(), PATHS.obtain, { username: user.userName, password: PASSWORD }, env);
    expect(await missing.json()).toEqual({ email: ["This field is required."] });
    const ok = await postJson(quickApp(), PATHS.obtain, { email: user.userName, password: PASSWORD }, env);
    expect(ok.status).toBe(200);
  });
});

describe("obtain: the authentication rule", () => {
  it.each([
    ["wrong password", async () => ({ username: (await seedUser()).userName, password: "nope" })],
    ["unknown user", async () => ({ username: "nobody-here", password: PASSWORD })],
    ["inactive user", async () => ({ username: (await seedUser({ active: false })).userName, password: PASSWORD })],
  ])("%s: 401 No active account, WWW-Authenticate", async (_name, body) => {
    const response = await postJson(quickApp(), PATHS.obtain, await body(), V522);
    expect(response.status).toBe(401);
    expect(await response.text()).toBe(JSON.stringify(NO_ACCOUNT));
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it("the realm header names the first AUTH_HEADER_TYPES", async () => {
    const response = await postJson(
      quickApp(),
      PATHS.obtain,
      { username: "x", password: "y" },
      sjEnv({ AUTH_HEADER_TYPES: "JWT,Bearer" }),
    );
    expect(response.headers.get("WWW-Authenticate")).toBe('JWT realm="api"');
  });

  it("whitespace around both fields is trimmed before the check", async () => {
    const user = await seedUser();
    const response = await postJson(
      quickApp(),
      PATHS.obtain,
      { username: ` ${user.userName} `, password: PASSWORD },
      V522,
    );
    // The stored password has no surrounding whitespace; trimmed input matches it.
    expect(response.status).toBe(200);
  });

  it("the edge's throttle: past LOGIN_PAIR_FAILURE_LIMIT, 429", async () => {
    const user = await seedUser();
    const env = sjEnv({ LOGIN_PAIR_FAILURE_LIMIT: "1" });
    const target = quickApp();
    expect((await postJson(target, PATHS.obtain, { username: user.userName, password: "bad" }, env)).status).toBe(401);
    const throttled = await postJson(target, PATHS.obtain, { username: user.userName, password: PASSWORD }, env);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("Retry-After")).toMatch(/^\d+$/);
  });
});

describe("obtain: the pair as simplejwt writes it", () => {
  it("5.2.2: refresh first; simplejwt's claims in order, int user_id, no org claims, the edge's fam and iat_ms", async () => {
    const clock = manualClock(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const user = await seedUser();
    const response = await postJson(
      quickApp({ clock }),
      PATHS.obtain,
      { username: user.userName, password: PASSWORD },
      V522,
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(Object.keys(JSON.parse(text))).toEqual(["refresh", "access"]);
    const { refresh, access } = JSON.parse(text) as { refresh: string; access: string };
    const iat = Math.floor(clock() / 1000);
    const r = claimsOf(refresh);
    expect(Object.keys(r)).toEqual(["token_type", "exp", "iat", "jti", "user_id", "fam", "iat_ms"]);
    expect(r).toMatchObject({ token_type: "refresh", exp: iat + 2592000, iat, user_id: user.userId, fam: r.jti });
    expect(r.jti).toMatch(/^[0-9a-f]{32}$/);
    expect(r.iat_ms).toBe(clock());
    const a = claimsOf(access);
    expect(Object.keys(a)).toEqual(["token_type", "exp", "iat", "jti", "user_id", "fam", "iat_ms"]);
    expect(a).toMatchObject({ token_type: "access", exp: iat + 86400, iat, user_id: user.userId, fam: r.jti });
    expect(a.jti).not.toBe(r.jti);
    expect(decodeProtectedHeader(access)).toEqual({ alg: "HS256", typ: "JWT" });
  });

  it('5.5.1: user_id is a string ("1")', async () => {
    const user = await seedUser();
    const response = await postJson(quickApp(), PATHS.obtain, { username: user.userName, password: PASSWORD }, V551);
    const { refresh, access } = await response.json<{ refresh: string; access: string }>();
    expect(claimsOf(refresh).user_id).toBe(String(user.userId));
    expect(claimsOf(access).user_id).toBe(String(user.userId));
  });

  it("claim names, AUDIENCE, ISSUER and HS512 from the settings", async () => {
    const user = await seedUser();
    const env = sjEnv({
      USER_ID_CLAIM: "sub",
      TOKEN_TYPE_CLAIM: "typ2",
      JTI_CLAIM: "tid",
      AUDIENCE: "aud1",
      ISSUER: "iss1",
      ALGORITHM: "HS512",
    });
    const response = await postJson(quickApp(), PATHS.obtain, { username: user.userName, password: PASSWORD }, env);
    const { refresh, access } = await response.json<{ refresh: string; access: string }>();
    expect(Object.keys(claimsOf(refresh))).toEqual(["typ2", "exp", "iat", "tid", "sub", "aud", "iss", "fam", "iat_ms"]);
    expect(claimsOf(access)).toMatchObject({ typ2: "access", sub: user.userId, aud: "aud1", iss: "iss1" });
    expect(decodeProtectedHeader(refresh)).toEqual({ alg: "HS512", typ: "JWT" });
  });
});

describe("obtain: configuration and methods", () => {
  it.each([
    ["USER_ID_FIELD_TYPE", "string"], // with USER_ID_FIELD id: a text primary key
    ["TOKEN_CLAIMS", "user_id:first_name"],
    ["SIMPLE_JWT_VERSION", "5.1.0"],
    ["JTI_CLAIM", "exp"],
  ])("%s=%s: the views answer 500 with a log line naming it; the org-token API still serves", async (name, value) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const env = sjEnv({ [name]: value });
      const response = await postJson(quickApp(), PATHS.obtain, { username: "a", password: "b" }, env);
      expect(response.status).toBe(500);
      expect(errors.mock.calls.map((call) => String(call[0])).join("\n")).toContain(name);
      const org = await postJson(quickApp(), "/api/org_token/", {}, env);
      expect(org.status).toBe(400);
    } finally {
      errors.mockRestore();
    }
  });

  it("OPTIONS: DRF's metadata; GET: 405 with Allow", async () => {
    const options = await call(quickApp(), PATHS.obtain, { method: "OPTIONS" }, V522);
    expect(options.status).toBe(200);
    expect(await options.json()).toMatchObject({
      name: "Token Obtain Pair",
      actions: {
        POST: {
          username: { type: "string", required: true, read_only: false, label: "Username" },
          password: { type: "string", required: true, read_only: false, label: "Password" },
        },
      },
    });
    const get = await call(quickApp(), PATHS.obtain, { method: "GET" }, V522);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ detail: 'Method "GET" not allowed.' });
    expect(get.headers.get("Allow")).toBe("POST, OPTIONS");
  });
});

describe("obtain: path ownership", () => {
  // Nothing listens on port 9: a forwarded request would be a 502, never the 404.
  const env = sjEnv({ ORIGIN_URL: "http://127.0.0.1:9" });
  const NOT_FOUND = { detail: "The requested resource was not found on this server." };

  it.each([
    "/api%2Ftoken/",
    "/api/token%2F",
    "/api%2ftoken%2f",
    "/api/token%252F",
    "/api//token/",
    "/api/x/%252e%252e/token/",
    // The other views too, and a path a stack could cut at a decoded newline, query or fragment.
    "/api/token/refresh%2F",
    "/api/token%2Fverify/",
    "/api/sj/blacklist%252F",
    "/api/token/refresh/%0A",
    "/api/token/verify/%0d%0a",
    "/api/token/refresh%3F",
    "/api/token/refresh/%23x",
    "/api/sj/blacklist/%00",
  ])("%s is refused, never forwarded", async (spelling) => {
    const response = await call(quickApp(), spelling, { method: "POST" }, env);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(NOT_FOUND);
  });

  it("the path without its trailing slash is served", async () => {
    const response = await call(quickApp(), "/api/token", { method: "POST" }, env);
    expect(response.status).toBe(400);
  });

  it("a view path on an org-token route is a configuration error (500 everywhere)", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const clash = sjEnv({ TOKEN_REFRESH_PATH: "/api/org_token/refresh/" });
      expect((await call(quickApp(), "/api/org_token/", { method: "POST" }, clash)).status).toBe(500);
      expect(errors.mock.calls.map((call) => String(call[0])).join("\n")).toContain("TOKEN_REFRESH_PATH");
    } finally {
      errors.mockRestore();
    }
  });
});
