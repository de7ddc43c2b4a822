/** POST /api/token/blacklist/: every row, and the same blacklist refresh consults. */
import { describe, expect, it } from "vitest";
import {
  app,
  BLACKLISTED,
  claimsOf,
  env,
  manualClock,
  mintToken,
  postJson,
  seed,
  TOKEN_NOT_VALID,
  vectors,
} from "../support/harness";

const LOGOUT = "/api/token/blacklist/";
const REFRESH = "/api/org_token/refresh/";
const worker = app();

describe("logout", () => {
  it("active member: 200 {}, and refresh then answers the blacklisted 403", async () => {
    const s = await seed();
    const token = await mintToken(s);
    const response = await postJson(worker, LOGOUT, { refresh: token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    const { jti } = claimsOf(token);
    expect(await env.DB.prepare("SELECT reason FROM token_ledger WHERE jti = ?1").bind(jti).first()).toEqual({
      reason: "logout",
    });

    const refresh = await postJson(worker, REFRESH, { refresh: token });
    expect(refresh.status).toBe(403);
    expect(await refresh.json()).toEqual(BLACKLISTED);
  });

  it("inactive member: 200 {active: false}, blacklisted all the same", async () => {
    const s = await seed({ membership: "inactive" });
    const token = await mintToken(s);
    const response = await postJson(worker, LOGOUT, { refresh: token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ active: false });
    expect(await (await postJson(worker, REFRESH, { refresh: token })).json()).toEqual(BLACKLISTED);
  });

  it("blacklists whatever the membership: a non-member's token too", async () => {
    const s = await seed({ membership: null });
    const token = await mintToken(s);
    expect((await postJson(worker, LOGOUT, { refresh: token })).status).toBe(200);
    expect(await (await postJson(worker, REFRESH, { refresh: token })).json()).toEqual(BLACKLISTED);
  });

  it("already blacklisted: the blacklisted 403", async () => {
    const s = await seed();
    const token = await mintToken(s);
    await postJson(worker, LOGOUT, { refresh: token });
    const again = await postJson(worker, LOGOUT, { refresh: token });
    expect(again.status).toBe(403);
    expect(await again.json()).toEqual(BLACKLISTED);
  });

  it("a rotated token: the blacklisted 403", async () => {
    const s = await seed();
    const token = await mintToken(s);
    expect((await postJson(worker, REFRESH, { refresh: token })).status).toBe(200);
    const response = await postJson(worker, LOGOUT, { refresh: token });
    expect(await response.json()).toEqual(BLACKLISTED);
  });

  it.each([
    ["forged", { secret: "the-attackers-secret-is-long-enough-too-00" }],
    ["an access token", { type: "access" }],
    ["expired", { nowMs: Date.now() - 10_000_000, lifetime: 60 }],
  ])("invalid token (%s): the invalid-token 403, and nothing is blacklisted", async (_name, options) => {
    const s = await seed();
    const token = await mintToken(s, options);
    const response = await postJson(worker, LOGOUT, { refresh: token });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(TOKEN_NOT_VALID);
    expect(
      await env.DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1").bind(claimsOf(token).jti).first(),
    ).toBeNull();
  });

  it("the vector forgeries are refused", async () => {
    for (const token of Object.values(vectors.invalid)) {
      const response = await postJson(worker, LOGOUT, { refresh: token }, { JWT_SECRET_KEY: vectors.secret });
      expect(await response.json()).toEqual(TOKEN_NOT_VALID);
    }
  });

  it("logout is not reuse: the logged-out token's family is not revoked", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const login = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, REFRESH, { refresh: login })).json<Record<string, string>>();
    expect((await postJson(target, LOGOUT, { refresh: pair.refresh })).status).toBe(200);
    expect((await postJson(target, REFRESH, { refresh: pair.refresh })).status).toBe(403);
    const family = claimsOf(login).jti;
    expect(
      await env.DB.prepare("SELECT 1 FROM token_family_revocation WHERE family = ?1").bind(family).first(),
    ).toBeNull();
  });

  it("field errors and 405 as the common behaviour says", async () => {
    const response = await postJson(worker, LOGOUT, {});
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ refresh: ["This field is required."] });
    const get = await worker.fetch(new Request("http://ps.test/api/token/blacklist"), env, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
    expect(get.status).toBe(405);
  });
});
