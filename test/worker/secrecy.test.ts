/** No response echoes a presented token; no log line holds a token, a password or a secret. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { faultyStores } from "../support/faults";
import {
  app,
  call,
  manualClock,
  mintToken,
  postJson,
  QUICK_HASH,
  quickApp,
  SECRET,
  seed,
  vectors,
} from "../support/harness";

const PASSWORD = vectors.django_password_hashes.password;
let logged: string[] = [];

beforeEach(() => {
  logged = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    });
  }
});
afterEach(() => vi.restoreAllMocks());

describe("secrecy", () => {
  it("malformed JSON bodies are described by position, never quoted", async () => {
    const s = await seed();
    const token = await mintToken(s);
    const raw = `{"refresh": ${token}}`; // unquoted: invalid JSON around a real token
    const response = await call(app(), "/api/org_token/refresh/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: raw,
    });
    expect(response.status).toBe(400);
    const body = await response.json<{ detail: string }>();
    expect(body.detail).toMatch(/^JSON parse error - Expecting value/);
    expect(body.detail).not.toContain(token.slice(0, 10));
    const truncated = await call(app(), "/api/org_token/refresh/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"refresh": "abc',
    });
    expect(await truncated.json()).toEqual({
      detail: "JSON parse error - Unterminated string starting at: line 1 column 13 (char 12)",
    });

    const login = await call(app(), "/api/org_token/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: `{"username": "u", "password": hunter2secret, "org_name": "o"}`,
    });
    expect(await login.text()).not.toContain("hunter2");
  });

  it("a whole day of successes, failures, reuse, a storage fault and a misconfiguration logs no token, password or secret", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const clock = manualClock();
    const target = quickApp({ clock }); // the test password work: the logins are not about the hash
    const secrets: string[] = [SECRET, PASSWORD];
    const login = await postJson(target, "/api/org_token/", {
      username: s.userName,
      password: PASSWORD,
      org_name: s.orgName,
    });
    const pair = await login.json<Record<string, string>>();
    secrets.push(pair.access!, pair.refresh!);
    await postJson(target, "/api/org_token/", { username: s.userName, password: `${PASSWORD}x`, org_name: s.orgName });
    await postJson(target, "/api/org_token/", { username: PASSWORD, password: PASSWORD, org_name: s.orgName });
    const refresh = async (token: string) =>
      (await postJson(target, "/api/org_token/refresh/", { refresh: token })).json<Record<string, string>>();
    clock.advance(3600);
    const next = await refresh(pair.refresh!);
    clock.advance(3600);
    const third = await refresh(next.refresh!); // the successor is used: the chain moved on
    secrets.push(next.access!, next.refresh!, third.access!, third.refresh!);
    clock.advance(3600);
    await refresh(pair.refresh!); // a spent token after its successor was used: reuse, the family revoked
    // A refresh whose deciding batch fails: a storage error.
    await postJson(app({ clock, stores: faultyStores("primary.batch") }), "/api/org_token/refresh/", {
      refresh: third.refresh,
    });
    await postJson(target, "/api/org_token/refresh/", {}, { JWT_SECRET_KEY: "short" });

    const events = logged.map((line) => (JSON.parse(line) as { event: string }).event);
    expect(events).toContain("refresh_token_reuse");
    expect(events).toContain("storage_error");
    expect(events).toContain("config_error");
    for (const line of logged) {
      for (const secret of secrets) expect(line).not.toContain(secret.slice(0, 24));
      expect(line).not.toContain(SECRET);
    }
  });

  it("a username of any length fails as a login, not as storage (throttle keys are short ids)", async () => {
    const s = await seed();
    const response = await postJson(quickApp(), "/api/org_token/", {
      username: "u".repeat(4000),
      password: "x",
      org_name: s.orgName,
    });
    expect(response.status).toBe(401);
    const { env } = await import("cloudflare:workers");
    const keys = await env.DB.prepare("SELECT key FROM login_attempts").all<{ key: string }>();
    expect(keys.results.length).toBeGreaterThan(0);
    for (const { key } of keys.results) {
      expect(key.length).toBeLessThan(64);
      expect(key).not.toContain("uuuu");
    }
  });
});
