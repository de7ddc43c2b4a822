/** Secret rotation: JWT_SECRET_KEY signs, JWT_PREVIOUS_SECRET_KEYS still verify, nothing else does. */
import { jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { app, call, manualClock, mintToken, postJson, SECRET, seed, TOKEN_NOT_VALID } from "../support/harness";

const NEW_SECRET = "the-next-secret-key-also-long-enough-9876543210";
const OTHER_SECRET = "a-secret-nobody-configured-here-long-enough-000";
const rotated = { JWT_SECRET_KEY: NEW_SECRET, JWT_PREVIOUS_SECRET_KEYS: JSON.stringify([SECRET]) };
const bytes = (secret: string) => new TextEncoder().encode(secret);

let logged: string[] = [];
beforeEach(() => {
  logged = [];
  for (const method of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
  }
});
afterEach(() => vi.restoreAllMocks());

async function signedBy(token: string, secret: string): Promise<boolean> {
  return jwtVerify(token, bytes(secret), { algorithms: ["HS256"] }).then(
    () => true,
    () => false,
  );
}

describe("secret rotation", () => {
  it("a token signed with a previous key refreshes, and the new pair is signed with the current key", async () => {
    const s = await seed();
    const old = await mintToken(s, { secret: SECRET });
    const response = await postJson(app(), "/api/org_token/refresh/", { refresh: old }, rotated);
    expect(response.status).toBe(200);
    const pair = await response.json<{ refresh: string; access: string }>();
    for (const token of [pair.refresh, pair.access]) {
      expect(await signedBy(token, NEW_SECRET)).toBe(true);
      expect(await signedBy(token, SECRET)).toBe(false);
    }
    // The new refresh token works under the rotated configuration, and once only.
    const next = await postJson(app(), "/api/org_token/refresh/", { refresh: pair.refresh }, rotated);
    expect(next.status).toBe(200);
    const again = await postJson(app(), "/api/org_token/refresh/", { refresh: old }, rotated);
    expect(again.status).toBe(403);
  });

  it("a retry within REFRESH_REUSE_INTERVAL across the rotation gets the same ids: one chain, not two", async () => {
    const clock = manualClock();
    const worker = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { secret: SECRET, nowMs: clock() });
    const grace = { REFRESH_REUSE_INTERVAL: "30" };
    const first = await postJson(worker, "/api/org_token/refresh/", { refresh: token }, grace);
    clock.advance(5);
    const retry = await postJson(worker, "/api/org_token/refresh/", { refresh: token }, { ...grace, ...rotated });
    type Pair = { refresh: string; access: string };
    const [a, b] = [await first.json<Pair>(), await retry.json<Pair>()];
    expect([first.status, retry.status]).toEqual([200, 200]);
    const jti = (jwt: string) => JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).jti;
    // Signed with different secrets, so not the same text; the same ids, so one ledger entry decides.
    expect(b.refresh).not.toBe(a.refresh);
    expect([jti(b.access), jti(b.refresh)]).toEqual([jti(a.access), jti(a.refresh)]);
    expect((await postJson(worker, "/api/org_token/refresh/", { refresh: a.refresh }, rotated)).status).toBe(200);
    expect((await postJson(worker, "/api/org_token/refresh/", { refresh: b.refresh }, rotated)).status).toBe(403);
  });

  it("a token signed with the current key verifies while previous keys are set", async () => {
    const s = await seed();
    const current = await mintToken(s, { secret: NEW_SECRET });
    const response = await postJson(app(), "/api/org_token/refresh/", { refresh: current }, rotated);
    expect(response.status).toBe(200);
    const access = await mintToken(s, { secret: NEW_SECRET, type: "access" });
    const status = await call(
      app(),
      `/api/membership_status/${s.orgName}/`,
      { headers: { Authorization: `Bearer ${access}` } },
      rotated,
    );
    expect(await status.json()).toEqual({ active: true });
  });

  it("any of several previous keys verifies, for access tokens and logout too", async () => {
    const s = await seed();
    const env = { JWT_SECRET_KEY: NEW_SECRET, JWT_PREVIOUS_SECRET_KEYS: JSON.stringify([OTHER_SECRET, SECRET]) };
    const access = await mintToken(s, { secret: SECRET, type: "access" });
    const status = await call(
      app(),
      `/api/membership_status/${s.orgName}/`,
      { headers: { Authorization: `Bearer ${access}` } },
      env,
    );
    expect(await status.json()).toEqual({ active: true });
    const logout = await postJson(
      app(),
      "/api/token/blacklist/",
      { refresh: await mintToken(s, { secret: OTHER_SECRET }) },
      env,
    );
    expect(logout.status).toBe(200);
    expect(await logout.json()).toEqual({});
  });

  it("a token signed with a key in neither place is invalid", async () => {
    const s = await seed();
    const stranger = await mintToken(s, { secret: OTHER_SECRET });
    const response = await postJson(app(), "/api/org_token/refresh/", { refresh: stranger }, rotated);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(TOKEN_NOT_VALID);
    // And once the previous key is dropped, its tokens are invalid too.
    const old = await mintToken(s, { secret: SECRET });
    const dropped = await postJson(app(), "/api/org_token/refresh/", { refresh: old }, { JWT_SECRET_KEY: NEW_SECRET });
    expect(await dropped.json()).toEqual(TOKEN_NOT_VALID);
  });

  it("an expired token signed with a previous key is invalid: expiry does not depend on the key", async () => {
    const s = await seed();
    const clock = manualClock();
    const old = await mintToken(s, { secret: SECRET, nowMs: clock(), lifetime: 60 });
    clock.advance(61);
    const response = await postJson(app({ clock }), "/api/org_token/refresh/", { refresh: old }, rotated);
    expect(await response.json()).toEqual(TOKEN_NOT_VALID);
  });

  it.each([
    ["a previous key under 32 bytes", JSON.stringify([SECRET, "short-old-secret"]), "entry 2 is shorter than 32 bytes"],
    ["not a JSON array", SECRET, "must be a JSON array of strings"],
    ["an array holding a number", "[12345678901234567890123456789012345]", "must be a JSON array of strings"],
  ])("%s: a 500 naming JWT_PREVIOUS_SECRET_KEYS, never quoting it", async (_name, value, message) => {
    const s = await seed();
    const response = await postJson(
      app(),
      "/api/org_token/refresh/",
      { refresh: await mintToken(s) },
      {
        JWT_PREVIOUS_SECRET_KEYS: value,
      },
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      detail: "Server misconfigured: the token service cannot sign or verify tokens.",
    });
    const line = logged.find((l) => l.includes("JWT_PREVIOUS_SECRET_KEYS"));
    expect(line).toContain(message);
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain("short-old-secret");
  });

  it("blank or [] means no previous keys", async () => {
    const s = await seed();
    for (const value of ["", "  ", "[]"]) {
      const response = await postJson(
        app(),
        "/api/org_token/refresh/",
        { refresh: await mintToken(s) },
        { JWT_PREVIOUS_SECRET_KEYS: value },
      );
      expect(response.status).toBe(200);
    }
  });
});
