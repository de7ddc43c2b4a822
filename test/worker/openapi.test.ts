/** The OpenAPI document: generated from the route table, covering every route and status of the contract. */
import { describe, expect, it } from "vitest";
import { app, call } from "../support/harness";

const CONTRACT: Record<string, Record<string, number[]>> = {
  "/api/org_token/": { post: [200, 400, 401, 403, 413, 415, 429, 503] },
  "/api/org_token/refresh/": { post: [200, 400, 403, 413, 415, 503] },
  "/api/token/blacklist/": { post: [200, 400, 403, 503] },
  "/api/membership_status/{org_name}/": { get: [200, 400, 403, 503] },
};

describe("GET /api/schema/", () => {
  it("is an OpenAPI 3.1 document with every route and every status of the contract", async () => {
    const response = await call(app(), "/api/schema/");
    expect(response.status).toBe(200);
    const doc = await response.json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
    expect(doc.openapi).toBe("3.1.0");
    for (const [path, methods] of Object.entries(CONTRACT)) {
      for (const [method, statuses] of Object.entries(methods)) {
        const operation = doc.paths[path]?.[method];
        expect(operation, `${method} ${path}`).toBeDefined();
        for (const status of statuses) expect(Object.keys(operation!.responses), `${method} ${path}`).toContain(String(status));
      }
    }
  });

  it("carries the contract's exact error bodies as examples", async () => {
    const doc = await (await call(app(), "/api/schema")).json<any>();
    const refresh403 = doc.paths["/api/org_token/refresh/"].post.responses["403"].content["application/json"].examples;
    expect(refresh403.token_blacklisted.value).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
    const login401 = doc.paths["/api/org_token/"].post.responses["401"].content["application/json"].examples;
    expect(login401.bad_credentials.value).toEqual({ detail: "No active account found with the given credentials" });
  });

  it("every documented path is served (no route missing from the app)", async () => {
    const doc = await (await call(app(), "/api/schema/")).json<any>();
    for (const path of Object.keys(doc.paths)) {
      const concrete = path.replace("{org_name}", "SomeOrg");
      const method = Object.keys(doc.paths[path])[0]!.toUpperCase();
      const response = await call(app(), concrete, { method, headers: { "Content-Type": "application/json" }, body: method === "GET" ? null : "{}" });
      expect(response.status, path).not.toBe(404);
    }
  });
});
