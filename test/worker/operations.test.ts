/** Operations: one JSON log line per request, never a credential in it; the health route. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { log } from "../../src/log";
import { faultyStores, type Step } from "../support/faults";
import { app, call, mintToken, postJson, QUICK_HASH, quickApp, SECRET, seed, vectors } from "../support/harness";

let lines: string[] = [];
beforeEach(() => {
  lines = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  }
});
afterEach(() => vi.restoreAllMocks());

/** The request lines logged so far, parsed. */
function requestLines(): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event === "request");
}

describe("the request log", () => {
  it("one line per request, with route, status, duration, user, organization and outcome", async () => {
    const s = await seed();
    const access = await mintToken(s, { type: "access" });
    const response = await call(app(), `/api/membership_status/${s.orgName}/?x=1`, {
      headers: { Authorization: `Bearer ${access}` },
    });
    expect(response.status).toBe(200);
    expect(requestLines()).toEqual([
      {
        level: "info",
        event: "request",
        method: "GET",
        route: "/api/membership_status/{org_name}/",
        status: 200,
        duration_ms: expect.any(Number),
        user_id: s.userId,
        org: s.orgName,
        outcome: "active",
      },
    ]);
  });

  it.each([
    ["an invalid token", "invalid", 403],
    ["a blacklisted token", "blacklisted", 403],
  ])("the outcome of %s comes from the answer itself", async (_name, outcome, status) => {
    const s = await seed();
    const token = outcome === "invalid" ? "not-a-token" : await mintToken(s);
    if (outcome === "blacklisted") await postJson(app(), "/api/token/blacklist/", { refresh: token });
    lines = [];
    await postJson(app(), "/api/org_token/refresh/", { refresh: token });
    expect(requestLines()).toEqual([expect.objectContaining({ route: "/api/org_token/refresh/", status, outcome })]);
  });

  it("REQUEST_LOG chooses the lines: all (default), errors (status 400 and up), off; anything else is a 500", async () => {
    const s = await seed();
    const outcomes = async (overrides: Record<string, string>) => {
      lines = [];
      const token = await mintToken(s);
      await postJson(app(), "/api/org_token/refresh/", { refresh: token }, overrides); // 200
      await postJson(app(), "/api/org_token/refresh/", { refresh: token }, overrides); // 403 blacklisted
      return requestLines().map((line) => line.outcome);
    };
    expect(await outcomes({})).toEqual(["rotated", "blacklisted"]);
    expect(await outcomes({ REQUEST_LOG: "all" })).toEqual(["rotated", "blacklisted"]);
    expect(await outcomes({ REQUEST_LOG: "errors" })).toEqual(["blacklisted"]);
    expect(await outcomes({ REQUEST_LOG: "off" })).toEqual([]);
    lines = [];
    const response = await postJson(app(), "/api/org_token/refresh/", { refresh: "x" }, { REQUEST_LOG: "some" });
    expect(response.status).toBe(500);
    expect(lines.map((line) => JSON.parse(line))).toContainEqual({
      level: "error",
      event: "config_error",
      message: "REQUEST_LOG must be one of all, errors, off",
    });
  });

  it("throttled logins, unknown paths and misconfiguration are named too, without the path's query", async () => {
    const s = await seed();
    const body = { username: s.userName, password: "wrong", org_name: s.orgName };
    const limit = { LOGIN_USER_FAILURE_LIMIT: "1" };
    // The test password work: the line is the point here, not the hash.
    await postJson(quickApp(), "/api/org_token/", body, limit);
    await postJson(quickApp(), "/api/org_token/", body, limit);
    await call(app(), "/api/elsewhere/?token=abcdef123");
    await call(app(), "/api/org_token/health/", {}, { JWT_SECRET_KEY: "short" });
    expect(requestLines().map(({ route, status, outcome }) => ({ route, status, outcome }))).toEqual([
      { route: "/api/org_token/", status: 401, outcome: "bad_credentials" },
      { route: "/api/org_token/", status: 429, outcome: "throttled" },
      { route: "(none)", status: 404, outcome: "not_found" },
      { route: "/api/org_token/health/", status: 500, outcome: "misconfigured" },
    ]);
    expect(lines.join("\n")).not.toContain("abcdef123");
    expect(requestLines().at(-1)?.level).toBe("error");
  });

  it("no line holds a token, a password or a secret", async () => {
    const s = await seed({ passwordHash: QUICK_HASH }); // the test password work's: the lines are the point
    const password = vectors.django_password_hashes.password;
    const login = await postJson(quickApp(), "/api/org_token/", {
      username: s.userName,
      password,
      org_name: s.orgName,
    });
    const pair = await login.json<{ access: string; refresh: string }>();
    await postJson(app(), "/api/org_token/refresh/", { refresh: pair.refresh });
    await postJson(app(), "/api/org_token/refresh/", { refresh: pair.refresh }); // reuse
    await call(app(), `/api/membership_status/${s.orgName}/`, { headers: { Authorization: `Bearer ${pair.access}` } });
    await postJson(quickApp(), "/api/org_token/", {
      username: s.userName,
      password: `${password}x`,
      org_name: s.orgName,
    });
    expect(requestLines()).toHaveLength(5);
    for (const line of lines) {
      for (const secret of [pair.access, pair.refresh, password, SECRET])
        expect(line).not.toContain(secret.slice(0, 20));
    }
  });

  it("log() drops any field whose name could hold a credential", () => {
    log("warn", "example", {
      user_id: 1,
      refresh: "r",
      access_token: "a",
      password: "p",
      Authorization: "b",
      secret_key: "s",
    });
    expect(lines.map((line) => JSON.parse(line))).toEqual([{ level: "warn", event: "example", user_id: 1 }]);
  });
});

describe("GET /api/org_token/health/", () => {
  it("200 {status: ok} when D1 and KV answer, never cached", async () => {
    const response = await call(app(), "/api/org_token/health/");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(requestLines()).toEqual([expect.objectContaining({ route: "/api/org_token/health/", outcome: "healthy" })]);
  });

  it.each([
    [["primary.run"], ["d1"]],
    [["kv.get"], ["kv"]],
    [
      ["primary.run", "kv.get"],
      ["d1", "kv"],
    ],
  ] as [Step[], string[]][])("%s failing: 503 naming %s, without the error's text", async (steps, failed) => {
    const response = await call(app({ stores: faultyStores(...steps) }), "/api/org_token/health/");
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ status: "unavailable", failed });
    expect(text).not.toContain("injected");
    // The cause is in the log, for whoever runs the service.
    expect(lines.some((line) => line.includes("health_check_failed") && line.includes("injected failure"))).toBe(true);
  });

  it("is in the OpenAPI document, and other methods get a 405", async () => {
    const document = await (await call(app(), "/api/schema/")).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(Object.keys(document.paths["/api/org_token/health/"] ?? {})).toEqual(["get"]);
    const post = await call(app(), "/api/org_token/health/", { method: "POST" });
    expect(post.status).toBe(405);
  });
});
