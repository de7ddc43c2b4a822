/**
 * POST /api/org_token/: every row, Django's hashes, the upgrade, and brute-force throttling.
 * The credentials' cases (Django's hashes, the production PBKDF2 limit, the 401s, the upgrade)
 * run on the real password work, 600000 iterations; the standing, bodies and throttle run on
 * quickApp's (the same PBKDF2 at 1000 iterations), their seeds hashed at that count.
 */
import { describe, expect, it } from "vitest";
import { djangoPasswordWork } from "../../src/passwords/work";
import type { Env } from "../../worker/env";
import {
  type App,
  app,
  call,
  claimsOf,
  env,
  manualClock,
  postJson,
  QUICK_HASH,
  QUICK_ITERATIONS,
  quickApp,
  seed,
  vectors,
} from "../support/harness";

const LOGIN = "/api/org_token/";
const PASSWORD = vectors.django_password_hashes.password;
const HASH_600K = vectors.django_password_hashes.pbkdf2_sha256_600000;
const HASH_100K = vectors.django_password_hashes.pbkdf2_sha256_100000;
// Cases about something other than the hash run on quickApp and seed QUICK_HASH, its current
// scheme: a successful login with a weaker hash also rehashes (in waitUntil).
const BAD_CREDENTIALS = { detail: "No active account found with the given credentials" };

function login(target: App, body: Record<string, unknown>, headers: Record<string, string> = {}, envOverrides = {}) {
  return postJson(target, LOGIN, body, envOverrides, headers);
}

async function storedHash(userId: number) {
  return (await env.DB.prepare("SELECT password FROM users_user WHERE id = ?1")
    .bind(userId)
    .first<{ password: string }>())!.password;
}

describe("login", () => {
  const worker = app();
  const quick = quickApp();

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
    expect(refresh).toMatchObject({
      token_type: "refresh",
      iat,
      exp: iat + 2592000,
      user_id: s.userId,
      user_name: s.userName,
      org_name: s.orgName,
    });
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

  it("the password work is the app's: quickApp upgrades a weaker hash (500 iterations) to its own count", async () => {
    const s = await seed({ passwordHash: await djangoPasswordWork(500).hash(PASSWORD) });
    const body = { username: s.userName, password: PASSWORD, org_name: s.orgName };
    expect((await login(quick, body)).status).toBe(200);
    const upgraded = await storedHash(s.userId);
    expect(upgraded).toMatch(
      new RegExp(`^pbkdf2_sha256\\$${QUICK_ITERATIONS}\\$[A-Za-z0-9]{22}\\$[A-Za-z0-9+/]{43}=$`),
    );
    expect((await login(quick, body)).status).toBe(200);
    expect(await storedHash(s.userId)).toBe(upgraded); // at the app's count now: no second upgrade
  });

  it.each([
    ["wrong password", { passwordHash: HASH_600K }, "not the password"],
    ["disabled account, right password", { passwordHash: HASH_600K, userActive: false }, PASSWORD],
    ["no usable password", { passwordHash: vectors.django_password_hashes.unusable }, PASSWORD],
    ["no password at all", { passwordHash: null }, PASSWORD],
    // Unusable, never computed (passwords.test.ts shows the check does an unknown user's work).
    [
      "a stored hash above the iteration ceiling (10^7 iterations)",
      { passwordHash: `pbkdf2_sha256$10000000$${"s".repeat(22)}$${"A".repeat(43)}=` },
      PASSWORD,
    ],
  ])("%s: 401", async (_name, seedOptions, password) => {
    const s = await seed(seedOptions);
    const response = await login(worker, { username: s.userName, password, org_name: s.orgName });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(BAD_CREDENTIALS);
    // simplejwt's TokenViewBase keeps DRF's 401 by naming its scheme.
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it("unknown user: the same 401, with the same WWW-Authenticate", async () => {
    const s = await seed();
    const response = await login(worker, { username: "nobody-at-all", password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(BAD_CREDENTIALS);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it("a username differing only in case: 401 (the origin's 500 after allauth's case-insensitive match)", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const response = await login(quick, {
      username: s.userName.toUpperCase(),
      password: PASSWORD,
      org_name: s.orgName,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(BAD_CREDENTIALS);
  });

  it("organization does not exist: 403", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const response = await login(quick, { username: s.userName, password: PASSWORD, org_name: "NoSuchOrg" });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: "NoSuchOrg is NOT a valid organization name" });
  });

  it("not a member: 403", async () => {
    const s = await seed({ passwordHash: QUICK_HASH, membership: null });
    const response = await login(quick, { username: s.userName, password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${s.userName} is NOT a member of ${s.orgName}` });
  });

  it("member, not active: 403", async () => {
    const s = await seed({ passwordHash: QUICK_HASH, membership: "inactive" });
    const response = await login(quick, { username: s.userName, password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${s.userName} is NOT an active Member of ${s.orgName}` });
  });

  it("field errors name every bad field", async () => {
    const response = await login(quick, { password: "", org_name: 5 });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      username: ["This field is required."],
      password: ["This field may not be blank."],
    });
  });

  it("form bodies log in too", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const response = await call(quick, "/api/org_token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: s.userName, password: PASSWORD, org_name: s.orgName }).toString(),
    });
    expect(response.status).toBe(200);
  });
});

describe("login: names and bodies as Django reads them", () => {
  const worker = quickApp();
  /** A user whose name has letters outside ASCII (Jérôme + a unique tail). */
  async function seedNamed() {
    const s = await seed({ passwordHash: QUICK_HASH });
    const userName = `Jérôme${s.userName}`;
    await env.DB.prepare("UPDATE users_user SET username = ?1 WHERE id = ?2").bind(userName, s.userId).run();
    return { ...s, userName };
  }
  const bytes = (text: string, encode: (s: string) => number[]) => new Uint8Array(encode(text));
  const latin1 = (text: string) => Array.from(text, (ch) => ch.charCodeAt(0));
  const utf16le = (text: string, bom: boolean) => [
    ...(bom ? [0xff, 0xfe] : []),
    ...Array.from(text).flatMap((ch) => [ch.charCodeAt(0) & 0xff, ch.charCodeAt(0) >> 8]),
  ];
  const utf16be = (text: string) => [
    0xfe,
    0xff,
    ...Array.from(text).flatMap((ch) => [ch.charCodeAt(0) >> 8, ch.charCodeAt(0) & 0xff]),
  ];

  it("U+0085 and U+001F around the name are stripped (Python's str.strip), so the owner logs in", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const response = await login(worker, {
      username: `\u0085\u001f${s.userName}\u001c\u0085 `,
      password: PASSWORD,
      org_name: s.orgName,
    });
    expect(response.status).toBe(200);
  });

  it("a trailing U+FEFF is kept (not whitespace to Python): no such user, 401", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const response = await login(worker, { username: `${s.userName}\ufeff`, password: PASSWORD, org_name: s.orgName });
    expect(response.status).toBe(401);
  });

  it("NUL in the name: 400, checked before any password work", async () => {
    const response = await login(worker, { username: "bob\u0000", password: PASSWORD, org_name: "Org" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ username: ["Null characters are not allowed."] });
  });

  it.each([
    [
      "JSON, charset=latin-1",
      "application/json; charset=latin-1",
      (body: Record<string, string>) => bytes(JSON.stringify(body), latin1),
    ],
    [
      "JSON, charset=ISO-8859-1",
      "application/json; charset=ISO-8859-1",
      (body: Record<string, string>) => bytes(JSON.stringify(body), latin1),
    ],
    [
      "JSON, charset=utf-16 with a little-endian BOM",
      "application/json; charset=utf-16",
      (body: Record<string, string>) => bytes(JSON.stringify(body), (t) => utf16le(t, true)),
    ],
    [
      "JSON, charset=UTF-16 with a big-endian BOM",
      'application/json; charset="UTF-16"',
      (body: Record<string, string>) => bytes(JSON.stringify(body), utf16be),
    ],
    [
      "JSON, charset=utf-16le without a BOM",
      "application/json; charset=utf-16le",
      (body: Record<string, string>) => bytes(JSON.stringify(body), (t) => utf16le(t, false)),
    ],
    [
      "form, charset=latin-1, percent-escaped",
      "application/x-www-form-urlencoded; charset=latin-1",
      (body: Record<string, string>) =>
        bytes(
          Object.entries(body)
            .map(
              ([k, v]) =>
                `${k}=${Array.from(v, (ch) => (/[A-Za-z0-9_]/.test(ch) ? ch : `%${ch.charCodeAt(0).toString(16).padStart(2, "0")}`)).join("")}`,
            )
            .join("&"),
          latin1,
        ),
    ],
    [
      "form, no charset, raw latin-1 bytes (QueryDict falls back to iso-8859-1)",
      "application/x-www-form-urlencoded",
      (body: Record<string, string>) =>
        bytes(
          Object.entries(body)
            .map(([k, v]) => `${k}=${v.replaceAll(" ", "+")}`)
            .join("&"),
          latin1,
        ),
    ],
  ])("%s: read in its charset, the owner logs in", async (_name, contentType, encode) => {
    const s = await seedNamed();
    const body = encode({ username: s.userName, password: PASSWORD, org_name: s.orgName });
    const response = await call(worker, LOGIN, { method: "POST", headers: { "Content-Type": contentType }, body });
    expect(response.status).toBe(200);
  });

  it("a latin-1 body read as UTF-8 (no charset) would not be the same name: JSON refuses it", async () => {
    const s = await seedNamed();
    const body = bytes(JSON.stringify({ username: s.userName, password: PASSWORD, org_name: s.orgName }), latin1);
    const response = await call(worker, LOGIN, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    expect(response.status).toBe(400);
  });
});

describe("login: brute force", () => {
  let nextAddress = 0;
  /** A client address no other test uses (the address counter spans usernames). */
  const freshAddress = () => ({
    "CF-Connecting-IP": `198.51.${100 + Math.floor(++nextAddress / 250)}.${nextAddress % 250}`,
  });
  const statuses = (responses: Response[]) => responses.map((r) => r.status);
  const tally = (codes: number[]) => ({
    401: codes.filter((c) => c === 401).length,
    429: codes.filter((c) => c === 429).length,
  });

  it("the throttle holds for every spelling of the login path: after the 429, /api/org_token%2F is a 404, never a 401 or a login", async () => {
    const target = quickApp({ clock: manualClock() });
    const s = await seed({ passwordHash: QUICK_HASH });
    const address = freshAddress();
    const limits = { LOGIN_PAIR_FAILURE_LIMIT: "10", ORIGIN_URL: "http://127.0.0.1:9" };
    for (let i = 0; i < 10; i++)
      await login(target, { username: s.userName, password: `guess ${i}`, org_name: s.orgName }, address, limits);
    const wrong = { username: s.userName, password: "guess", org_name: s.orgName };
    expect((await login(target, wrong, address, limits)).status).toBe(429);
    for (const path of ["/api/org_token%2F", "/api/org_token%2f", "/api%2Forg_token/", "/api/org_token%252F"]) {
      for (const password of ["guess", PASSWORD]) {
        const response = await postJson(target, path, { ...wrong, password }, limits, address);
        expect(response.status, path).toBe(404);
        expect(await response.json()).toEqual({ detail: "The requested resource was not found on this server." });
      }
    }
  });

  it("40 parallel wrong logins at one address with a pair limit of 10: 10 are checked (401), 30 refused (429) before any hash", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const s = await seed({ passwordHash: QUICK_HASH });
    const address = freshAddress();
    const limits = { LOGIN_PAIR_FAILURE_LIMIT: "10" };
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        login(target, { username: s.userName, password: `guess ${i}`, org_name: s.orgName }, address, limits),
      ),
    );
    expect(tally(statuses(burst))).toEqual({ 401: 10, 429: 30 });
    for (const response of burst.filter((r) => r.status === 429)) {
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
    // Refused attempts were given back: the pair and username counters hold the 10 checked ones.
    const { loadConfig } = await import("../../src/config");
    const { workerConfigInput } = await import("../../worker/env");
    const { throttleKeys } = await import("../../src/login/throttle");
    const keys = throttleKeys(
      await loadConfig(workerConfigInput({ ...env, ...limits })),
      s.userName,
      address["CF-Connecting-IP"],
    );
    const count = (key: string) =>
      env.DB.prepare("SELECT attempts FROM login_attempts WHERE key = ?1").bind(key).first("attempts");
    expect([await count(keys.pair), await count(keys.user)]).toEqual([10, 10]);
  });

  it("40 parallel wrong logins from one address over 40 usernames with an address limit of 10: 10 checked, 30 refused", async () => {
    const target = quickApp({ clock: manualClock() });
    const s = await seed();
    const address = freshAddress();
    const limits = { LOGIN_ADDRESS_FAILURE_LIMIT: "10" };
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        login(target, { username: `nobody-${i}-${s.userName}`, password: "x", org_name: s.orgName }, address, limits),
      ),
    );
    expect(tally(statuses(burst))).toEqual({ 401: 10, 429: 30 });
  });

  it("10 failures for a username at one address: 429 with Retry-After there, even with the right password; the window ends", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const s = await seed({ passwordHash: QUICK_HASH });
    const address = freshAddress();
    for (let i = 0; i < 10; i++) {
      expect(
        (await login(target, { username: s.userName, password: `guess ${i}`, org_name: s.orgName }, address)).status,
      ).toBe(401);
      clock.advance(1);
    }
    const blocked = await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, address);
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(await blocked.json()).toHaveProperty("detail");

    // The owner, elsewhere, is not locked out.
    expect(
      (await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, freshAddress())).status,
    ).toBe(200);

    clock.advance(retryAfter);
    expect(
      (await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, address)).status,
    ).toBe(200);
  });

  it("a username under attack from many addresses: the owner at an address that has not failed gets in; the guessers get one try per window", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const s = await seed({ passwordHash: QUICK_HASH });
    const limits = { LOGIN_USER_FAILURE_LIMIT: "6", LOGIN_PAIR_FAILURE_LIMIT: "3" };
    const attackers = Array.from({ length: 6 }, freshAddress);
    const wrong = (address: Record<string, string>, i: number) =>
      login(target, { username: s.userName, password: `guess ${i}`, org_name: s.orgName }, address, limits);
    // 6 addresses, one wrong guess each: the username is at its limit of 6.
    expect(statuses(await Promise.all(attackers.map((a, i) => wrong(a, i))))).toEqual(Array(6).fill(401));
    // Now an address that already failed is refused, even below its pair limit of 3.
    expect((await wrong(attackers[0]!, 99)).status).toBe(429);
    // A new guesser gets one try, then is refused.
    const newcomer = freshAddress();
    expect((await wrong(newcomer, 100)).status).toBe(401);
    expect((await wrong(newcomer, 101)).status).toBe(429);
    // The owner, at an address that has not failed, gets in.
    const owner = freshAddress();
    expect(
      (await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, owner, limits)).status,
    ).toBe(200);
    // ... and again: the success cleared the owner's pair, so it is still a first try.
    expect(
      (await login(target, { username: s.userName, password: PASSWORD, org_name: s.orgName }, owner, limits)).status,
    ).toBe(200);
  });

  it("IPv6 addresses count per /64: rotating within it is counted together; another /64 is not", async () => {
    const target = quickApp({ clock: manualClock() });
    const s = await seed({ passwordHash: QUICK_HASH });
    const limits = { LOGIN_PAIR_FAILURE_LIMIT: "3" };
    const net = `2001:db8:${(++nextAddress).toString(16)}:7`;
    const rotating = [`${net}::1`, `${net}:0:0:0:2`, `${net.toUpperCase()}:FFFF:1:2:3`];
    for (const [i, address] of rotating.entries()) {
      const response = await login(
        target,
        { username: s.userName, password: `guess ${i}`, org_name: s.orgName },
        { "CF-Connecting-IP": address },
        limits,
      );
      expect(response.status).toBe(401);
    }
    const sameNet = await login(
      target,
      { username: s.userName, password: PASSWORD, org_name: s.orgName },
      { "CF-Connecting-IP": `${net}:abcd::9` },
      limits,
    );
    expect(sameNet.status).toBe(429);
    const otherNet = await login(
      target,
      { username: s.userName, password: PASSWORD, org_name: s.orgName },
      { "CF-Connecting-IP": `${net}1::1` },
      limits,
    );
    expect(otherNet.status).toBe(200);
  });

  it.each([
    ["2001:db8:1:2::1", "2001:0db8:0001:0002::/64"],
    ["2001:DB8:1:2:3:4:5:6", "2001:0db8:0001:0002::/64"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["0:0:0:0:0:ffff:c000:207", "192.0.2.7"],
    ["fe80::1%eth0", "fe80:0000:0000:0000::/64"],
    ["::", "0000:0000:0000:0000::/64"],
    ["::1.2.3.4", "0000:0000:0000:0000::/64"],
    ["203.0.113.9", "203.0.113.9"],
    ["2001:db8::1::2", "2001:db8::1::2"], // not an address: counted as itself
    [undefined, "unknown"],
  ])("address %s counts as %s", async (raw, counted) => {
    const { throttledAddress } = await import("../../src/login/address");
    expect(throttledAddress(raw)).toBe(counted);
  });

  it("successful logins are not counted, and one clears its pair's earlier failures", async () => {
    const target = quickApp({ clock: manualClock() });
    const s = await seed({ passwordHash: QUICK_HASH });
    const address = freshAddress();
    const attempt = (password: string, limits: Partial<Env>) =>
      login(target, { username: s.userName, password, org_name: s.orgName }, address, limits).then((r) => r.status);
    const tight = { LOGIN_PAIR_FAILURE_LIMIT: "2", LOGIN_USER_FAILURE_LIMIT: "2", LOGIN_ADDRESS_FAILURE_LIMIT: "2" };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await attempt(PASSWORD, tight));
    expect(statuses).toEqual([200, 200, 200, 200]);
    // Pair limit 2: without the reset, the second typo after the success would be the third.
    const pairOnly = { LOGIN_PAIR_FAILURE_LIMIT: "2" };
    for (const password of ["typo", PASSWORD, "typo", "typo", PASSWORD])
      statuses.push(await attempt(password, pairOnly));
    expect(statuses.slice(4)).toEqual([401, 200, 401, 401, 429]);
  });

  it("one client address guessing across many usernames is throttled at LOGIN_ADDRESS_FAILURE_LIMIT", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const s = await seed({ passwordHash: QUICK_HASH });
    const address = freshAddress();
    const limits = { LOGIN_ADDRESS_FAILURE_LIMIT: "4" };
    for (let i = 0; i < 4; i++) {
      const response = await login(
        target,
        { username: `nobody${i}`, password: "x", org_name: s.orgName },
        address,
        limits,
      );
      expect(response.status).toBe(401);
    }
    const blocked = await login(
      target,
      { username: s.userName, password: PASSWORD, org_name: s.orgName },
      address,
      limits,
    );
    expect(blocked.status).toBe(429);
    // Another address is not affected.
    const other = await login(
      target,
      { username: s.userName, password: PASSWORD, org_name: s.orgName },
      freshAddress(),
      limits,
    );
    expect(other.status).toBe(200);
  });

  it.each([
    ["LOGIN_PAIR_FAILURE_LIMIT", "0"],
    ["LOGIN_USER_FAILURE_LIMIT", "many"],
    ["LOGIN_ADDRESS_FAILURE_LIMIT", "2.5"],
  ])("an invalid %s (%s) is a 500, not a guess", async (name, value) => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const response = await login(
      quickApp(),
      { username: s.userName, password: PASSWORD, org_name: s.orgName },
      freshAddress(),
      { [name]: value },
    );
    expect(response.status).toBe(500);
  });

  it("the cron's purge deletes ended windows only", async () => {
    const { D1LoginAttempts } = await import("../../src/storage/d1/attempts");
    const attempts = new D1LoginAttempts(env.DB);
    const clock = manualClock(Date.UTC(2020, 0, 1)); // before every other test's windows
    const key = `purge-test-${crypto.randomUUID()}`;
    expect((await attempts.take([key], clock()))[0]!.count).toBe(1);
    expect((await attempts.take([key], clock()))[0]!.count).toBe(2);
    clock.advance(15 * 60 - 1);
    expect(await attempts.purge(clock())).toBe(0);
    expect(await env.DB.prepare("SELECT attempts FROM login_attempts WHERE key = ?1").bind(key).first("attempts")).toBe(
      2,
    );
    clock.advance(1);
    expect(await attempts.purge(clock())).toBe(1);
    expect(await env.DB.prepare("SELECT attempts FROM login_attempts WHERE key = ?1").bind(key).first()).toBeNull();
    // A window that ended but was not purged yet starts over at 1.
    await attempts.take([key], clock());
    clock.advance(15 * 60);
    expect((await attempts.take([key], clock()))[0]!.count).toBe(1);
  });
});
