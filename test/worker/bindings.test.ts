/** Missing bindings are a misconfiguration: a 500 whose log line names the binding, not a "transient" 503. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { workerApiOptions } from "../../worker/env";
import { app, env, mintToken, postJson, seed } from "../support/harness";

const worker = app();
const PATH = "/api/org_token/refresh/";
const JSON_TYPE = { "Content-Type": "application/json" };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("missing bindings", () => {
  it.each([
    ["DB", "D1 database"],
    ["BLACKLIST", "KV namespace"],
  ])("without %s: 500 misconfigured, no Retry-After, a log line naming it", async (binding, what) => {
    const errors = vi.spyOn(console, "error");
    const token = await mintToken(await seed());
    const response = await postJson(worker, PATH, { refresh: token }, { [binding]: undefined });
    expect(response.status).toBe(500);
    expect(response.headers.get("Retry-After")).toBeNull();
    expect(await response.json()).toEqual({
      detail: "Server misconfigured: the token service cannot sign or verify tokens.",
    });
    const lines = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as { event: string; message: string });
    expect(lines).toContainEqual({
      level: "error",
      event: "config_error",
      message: `${binding} (the ${what} binding) is not bound`,
    });
    // Nothing was consumed: with the binding back, the token still refreshes.
    expect((await postJson(worker, PATH, { refresh: token })).status).toBe(200);
  });

  it("a value that is not a binding (a var by the same name) is missing too", async () => {
    const errors = vi.spyOn(console, "error");
    const response = await postJson(worker, PATH, { refresh: "x" }, { DB: "oops" as unknown as D1Database });
    expect(response.status).toBe(500);
    expect(errors.mock.calls.flat().join("\n")).toContain("DB (the D1 database binding) is not bound");
  });
});

describe("the env, read once per env object", () => {
  it("one env object, request after request: bindings, settings and the origin read once; a change in place unseen", async () => {
    const { orgTokenApi } = await import("../../src/api");
    const reads = { bindings: 0, settings: 0, originUrl: 0 };
    const api = orgTokenApi<typeof env>({
      ...workerApiOptions,
      bindings: (e) => {
        reads.bindings++;
        return workerApiOptions.bindings(e);
      },
      settings: (e) => {
        reads.settings++;
        return workerApiOptions.settings!(e);
      },
      originUrl: (e) => {
        reads.originUrl++;
        return workerApiOptions.originUrl!(e);
      },
    });
    // As a Worker's isolate gets it: the same object on every request.
    const hostEnv = { ...env, ACCESS_TOKEN_LIFETIME: "60", ORIGIN_URL: undefined };
    const s = await seed();
    const refreshOnce = async (on: typeof env) => {
      const body = JSON.stringify({ refresh: await mintToken(s) });
      const request = new Request(`https://api.example${PATH}`, { method: "POST", body, headers: JSON_TYPE });
      const response = await api.fetch(request, on);
      expect(response.status).toBe(200);
      return (await response.json<Record<string, string>>()).access_lifetime;
    };
    expect(await refreshOnce(hostEnv)).toBe("60.0");
    expect(await refreshOnce(hostEnv)).toBe("60.0");
    // A path the API does not own asks where the origin is (none here: the contract's 404).
    expect((await api.fetch(new Request("https://api.example/elsewhere/"), hostEnv)).status).toBe(404);
    expect((await api.fetch(new Request("https://api.example/elsewhere/"), hostEnv)).status).toBe(404);
    expect(reads).toEqual({ bindings: 1, settings: 1, originUrl: 1 });
    // Changed in place, the same object is not read again (docs/mounting.md: a host passes a new one)...
    hostEnv.ACCESS_TOKEN_LIFETIME = "120";
    expect(await refreshOnce(hostEnv)).toBe("60.0");
    expect(reads).toEqual({ bindings: 1, settings: 1, originUrl: 1 });
    // ...a new object is.
    expect(await refreshOnce({ ...hostEnv })).toBe("120.0");
    expect(reads).toEqual({ bindings: 2, settings: 2, originUrl: 1 });
  });

  it("a host whose bindings ignore env works without one, request after request", async () => {
    const { orgTokenApi } = await import("../../src/api");
    const api = orgTokenApi<object>({
      bindings: () => ({ db: env.DB, kv: env.BLACKLIST, secret: env.JWT_SECRET_KEY }),
    });
    const token = await mintToken(await seed());
    for (let i = 0; i < 2; i++) {
      const response = await api.fetch(
        new Request("https://api.example/api/org_token/refresh/", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh: i === 0 ? token : "not a token" }),
        }),
        undefined as unknown as object, // as a runtime that passes no env does
      );
      expect(response.status).toBe(i === 0 ? 200 : 403);
    }
  });

  it("a new env object is read afresh: a setting changed between two objects takes effect", async () => {
    const s = await seed();
    const first = await postJson(worker, PATH, { refresh: await mintToken(s) }, { ACCESS_TOKEN_LIFETIME: "60" });
    const second = await postJson(worker, PATH, { refresh: await mintToken(s) }, { ACCESS_TOKEN_LIFETIME: "120" });
    expect((await first.json<Record<string, string>>()).access_lifetime).toBe("60.0");
    expect((await second.json<Record<string, string>>()).access_lifetime).toBe("120.0");
  });
});
