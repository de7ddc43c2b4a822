/** simplejwt's TokenVerifyView and TokenBlacklistView at the edge. */
import { describe, expect, it } from "vitest";
import { claimsOf, endedEntries, env, mintToken, postJson, quickApp, seed } from "../support/harness";
import { expectInvalid, mintSj, obtain, PATHS, seedUser, sjEnv, V522, V551 } from "../support/simplejwt";

describe("verify: an UntypedToken", () => {
  it("200 {} for a refresh token, an access token and a bogus type; the field error for {}", async () => {
    const target = quickApp();
    for (const token of [
      await mintSj({}),
      await mintSj({}, { type: "access" }),
      await mintSj({ token_type: "fake_type" }),
    ]) {
      const response = await postJson(target, PATHS.verify, { token }, V522);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("{}");
    }
    expect(await (await postJson(target, PATHS.verify, {}, V522)).json()).toEqual({
      token: ["This field is required."],
    });
  });

  it("no exp, no jti, expired: 401 in the version's words", async () => {
    const target = quickApp();
    await expectInvalid(
      await postJson(target, PATHS.verify, { token: await mintSj({ exp: undefined }) }, V522),
      "Token has no 'exp' claim",
    );
    await expectInvalid(
      await postJson(target, PATHS.verify, { token: await mintSj({ jti: undefined }) }, V522),
      "Token has no id",
    );
    const expired = await mintSj({}, { nowMs: Date.now() - 90_000_000 });
    await expectInvalid(await postJson(target, PATHS.verify, { token: expired }, V522), "Token is invalid or expired");
    await expectInvalid(await postJson(target, PATHS.verify, { token: expired }, V551), "Token is expired");
  });

  it("a blacklisted token: 400 non_field_errors only with BLACKLIST_AFTER_ROTATION", async () => {
    const target = quickApp();
    const token = await mintSj({});
    expect((await postJson(target, PATHS.blacklist, { refresh: token }, V522)).status).toBe(200);
    const off = await postJson(target, PATHS.verify, { token }, V522);
    expect(off.status).toBe(200);
    const on = await postJson(target, PATHS.verify, { token }, sjEnv({ BLACKLIST_AFTER_ROTATION: "True" }));
    expect(on.status).toBe(400);
    expect(await on.text()).toBe('{"non_field_errors":["Token is blacklisted"]}');
  });
});

describe("blacklist: the RefreshToken pipeline, then the ledger's logout row", () => {
  it("200 {}; again 401 blacklisted; refresh of it 401 blacklisted; the session's access tokens ended at the edge", async () => {
    const target = quickApp();
    const user = await seedUser();
    const pair = await obtain(target, user.userName, V522);
    const first = await postJson(target, PATHS.blacklist, { refresh: pair.refresh }, V522);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("{}");
    await expectInvalid(
      await postJson(target, PATHS.blacklist, { refresh: pair.refresh }, V522),
      "Token is blacklisted",
    );
    await expectInvalid(await postJson(target, PATHS.refresh, { refresh: pair.refresh }, V522), "Token is blacklisted");
    const row = await env.DB.prepare("SELECT reason FROM token_ledger WHERE jti = ?1")
      .bind(claimsOf(pair.refresh).jti)
      .first<{ reason: string }>();
    expect(row?.reason).toBe("logout");
    expect((await endedEntries()).some((entry) => entry.name.includes(String(claimsOf(pair.refresh).fam)))).toBe(true);
  });

  it("an access token: wrong type; a blacklisted one that also fails a later check: blacklisted first", async () => {
    const target = quickApp();
    await expectInvalid(
      await postJson(target, PATHS.blacklist, { refresh: await mintSj({}, { type: "access" }) }, V551),
      "Token has wrong type",
    );
    const jti = crypto.randomUUID().replaceAll("-", "");
    expect((await postJson(target, PATHS.blacklist, { refresh: await mintSj({ jti }) }, V551)).status).toBe(200);
    const sameIdNoType = await mintSj({ jti, token_type: undefined });
    await expectInvalid(
      await postJson(target, PATHS.blacklist, { refresh: sameIdNoType }, V551),
      "Token is blacklisted",
    );
  });

  it("exactly once: 10 concurrent blacklists of one token, one 200, nine 401", async () => {
    const target = quickApp();
    const token = await mintSj({});
    const statuses = await Promise.all(
      Array.from(
        { length: 10 },
        async () => (await postJson(target, PATHS.blacklist, { refresh: token }, V522)).status,
      ),
    );
    expect(statuses.sort()).toEqual([200, ...Array(9).fill(401)]);
  });

  it("TOKEN_BLACKLIST_PATH at the org-token logout's path replaces it: a simplejwt token and an org token alike", async () => {
    const settings = sjEnv({ TOKEN_BLACKLIST_PATH: "/api/token/blacklist/" });
    const target = quickApp();
    // Without user_id or org claims the org-token logout answered "invalid"; the view blacklists it.
    const plain = await mintSj({});
    expect((await postJson(target, "/api/token/blacklist/", { refresh: plain }, settings)).status).toBe(200);
    const s = await seed();
    const orgToken = await mintToken(s);
    expect((await postJson(target, "/api/token/blacklist/", { refresh: orgToken }, settings)).status).toBe(200);
    const refreshed = await postJson(target, "/api/org_token/refresh/", { refresh: orgToken }, settings);
    expect(refreshed.status).toBe(403);
    expect(await refreshed.json()).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
  });
});

describe("both APIs at once", () => {
  it("an org-token pair and a simplejwt pair from one edge, each refreshed by its own route", async () => {
    const target = quickApp();
    const user = await seedUser();
    const sj = await obtain(target, user.userName, V522);
    expect(claimsOf(sj.access).org_name).toBeUndefined();
    const s = await seed();
    const orgToken = await mintToken(s);
    expect((await postJson(target, "/api/org_token/refresh/", { refresh: orgToken }, V522)).status).toBe(200);
    expect((await postJson(target, PATHS.refresh, { refresh: sj.refresh }, V522)).status).toBe(200);
  });
});
