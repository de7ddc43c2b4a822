/** Storage unavailable, on every route: 503 with Retry-After, nothing issued, nothing consumed. */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { buildApi } from "../../src/app";
import { workerApiOptions } from "../../worker/env";
import { faultyStores, type Step } from "../support/faults";
import { app, call, claimsOf, env, mintToken, postJson, QUICK_HASH, quickApp, seed, vectors } from "../support/harness";

const PASSWORD = vectors.django_password_hashes.password;

async function expect503(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get("Retry-After")).toMatch(/^\d+$/);
  const text = await response.text();
  expect(JSON.parse(text)).toHaveProperty("detail");
  expect(text).not.toMatch(/eyJ/);
}

describe("storage failures", () => {
  it("requireOrgToken takes its stores from the same seam: D1's read failing is a 503 there too", async () => {
    const s = await seed();
    const access = await mintToken(s, { type: "access" });
    const guarded = (stores?: ReturnType<typeof faultyStores>) => {
      const api = buildApi(workerApiOptions, stores ? { stores } : {});
      const host = new Hono<{ Bindings: typeof env }>();
      host.get("/private", api.requireOrgToken(), (c) => c.json({ user: c.var.orgToken.userName }));
      return host;
    };
    const request = () => new Request("http://host.test/private", { headers: { Authorization: `Bearer ${access}` } });
    await expect503(await guarded(faultyStores("replica.read")).fetch(request(), env));
    expect((await guarded().fetch(request(), env)).status).toBe(200);
  });

  it.each<Step>(["primary.batch", "replica.read"])(
    "login when %s fails: 503, and it works afterwards",
    async (step) => {
      // The test password work: the fault is the point, not the hash.
      const s = await seed({ passwordHash: QUICK_HASH });
      const body = { username: s.userName, password: PASSWORD, org_name: s.orgName };
      await expect503(await postJson(quickApp({ stores: faultyStores(step) }), "/api/org_token/", body));
      expect((await postJson(quickApp(), "/api/org_token/", body)).status).toBe(200);
    },
  );

  it.each<Step>(["primary.batch"])("logout when %s fails: 503, and the token is not blacklisted", async (step) => {
    const s = await seed();
    const token = await mintToken(s);
    await expect503(await postJson(app({ stores: faultyStores(step) }), "/api/token/blacklist/", { refresh: token }));
    expect(
      await env.DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1").bind(claimsOf(token).jti).first(),
    ).toBeNull();
    expect((await postJson(app(), "/api/org_token/refresh/", { refresh: token })).status).toBe(200);
  });

  it("logout whose batch committed but whose answer was lost: 200, blacklisted once", async () => {
    const s = await seed({ membership: "inactive" });
    const token = await mintToken(s);
    const response = await postJson(app({ stores: faultyStores("primary.batch+committed") }), "/api/token/blacklist/", {
      refresh: token,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    const again = await postJson(app(), "/api/token/blacklist/", { refresh: token });
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
  });

  it("logout needs neither KV nor the read replica", async () => {
    const s = await seed();
    const token = await mintToken(s);
    const response = await postJson(
      app({ stores: faultyStores("kv.get", "kv.put", "replica.read") }),
      "/api/token/blacklist/",
      { refresh: token },
    );
    expect(response.status).toBe(200);
    expect(
      await env.DB.prepare("SELECT reason FROM token_ledger WHERE jti = ?1").bind(claimsOf(token).jti).first(),
    ).toEqual({ reason: "logout" });
  });

  it("membership status when the replica read fails: 503", async () => {
    const s = await seed();
    const access = await mintToken(s, { type: "access" });
    const path = `/api/membership_status/${s.orgName}/`;
    await expect503(
      await call(app({ stores: faultyStores("replica.read") }), path, {
        headers: { Authorization: `Bearer ${access}` },
      }),
    );
    expect(await (await call(app(), path, { headers: { Authorization: `Bearer ${access}` } })).json()).toEqual({
      active: true,
    });
  });
});
