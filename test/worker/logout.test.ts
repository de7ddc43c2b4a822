/** POST /api/token/blacklist/: every row, and the same blacklist refresh consults. */
import { describe, expect, it } from "vitest";
import { app, BLACKLISTED, claimsOf, env, manualClock, mintToken, postJson, seed, vectors } from "../support/harness";

const LOGOUT = "/api/token/blacklist/";
/** simplejwt's TokenBlacklistView: InvalidToken(<reason>) as 401, with its WWW-Authenticate header. */
const rejected = (detail: string) => ({ detail, code: "token_not_valid" });

async function expectRejected(response: Response, detail: string) {
  expect(response.status).toBe(401);
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  expect(await response.text()).toBe(JSON.stringify(rejected(detail)));
}
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

  it("inactive member: 200 {} as for anyone (the view reads no membership), blacklisted all the same", async () => {
    const s = await seed({ membership: "inactive" });
    const token = await mintToken(s);
    const response = await postJson(worker, LOGOUT, { refresh: token });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("{}");
    expect(await (await postJson(worker, REFRESH, { refresh: token })).json()).toEqual(BLACKLISTED);
  });

  it.each([
    ["a non-member", { membership: null }],
    ["a disabled account", { userActive: false }],
  ] as const)("blacklists whatever the standing: %s gets 200 {} too", async (_name, options) => {
    const s = await seed(options);
    const token = await mintToken(s);
    const response = await postJson(worker, LOGOUT, { refresh: token });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("{}");
    expect(await (await postJson(worker, REFRESH, { refresh: token })).json()).toEqual(BLACKLISTED);
  });

  it("an unknown organization in the token: 200 {}", async () => {
    const s = await seed();
    const token = await mintToken({ ...s, orgName: "NoSuchOrg_logout" });
    const response = await postJson(worker, LOGOUT, { refresh: token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
  });

  it("already blacklisted: 401 Token is blacklisted", async () => {
    const s = await seed();
    const token = await mintToken(s);
    await postJson(worker, LOGOUT, { refresh: token });
    await expectRejected(await postJson(worker, LOGOUT, { refresh: token }), "Token is blacklisted");
  });

  it("a rotated token: 401 Token is blacklisted", async () => {
    const s = await seed();
    const token = await mintToken(s);
    expect((await postJson(worker, REFRESH, { refresh: token })).status).toBe(200);
    await expectRejected(await postJson(worker, LOGOUT, { refresh: token }), "Token is blacklisted");
  });

  it.each([
    ["forged", { secret: "the-attackers-secret-is-long-enough-too-00" }, "Token is invalid or expired"],
    ["expired", { nowMs: Date.now() - 10_000_000, lifetime: 60 }, "Token is invalid or expired"],
    ["HS512", { alg: "HS512" }, "Token is invalid or expired"],
    ["an access token", { type: "access" }, "Token has wrong type"],
    ["without token_type", { claims: { token_type: undefined } }, "Token has no type"],
    ["without exp", { claims: { exp: undefined } }, "Token has no 'exp' claim"],
    ["without jti", { claims: { jti: undefined } }, "Token has no id"],
  ])("invalid token (%s): 401 with simplejwt's reason, and nothing is blacklisted", async (_name, options, detail) => {
    const s = await seed();
    const token = await mintToken(s, options);
    await expectRejected(await postJson(worker, LOGOUT, { refresh: token }), detail);
    expect(
      await env.DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1")
        .bind(claimsOf(token).jti ?? "")
        .first(),
    ).toBeNull();
  });

  it("the vector forgeries are refused", async () => {
    for (const [name, token] of Object.entries(vectors.invalid)) {
      const response = await postJson(worker, LOGOUT, { refresh: token }, { JWT_SECRET_KEY: vectors.secret });
      const detail = name === "access_token_used_as_refresh" ? "Token has wrong type" : "Token is invalid or expired";
      await expectRejected(response, detail);
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
