/** GET /api/membership_status/<org_name>/: every row. */
import { describe, expect, it } from "vitest";
import { app, call, env, mintToken, seed, setMembership, vectors } from "../support/harness";

const worker = app();
const path = (org: string) => `/api/membership_status/${encodeURIComponent(org)}/`;
const get = (org: string, authorization?: string, envOverrides = {}) =>
  call(
    worker,
    path(org),
    { headers: authorization === undefined ? {} : { Authorization: authorization } },
    envOverrides,
  );
const NO_TOKEN = { status: "FAILED", error_msg: "No token is provided in the header or the header is missing" };
const NOT_VALID = { detail: "Given token not valid for any token type" };

describe("membership status", () => {
  it("member: 200 {active: true}, then {active: false} once deactivated", async () => {
    const s = await seed();
    const access = await mintToken(s, { type: "access" });
    const response = await get(s.orgName, `Bearer ${access}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ active: true });
    await setMembership(s, false);
    expect(await (await get(s.orgName, `Bearer ${access}`)).json()).toEqual({ active: false });
  });

  it.each([undefined, "", "Bearer", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz"])(
    "no bearer token (%s): 400 FAILED",
    async (header) => {
      const s = await seed();
      const response = await get(s.orgName, header);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(NO_TOKEN);
    },
  );

  it.each([
    ["a refresh token", { type: "refresh" }],
    ["an expired access token", { type: "access", nowMs: Date.now() - 100_000_000 }],
    ["a forged access token", { type: "access", secret: "the-attackers-secret-is-long-enough-too-00" }],
    ["an HS512 access token", { type: "access", alg: "HS512" }],
  ])("%s: 403 not valid", async (_name, options) => {
    const s = await seed();
    const response = await get(s.orgName, `Bearer ${await mintToken(s, options)}`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(NOT_VALID);
  });

  it("garbage in the header: 403 not valid", async () => {
    const s = await seed();
    expect(await (await get(s.orgName, "Bearer not.a.jwt")).json()).toEqual(NOT_VALID);
  });

  it("a token for another organization: 400 wrong organization", async () => {
    const s = await seed();
    const other = await seed();
    const response = await get(other.orgName, `Bearer ${await mintToken(s, { type: "access" })}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ status: "FAILED", error_msg: "Token with wrong organization" });
  });

  it("not a member: 403", async () => {
    const s = await seed({ membership: null });
    const response = await get(s.orgName, `Bearer ${await mintToken(s, { type: "access" })}`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${s.userName} is NOT a member of ${s.orgName}` });
  });

  it("simplejwt's own access token (vector) is accepted", async () => {
    const { claims, token } = vectors.valid.access;
    await env.DB.prepare("INSERT OR IGNORE INTO users_user (id, username) VALUES (?1, ?2)")
      .bind(claims.user_id, claims.user_name)
      .run();
    const org = await env.DB.prepare("INSERT INTO users_orgaccount (name) VALUES (?1) RETURNING id")
      .bind(claims.org_name)
      .first<{ id: number }>();
    await env.DB.prepare("INSERT INTO users_membership (user_id, org_id, active) VALUES (?1, ?2, 1)")
      .bind(claims.user_id, org!.id)
      .run();
    const response = await get(claims.org_name, `Bearer ${token}`, { JWT_SECRET_KEY: vectors.secret });
    expect(await response.json()).toEqual({ active: true });
    const refreshAsAccess = await get(claims.org_name, `Bearer ${vectors.valid.refresh.token}`, {
      JWT_SECRET_KEY: vectors.secret,
    });
    expect(await refreshAsAccess.json()).toEqual(NOT_VALID);
  });

  it("matches without the trailing slash; POST is 405", async () => {
    const s = await seed();
    const access = await mintToken(s, { type: "access" });
    const bare = await call(worker, `/api/membership_status/${s.orgName}`, {
      headers: { Authorization: `Bearer ${access}` },
    });
    expect(await bare.json()).toEqual({ active: true });
    const post = await call(worker, path(s.orgName), { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
  });
});
