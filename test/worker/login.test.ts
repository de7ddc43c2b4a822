/** POST /api/org_token/: every row, Django's hashes, the upgrade, and brute-force throttling. */
import { describe, expect, it } from "vitest";
import { app, call, claimsOf, env, manualClock, postJson, seed, vectors, type App } from "../support/harness";

const LOGIN = "/api/org_token/";
const PASSWORD = vectors.django_password_hashes.password;
const HASH_600K = vectors.django_password_hashes.pbkdf2_sha256_600000;
const HASH_100K = vectors.django_password_hashes.pbkdf2_sha256_100000;
const BAD_CREDENTIALS = { detail: "No active account found with the given credentials" };

function login(target: App, body: Record<string, unknown>, headers: Record<string, string> = {}, envOverrides = {}) {
  return postJson(target, LOGIN, body, envOverrides, headers);
}

async function storedHash(userId: number) {
  return (await env.DB.prepare("SELECT password FROM users_user WHERE id = ?1").bind(userId).first<{ password: string }>())!.password;
}

describe("login", () => {
  const worker = app();

  it("an active member with Django 4.2's 600000-iteration hash gets a pair (under the production PBKDF2 limit)", async () => {
    const clock = manualClock();
    const s = await seed({ passwordHash: HASH_600K });
    const response = await login(app({ clock }), { username: s.userName, password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, string>>();
    expect(Object.keys(body)).toEqual(["exp", "access_lifetime", "refresh_lifetime", "refresh", "access"]);
    const refresh = claimsOf(body.refresh!);
    const access = claimsOf(body.access!);
    const iat = Math.floor(clock() / 1000);
    expect(refresh).toMatchObject({ token_type: "refresh", iat, exp: iat + 2592000, user_id: s.userId, user_name: s.userName, org_name: s.orgName });
    expect(access).toMatchObject({ token_type: "access", iat, exp: iat + 86400, user_id: s.userId });
    expect(refresh.fam).toBe(refresh.jti); // a login starts a family
    expect(body.exp).toBe(`${new Date(access.exp! * 1000).toISOString().slice(0, 19)}UTC`);
    expect(await storedHash(s.userId)).toBe(HASH_600K); // already the current scheme: no upgrade

    // The pair works: its refresh token refreshes.
    expect((await postJson(worker, "/api/org_token/refresh/", { refresh: body.refresh })).status).toBe(200);
  });

  it("an older hash (100000 iterations) logs in and is upgraded to the current scheme", async () => {
    const s = await seed({ passwordHash: HASH_100K });
    const response = await login(worker, { username: s.userName, password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(200);
    const upgraded = await storedHash(s.userId);
    expect(upgraded).toMatch(/^pbkdf2_sha256\$600000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    // And the upgraded hash still takes the same password.
    expect((await login(worker, { username: s.userName, password: PASSWORD, org_name: s.orgName })).status).toBe(200);
  });

  it.each([
    ["wrong password", { passwordHash: HASH_600K }, "not the password"],
    ["disabled account, right password", { passwordHash: HASH_600K, userActive: false }, PASSWORD],
    ["no usable password", { passwordHash: vectors.django_password_hashes.unusable }, PASSWORD],
    ["no password at all", { passwordHash: null }, PASSWORD],
  ])("%s: 401", async (_name, seedOptions, password) => {
    const s = await seed(seedOptions);
    const response = await login(worker, { username: s.userName, password, org_name: s.orgName });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(BAD_CREDENTIALS);
  });

  it("unknown user: the same 401", async () => {
    const s = await seed();
    const response = await login(worker, { username: "nobody-at-all", password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(BAD_CREDENTIALS);
  });

  it("organization does not exist: 403", async () => {
    const s = await seed({ passwordHash: HASH_600K });
    const response = await login(worker, { username: s.userName, password: PASSWORD, org_name: "NoSuchOrg" });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: "NoSuchOrg is NOT a valid organization name" });
  });

  it("not a member: 403", async () => {
    const s = await seed({ passwordHash: HASH_600K, membership: null });
    const response = await login(worker, { username: s.userName, password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${s.userName} is NOT a member of ${s.orgName}` });
  });

  it("member, not active: 403", async () => {
    const s = await seed({ passwordHash: HASH_600K, membership: "inactive" });
    const response = await login(worker, { username: s.userName, password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${s.userName} is NOT an active Member of ${s.orgName}` });
  });

  it("field errors name every bad field", async () => {
    const response = await login(worker, { password: "", org_name: 5 });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      username: ["This field is required."],
      password: ["This field may not be blank."],
    });
  });

  it("form bodies log in too", async () => {
    const s = await seed({ passwordHash: HASH_600K });
    const response = await call(worker, "/api/org_token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: s.userName, password: PASSWORD, org_name: s.orgName }).toString(),
    });
    expect(response.status).toBe(200);
  });
});

describe("login: brute force", () => {
  it("10 failures for one username: 429 with Retry-After, even with the right password; the window ends", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed({ passwordHash: HASH_100K });
    for (let i = 0; i < 10; i++) {
      expect((await login(target, { username: s.userName, password: `guess ${i}`, org_name: s.orgName })).status).toBe(401);
      clock.advance(1);
    }
    const blocked = await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName });
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(await blocked.json()).toHaveProperty("detail");

    clock.advance(retryAfter);
    expect((await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName })).status).toBe(200);
  });

  it("successful logins are not counted: more than the limit in a row are never throttled", async () => {
    const target = app();
    const s = await seed({ passwordHash: HASH_100K });
    const limits = { LOGIN_USER_FAILURE_LIMIT: "2" };
    for (let i = 0; i < 4; i++) {
      const response = await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, {}, limits);
      expect(response.status).toBe(200);
    }
  });

  it("one client address guessing across many usernames is throttled at LOGIN_ADDRESS_FAILURE_LIMIT", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed({ passwordHash: HASH_100K });
    const address = { "CF-Connecting-IP": "203.0.113.9" };
    const limits = { LOGIN_ADDRESS_FAILURE_LIMIT: "4" };
    for (let i = 0; i < 4; i++) {
      const response = await login(target, { username: `nobody${i}`, password: "x", org_name: s.orgName }, address, limits);
      expect(response.status).toBe(401);
    }
    const blocked = await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, address, limits);
    expect(blocked.status).toBe(429);
    // Another address is not affected.
    const other = await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, { "CF-Connecting-IP": "198.51.100.7" }, limits);
    expect(other.status).toBe(200);
  });
});
