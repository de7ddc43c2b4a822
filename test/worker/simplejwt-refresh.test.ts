/** simplejwt's TokenRefreshView at the edge: the pipeline's messages per version, rotation and blacklist, exactly once. */
import { describe, expect, it } from "vitest";
import { claimsOf, env, manualClock, postJson, quickApp } from "../support/harness";
import { expectInvalid, mintSj, obtain, PATHS, seedUser, sjEnv, V522, V551 } from "../support/simplejwt";

const ROTATE = { ROTATE_REFRESH_TOKENS: "True" };
const SPEND = { ROTATE_REFRESH_TOKENS: "True", BLACKLIST_AFTER_ROTATION: "True" };

describe("refresh: the token pipeline, in simplejwt's order and the version's words", () => {
  const cases: [string, () => Promise<string>, string, string][] = [
    [
      "expired",
      () => mintSj({}, { nowMs: Date.now() - 90_000_000 }),
      "Token is invalid or expired",
      "Token is expired",
    ],
    [
      "signed with another key",
      () => mintSj({}, { secret: "another-secret-that-is-long-enough-0123456789" }),
      "Token is invalid or expired",
      "Token is invalid",
    ],
    [
      "HS512 under ALGORITHM HS256",
      () => mintSj({}, { alg: "HS512" }),
      "Token is invalid or expired",
      "Token is invalid",
    ],
    [
      "iat in the future",
      () => mintSj({ iat: Math.floor(Date.now() / 1000) + 3600 }),
      "Token is invalid or expired",
      "Token is invalid",
    ],
    ["not a JWT", async () => "garbage", "Token is invalid or expired", "Token is invalid"],
    ["no exp", () => mintSj({ exp: undefined }), "Token has no 'exp' claim", "Token has no 'exp' claim"],
    ["no jti", () => mintSj({ jti: undefined }), "Token has no id", "Token has no id"],
    ["no token_type", () => mintSj({ token_type: undefined }), "Token has no type", "Token has no type"],
    ["an access token", () => mintSj({}, { type: "access" }), "Token has wrong type", "Token has wrong type"],
  ];
  it.each(cases)("%s: 5.2.2 and 5.5.1", async (_name, token, old, current) => {
    const raw = await token();
    await expectInvalid(await postJson(quickApp(), PATHS.refresh, { refresh: raw }, V522), old);
    await expectInvalid(await postJson(quickApp(), PATHS.refresh, { refresh: raw }, V551), current);
  });

  it("a number is read as text: invalid", async () => {
    await expectInvalid(await postJson(quickApp(), PATHS.refresh, { refresh: 5 }, V522), "Token is invalid or expired");
  });

  it("{} is the field error", async () => {
    const response = await postJson(quickApp(), PATHS.refresh, {}, V522);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ refresh: ["This field is required."] });
  });

  it("AUDIENCE and ISSUER required when set", async () => {
    const env = sjEnv({ AUDIENCE: "aud1", ISSUER: "iss1" });
    await expectInvalid(
      await postJson(quickApp(), PATHS.refresh, { refresh: await mintSj({}) }, env),
      "Token is invalid or expired",
    );
    const ok = await mintSj({ aud: "aud1", iss: "iss1" });
    expect((await postJson(quickApp(), PATHS.refresh, { refresh: ok }, env)).status).toBe(200);
  });

  it("LEEWAY accepts a token expired within it", async () => {
    const token = await mintSj({}, { nowMs: Date.now() - 86_400_000 - 5_000 });
    expect((await postJson(quickApp(), PATHS.refresh, { refresh: token }, sjEnv({ LEEWAY: "60" }))).status).toBe(200);
  });
});

describe("refresh: rotation off", () => {
  it("5.2.2: {access}; the access copies the refresh's claims, its iat too; the refresh stays valid", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const user = await seedUser();
    const pair = await obtain(target, user.userName, V522);
    clock.advance(600);
    const response = await postJson(target, PATHS.refresh, { refresh: pair.refresh }, V522);
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, string>>();
    expect(Object.keys(body)).toEqual(["access"]);
    const r = claimsOf(pair.refresh);
    const a = claimsOf(body.access!);
    expect(a).toMatchObject({ token_type: "access", iat: r.iat, user_id: user.userId, fam: r.fam, iat_ms: r.iat_ms });
    expect(a.exp).toBe(Math.floor(clock() / 1000) + 86400);
    expect((await postJson(target, PATHS.refresh, { refresh: pair.refresh }, V522)).status).toBe(200);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM token_ledger WHERE jti = ?1")
      .bind(r.jti)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
  });

  it("5.5.1: the access's own iat", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const user = await seedUser();
    const pair = await obtain(target, user.userName, V551);
    clock.advance(600);
    const body = await (await postJson(target, PATHS.refresh, { refresh: pair.refresh }, V551)).json<{
      access: string;
    }>();
    expect(claimsOf(body.access)).toMatchObject({
      iat: Math.floor(clock() / 1000),
      iat_ms: clock(),
      user_id: String(user.userId),
    });
  });

  it("a token of the origin's (no fam, a custom claim, no user_id): custom claim copied, 200 on 5.5.1 too", async () => {
    const token = await mintSj({ test_claim: "arst" });
    const body = await (await postJson(quickApp(), PATHS.refresh, { refresh: token }, V551)).json<{ access: string }>();
    expect(claimsOf(body.access)).toMatchObject({ test_claim: "arst", fam: claimsOf(token).jti });
  });
});

describe("refresh: the user check (5.4.0+)", () => {
  it("an inactive user: 5.2.2 200, 5.5.1 401 No active account found for the given token.", async () => {
    const user = await seedUser({ active: false });
    const token = await mintSj({ user_id: user.userId });
    expect((await postJson(quickApp(), PATHS.refresh, { refresh: token }, V522)).status).toBe(200);
    const refused = await postJson(quickApp(), PATHS.refresh, { refresh: token }, V551);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toBe('{"detail":"No active account found for the given token."}');
    expect(refused.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
    const v540 = await postJson(quickApp(), PATHS.refresh, { refresh: token }, sjEnv({ SIMPLE_JWT_VERSION: "5.4.0" }));
    expect(v540.status).toBe(401);
  });

  it('a deleted user (the origin\'s 500) is the same 401 on 5.5.1; a string "id" resolves the int pk', async () => {
    const gone = await mintSj({ user_id: 987654321 });
    const refused = await postJson(quickApp(), PATHS.refresh, { refresh: gone }, V551);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ detail: "No active account found for the given token." });
    const user = await seedUser();
    expect(
      (await postJson(quickApp(), PATHS.refresh, { refresh: await mintSj({ user_id: String(user.userId) }) }, V551))
        .status,
    ).toBe(200);
  });

  it("sessions ended at the origin (sessions_revoked_at): Token is blacklisted (the edge's)", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const user = await seedUser();
    const pair = await obtain(target, user.userName, V522);
    clock.advance(1);
    await env.DB.prepare("UPDATE users_user SET sessions_revoked_at = ?2 WHERE id = ?1")
      .bind(user.userId, clock())
      .run();
    await expectInvalid(await postJson(target, PATHS.refresh, { refresh: pair.refresh }, V522), "Token is blacklisted");
    await expectInvalid(
      await postJson(target, PATHS.refresh, { refresh: pair.refresh }, sjEnv(SPEND)),
      "Token is blacklisted",
    );
  });
});

describe("refresh: rotation", () => {
  it("ROTATE without BLACKLIST: {access, refresh}; the new refresh keeps the claims with a new jti, exp and iat; the old one still works", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const user = await seedUser();
    const pair = await obtain(target, user.userName, sjEnv(ROTATE));
    clock.advance(60);
    const response = await postJson(target, PATHS.refresh, { refresh: pair.refresh }, sjEnv(ROTATE));
    const text = await response.text();
    expect(Object.keys(JSON.parse(text))).toEqual(["access", "refresh"]);
    const old = claimsOf(pair.refresh);
    const next = claimsOf(JSON.parse(text).refresh);
    expect(Object.keys(next)).toEqual(Object.keys(old));
    expect(next).toMatchObject({
      user_id: user.userId,
      fam: old.fam,
      iat: Math.floor(clock() / 1000),
      exp: Math.floor(clock() / 1000) + 2592000,
    });
    expect(next.jti).not.toBe(old.jti);
    expect((await postJson(target, PATHS.refresh, { refresh: pair.refresh }, sjEnv(ROTATE))).status).toBe(200);
  });

  it("ROTATE and BLACKLIST_AFTER_ROTATION: the old token is spent (401 blacklisted; verify 400); the new one refreshes on", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const user = await seedUser();
    const settings = sjEnv(SPEND);
    const pair = await obtain(target, user.userName, settings);
    const first = await (await postJson(target, PATHS.refresh, { refresh: pair.refresh }, settings)).json<{
      refresh: string;
    }>();
    await expectInvalid(
      await postJson(target, PATHS.refresh, { refresh: pair.refresh }, settings),
      "Token is blacklisted",
    );
    const verified = await postJson(target, PATHS.verify, { token: pair.refresh }, settings);
    expect(verified.status).toBe(400);
    expect(await verified.text()).toBe('{"non_field_errors":["Token is blacklisted"]}');
    clock.advance(1);
    expect((await postJson(target, PATHS.refresh, { refresh: first.refresh }, settings)).status).toBe(200);
  });

  it("reuse once the successor was used revokes the family: the newest token is refused too", async () => {
    const clock = manualClock();
    const target = quickApp({ clock });
    const user = await seedUser();
    const settings = sjEnv(SPEND);
    const pair = await obtain(target, user.userName, settings);
    const first = await (await postJson(target, PATHS.refresh, { refresh: pair.refresh }, settings)).json<{
      refresh: string;
    }>();
    const second = await (await postJson(target, PATHS.refresh, { refresh: first.refresh }, settings)).json<{
      refresh: string;
    }>();
    await expectInvalid(
      await postJson(target, PATHS.refresh, { refresh: pair.refresh }, settings),
      "Token is blacklisted",
    );
    await expectInvalid(
      await postJson(target, PATHS.refresh, { refresh: second.refresh }, settings),
      "Token is blacklisted",
    );
  });

  it.each([1, 2])(
    "exactly once: 25 concurrent refreshes of one token, one pair, 24 blacklisted, one ledger row (round %i)",
    async () => {
      const user = await seedUser();
      const settings = sjEnv({ ...SPEND, SIMPLE_JWT_VERSION: "5.5.1" });
      const target = quickApp();
      const pair = await obtain(target, user.userName, settings);
      const results = await Promise.all(
        Array.from({ length: 25 }, async () => {
          const response = await postJson(target, PATHS.refresh, { refresh: pair.refresh }, settings);
          return { status: response.status, text: await response.text() };
        }),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      const losers = results.filter((r) => r.status !== 200);
      expect(losers).toHaveLength(24);
      for (const loser of losers) expect(loser.text).toBe('{"detail":"Token is blacklisted","code":"token_not_valid"}');
      const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM token_ledger WHERE jti = ?1")
        .bind(claimsOf(pair.refresh).jti)
        .first<{ n: number }>();
      expect(rows!.n).toBe(1);
    },
  );
});
