/**
 * Issue 17: ended sessions. The KV blacklist of ended sessions (families, users,
 * organizations) read by membership status and requireOrgToken beside their D1 read;
 * sessions_revoked_at enforced at refresh, logout, membership status and the guard; KV
 * writes counted (none per rotation); KV unreadable; the health probe's written key.
 */

import type { Context } from "hono";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { buildApi } from "../../src/app";
import type { Clock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import { endUserSessionsAtEdge } from "../../src/http/session-ends";
import { PROBE_KEY } from "../../src/storage/probe";
import type { AppEnv } from "../../src/types";
import { d1Stores } from "../../worker/app";
import { workerApiOptions, workerConfigInput } from "../../worker/env";
import { faultyStores } from "../support/faults";
import {
  type App,
  app,
  BLACKLISTED,
  call,
  claimsOf,
  endedEntries,
  env,
  manualClock,
  mintToken,
  postJson,
  type Seeded,
  seed,
} from "../support/harness";
import { recorder } from "../support/recording";

const LOGIN_REFRESH = "/api/org_token/refresh/";
const LOGOUT = "/api/token/blacklist/";
// simplejwt's InvalidToken, as JWTAuthentication would answer a blacklisted access token.
const ACCESS_NOT_VALID = {
  detail: "Given token not valid for any token type",
  code: "token_not_valid",
  messages: [{ token_class: "JWTAccessToken", token_type: "access", message: "Token is blacklisted" }],
};

/** A host with one route behind requireOrgToken(), on the same clock. */
function guardedHost(clock: Clock, activeMember = true) {
  const api = buildApi(workerApiOptions, { clock });
  const host = new Hono<{ Bindings: typeof env }>();
  host.get("/private", api.requireOrgToken({ activeMember }), (c) => c.json({ user: c.var.orgToken.userName }));
  return host;
}

async function status(target: App, s: Seeded, access: string) {
  const response = await call(target, `/api/membership_status/${s.orgName}/`, {
    headers: { Authorization: `Bearer ${access}` },
  });
  return { status: response.status, body: await response.json() };
}

async function guarded(host: Hono<{ Bindings: typeof env }>, access: string, envOverrides = {}) {
  const response = await host.request(
    "/private",
    { headers: { Authorization: `Bearer ${access}` } },
    {
      ...env,
      ...envOverrides,
    },
  );
  return { status: response.status, body: await response.json() };
}

/** A login's pair as the edge issues it (a Django-style refresh token rotated once: its pair carries `fam`). */
async function edgePair(target: App, s: Seeded, clock: Clock) {
  const response = await postJson(target, LOGIN_REFRESH, { refresh: await mintToken(s, { nowMs: clock() }) });
  expect(response.status).toBe(200);
  return response.json<{ access: string; refresh: string }>();
}

describe("logout ends the session at the edge: its access token is refused", () => {
  it("membership status and the guard accept the access token before logout, and refuse it after", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const host = guardedHost(clock);
    const s = await seed();
    const pair = await edgePair(target, s, clock);
    expect(claimsOf(pair.access).fam).toBe(claimsOf(pair.refresh).fam);
    expect(await status(target, s, pair.access)).toEqual({ status: 200, body: { active: true } });
    expect((await guarded(host, pair.access)).status).toBe(200);

    expect((await postJson(target, LOGOUT, { refresh: pair.refresh })).status).toBe(200);
    expect(await status(target, s, pair.access)).toEqual({ status: 403, body: ACCESS_NOT_VALID });
    expect(await guarded(host, pair.access)).toEqual({ status: 403, body: ACCESS_NOT_VALID });
    // The guard without the active-member read still reads the blacklist.
    expect((await guarded(guardedHost(clock, false), pair.access)).status).toBe(403);
  });

  it("the family's key expires when its last access token does (and never under KV's 60 s)", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    for (const [lifetime, ttl] of [
      ["3600", 3600],
      ["5", 60],
    ] as const) {
      const vars = { ACCESS_TOKEN_LIFETIME: lifetime };
      const login = await mintToken(s, { nowMs: clock() });
      const pair = await (await postJson(target, LOGIN_REFRESH, { refresh: login }, vars)).json<{ refresh: string }>();
      const before = Math.floor(Date.now() / 1000);
      expect((await postJson(target, LOGOUT, { refresh: pair.refresh }, vars)).status).toBe(200);
      const entry = (await endedEntries()).find((e) => e.name === `ended:family:${claimsOf(pair.refresh).fam}`);
      expect(entry?.value).toBe("1");
      // Relative to the request's clock: the KV expiration is that many seconds from now.
      expect(entry!.expiration! - before).toBeGreaterThanOrEqual(ttl);
      expect(entry!.expiration! - before).toBeLessThanOrEqual(ttl + 2);
    }
  });

  it("reuse detection ends the family at the edge too: the thief's and the victim's access tokens are refused", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const stolen = await mintToken(s, { nowMs: clock() });
    const first = await (await postJson(target, LOGIN_REFRESH, { refresh: stolen })).json<{ refresh: string }>();
    const second = await (await postJson(target, LOGIN_REFRESH, { refresh: first.refresh })).json<{
      access: string;
    }>();
    expect(await status(target, s, second.access)).toEqual({ status: 200, body: { active: true } });
    clock.advance(30);
    expect(await (await postJson(target, LOGIN_REFRESH, { refresh: stolen })).json()).toEqual(BLACKLISTED);
    expect(await status(target, s, second.access)).toEqual({ status: 403, body: ACCESS_NOT_VALID });
  });

  it("another session of the same user is untouched", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const ended = await edgePair(target, s, clock);
    const other = await edgePair(target, s, clock);
    expect((await postJson(target, LOGOUT, { refresh: ended.refresh })).status).toBe(200);
    expect(await status(target, s, other.access)).toEqual({ status: 200, body: { active: true } });
  });
});

describe("KV writes: none per rotation", () => {
  it("a session's day (login pair, 20 rotations, membership checks, replays) writes KV once: at logout", async () => {
    const clock = manualClock();
    const record = recorder();
    const target = app({ clock, stores: (bindings, background) => d1Stores(record.env(bindings), background) });
    const s = await seed();
    let refresh = await mintToken(s, { nowMs: clock() });
    let access = "";
    for (let i = 0; i < 20; i++) {
      clock.advance(600);
      const previous = refresh;
      const pair = await (await postJson(target, LOGIN_REFRESH, { refresh })).json<{
        access: string;
        refresh: string;
      }>();
      ({ refresh, access } = pair);
      expect((await status(target, s, access)).status).toBe(200);
      // A lost response's resend: refused, and no write either.
      expect((await postJson(target, LOGIN_REFRESH, { refresh: previous })).status).toBe(403);
    }
    expect(record.names().filter((name) => name === "kv.put")).toEqual([]);
    expect((await postJson(target, LOGOUT, { refresh })).status).toBe(200);
    expect(record.names().filter((name) => name === "kv.put")).toEqual(["kv.put"]);
  });
});

describe("KV unreadable", () => {
  it("membership status and the guard answer from D1 alone (not refused), and the failure is logged", async () => {
    const clock = manualClock();
    const s = await seed();
    const pair = await edgePair(app({ clock }), s, clock);
    const errors = vi.spyOn(console, "error");
    const broken = app({ clock, stores: faultyStores("kv.get") });
    expect(await status(broken, s, pair.access)).toEqual({ status: 200, body: { active: true } });
    expect(errors.mock.calls.flat().join("\n")).toContain("ended_sessions_unreadable");
  });

  it("sessions_revoked_at, in D1, still refuses: KV is the edge's copy, not the authority", async () => {
    const clock = manualClock();
    const s = await seed();
    const pair = await edgePair(app({ clock }), s, clock);
    await env.DB.prepare("UPDATE users_user SET sessions_revoked_at = ?2 WHERE id = ?1")
      .bind(s.userId, clock() + 1000)
      .run();
    const broken = app({ clock, stores: faultyStores("kv.get") });
    expect(await status(broken, s, pair.access)).toEqual({ status: 403, body: ACCESS_NOT_VALID });
  });

  it("a failed KV write at logout changes no answer: the logout is done in D1", async () => {
    const clock = manualClock();
    const s = await seed();
    const pair = await edgePair(app({ clock }), s, clock);
    const response = await postJson(app({ clock, stores: faultyStores("kv.put") }), LOGOUT, { refresh: pair.refresh });
    expect(response.status).toBe(200);
    expect((await postJson(app({ clock }), LOGIN_REFRESH, { refresh: pair.refresh })).status).toBe(403);
  });
});

describe("sessions_revoked_at (unix ms): tokens issued at or before it are refused", () => {
  async function revoke(table: "users_user" | "users_orgaccount", id: number, at: number) {
    await env.DB.prepare(`UPDATE ${table} SET sessions_revoked_at = ?2 WHERE id = ?1`).bind(id, at).run();
  }

  it.each(["users_user", "users_orgaccount"] as const)(
    "%s: refresh 403 blacklisted (not consumed), logout 401 blacklisted, membership status and the guard 403; a later token works",
    async (table) => {
      const clock = manualClock();
      const target = app({ clock });
      const host = guardedHost(clock);
      const s = await seed();
      const pair = await edgePair(target, s, clock);
      clock.advance(10);
      await revoke(table, table === "users_user" ? s.userId : s.orgId, clock());
      expect(await (await postJson(target, LOGIN_REFRESH, { refresh: pair.refresh })).json()).toEqual(BLACKLISTED);
      expect(
        await env.DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1").bind(claimsOf(pair.refresh).jti).first(),
      ).toBeNull();
      const logout = await postJson(target, LOGOUT, { refresh: pair.refresh });
      expect({ status: logout.status, body: await logout.json() }).toEqual({ status: 401, body: BLACKLISTED });
      expect(await status(target, s, pair.access)).toEqual({ status: 403, body: ACCESS_NOT_VALID });
      expect(await guarded(host, pair.access)).toEqual({ status: 403, body: ACCESS_NOT_VALID });

      // Issued after the end: valid. (A Django-style token, whole seconds only, from the end's
      // own second cannot be told from those before it: this one is from the next second.)
      clock.advance(1);
      const fresh = await edgePair(target, s, clock);
      expect(await status(target, s, fresh.access)).toEqual({ status: 200, body: { active: true } });
      expect((await postJson(target, LOGIN_REFRESH, { refresh: fresh.refresh })).status).toBe(200);
    },
  );

  it("endUserSessionsAtEdge (for the origin sync): the users' older access tokens refused even by a guard that reads no D1", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const pair = await edgePair(target, s, clock);
    const revokedAt = clock() + 1;
    // As a route's context has them (src/routes/sync.ts calls it with its own).
    const work: Promise<unknown>[] = [];
    const config = await loadConfig(workerConfigInput(env));
    const vars = {
      config,
      clock,
      stores: d1Stores(env, () => undefined),
      background: (p: Promise<unknown>) => work.push(p),
    };
    endUserSessionsAtEdge({ var: vars } as unknown as Context<AppEnv>, [{ id: s.userId, revokedAtMs: revokedAt }]);
    await Promise.all(work);
    const entry = (await endedEntries()).find((e) => e.name === `ended:user:${s.userId}`);
    expect(entry?.value).toBe(String(revokedAt));
    expect((await guarded(guardedHost(clock, false), pair.access)).status).toBe(403);
    clock.advance(2);
    const fresh = await edgePair(target, s, clock);
    expect((await guarded(guardedHost(clock, false), fresh.access)).status).toBe(200);
  });
});

describe("the health probe reads a key that is really written", () => {
  it("the first check writes it; the next finds it", async () => {
    await env.BLACKLIST.delete(PROBE_KEY);
    expect((await call(app(), "/api/org_token/health/")).status).toBe(200);
    expect(await env.BLACKLIST.get(PROBE_KEY)).toBe("ok");
    const record = recorder();
    const target = app({ stores: (bindings, background) => d1Stores(record.env(bindings), background) });
    expect((await call(target, "/api/org_token/health/")).status).toBe(200);
    expect(record.names().sort()).toEqual(["d1.run", "kv.get"]);
  });
});
