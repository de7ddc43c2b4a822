/**
 * A session that should end always ends: an end in the same second as the session's start,
 * organizations whose names are longer than a KV key may be, one refused record among
 * others, conflicts inside one delivery, and a KV that cannot be read.
 */
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { buildApi } from "../../src/app";
import type { Clock } from "../../src/clock";
import { familyKey, orgKey, userKey } from "../../src/storage/kv/ended-keys";
import { KvEndedSessions } from "../../src/storage/kv/ended-sessions";
import { workerApiOptions } from "../../worker/env";
import { faultyStores } from "../support/faults";
import {
  type App,
  BLACKLISTED,
  call,
  claimsOf,
  env,
  manualClock,
  postJson,
  QUICK_HASH,
  quickApp,
  quickPasswords,
  unique,
  vectors,
} from "../support/harness";
import { deleted, deliver, membershipRecord, orgRecord, userRecord } from "../support/sync";

const PASSWORD = vectors.django_password_hashes.password;
const LOGIN = "/api/org_token/";
const REFRESH = "/api/org_token/refresh/";
const LOGOUT = "/api/token/blacklist/";
let nextUser = 90_000;

/** A clock at `ms` milliseconds into a whole second. */
function clockInSecond(ms: number) {
  const clock = manualClock();
  clock.set(Math.ceil(clock() / 1000) * 1000 + 1000 + ms);
  return clock;
}

const send = async (worker: App, clock: Clock, records: unknown[]) => {
  const response = await deliver(worker, clock(), { records });
  return { status: response.status, body: await response.json<Record<string, unknown>>() };
};

async function world(worker: App, clock: Clock, orgName = unique("Org")) {
  nextUser += 1;
  const w = {
    userId: nextUser,
    userName: unique("u"),
    orgUuid: crypto.randomUUID(),
    orgName,
    memberUuid: crypto.randomUUID(),
  };
  const sent = await send(worker, clock, [
    userRecord(w.userId, { username: w.userName, password: QUICK_HASH }),
    orgRecord(w.orgUuid, w.orgName),
    membershipRecord(w.memberUuid, { user: w.userId, org: w.orgUuid, active: true }),
  ]);
  expect(sent.status).toBe(200);
  return w;
}

async function login(worker: App, w: { userName: string; orgName: string }, password = PASSWORD) {
  const response = await postJson(worker, LOGIN, { username: w.userName, password, org_name: w.orgName });
  expect(response.status).toBe(200);
  return response.json<{ access: string; refresh: string }>();
}

function guardedHost(clock: Clock, activeMember: boolean, stores?: ReturnType<typeof faultyStores>) {
  const api = buildApi(workerApiOptions, stores === undefined ? { clock } : { clock, stores });
  const host = new Hono<{ Bindings: typeof env }>();
  host.get("/private", api.requireOrgToken({ activeMember }), (c) => c.json({ user: c.var.orgToken.userName }));
  return host;
}

async function guarded(host: Hono<{ Bindings: typeof env }>, access: string) {
  return (await host.request("/private", { headers: { Authorization: `Bearer ${access}` } }, env)).status;
}

async function status(worker: App, orgName: string, access: string) {
  return (
    await call(worker, `/api/membership_status/${encodeURIComponent(orgName)}/`, {
      headers: { Authorization: `Bearer ${access}` },
    })
  ).status;
}

describe("a session ended in the same second it started ends", () => {
  it("a password change delivered 400 ms after a login: that login's refresh and access tokens are refused; a login 200 ms after the change works", async () => {
    const clock = clockInSecond(100);
    const worker = quickApp({ clock });
    const w = await world(worker, clock);
    const before = await login(worker, w);
    clock.set(clock() + 400);
    const next = "a new password, same second";
    const changed = await send(worker, clock, [
      userRecord(
        w.userId,
        { username: w.userName, password: await quickPasswords.hash(next) },
        { password_changed: true },
      ),
    ]);
    expect(changed.status).toBe(200);
    clock.set(clock() + 200); // still the same second
    expect(claimsOf(before.refresh).iat).toBe(Math.floor(clock() / 1000));
    const after = await login(worker, w, next);

    const refused = await postJson(worker, REFRESH, { refresh: before.refresh });
    expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 403, body: BLACKLISTED });
    expect(await status(worker, w.orgName, before.access)).toBe(403);
    expect(await guarded(guardedHost(clock, true), before.access)).toBe(403);
    expect(await guarded(guardedHost(clock, false), before.access)).toBe(403); // KV alone

    expect((await postJson(worker, REFRESH, { refresh: after.refresh })).status).toBe(200);
    expect(await status(worker, w.orgName, after.access)).toBe(200);
    expect(await guarded(guardedHost(clock, false), after.access)).toBe(200);
  });

  it("a user disabled and enabled again within the second of a login: that login stays ended", async () => {
    const clock = clockInSecond(100);
    const worker = quickApp({ clock });
    const w = await world(worker, clock);
    const before = await login(worker, w);
    clock.set(clock() + 300);
    await send(worker, clock, [userRecord(w.userId, { username: w.userName, password: QUICK_HASH, is_active: false })]);
    clock.set(clock() + 300);
    await send(worker, clock, [userRecord(w.userId, { username: w.userName, password: QUICK_HASH, is_active: true })]);
    const refused = await postJson(worker, REFRESH, { refresh: before.refresh });
    expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 403, body: BLACKLISTED });
    expect(await status(worker, w.orgName, before.access)).toBe(403);
    expect((await postJson(worker, REFRESH, { refresh: (await login(worker, w)).refresh })).status).toBe(200);
  });

  it("a delivery never moves an end back: an admin's later end stays", async () => {
    const clock = clockInSecond(100);
    const worker = quickApp({ clock });
    const w = await world(worker, clock);
    const later = clock() + 60_000;
    await env.DB.prepare("UPDATE users_user SET sessions_revoked_at = ?2 WHERE id = ?1").bind(w.userId, later).run();
    await send(worker, clock, [
      userRecord(w.userId, { username: w.userName, password: QUICK_HASH }, { password_changed: true }),
    ]);
    const row = await env.DB.prepare("SELECT sessions_revoked_at AS at FROM users_user WHERE id = ?1")
      .bind(w.userId)
      .first<{ at: number }>();
    expect(row?.at).toBe(later);
    expect(await env.BLACKLIST.get(userKey(w.userId))).toBe(String(later));
  });
});

describe("KV keys fit whatever the origin stores", () => {
  // The origin's OrgAccount.name is max_length=200: characters, of up to four bytes each.
  const longest = ["界".repeat(200), "🛰".repeat(200), "\u{10FFFF}".repeat(200)];

  it("every blacklist key is at most KV's 512 bytes for the origin's longest names", () => {
    for (const name of longest) expect(new TextEncoder().encode(orgKey(name)).length).toBeLessThanOrEqual(512);
    expect(new TextEncoder().encode(userKey(Number.MAX_SAFE_INTEGER)).length).toBeLessThanOrEqual(512);
    expect(new TextEncoder().encode(familyKey("x".repeat(5000))).length).toBeLessThanOrEqual(512);
  });

  it.each(longest.map((name) => [[...name][0]!, name]))(
    "an organization named 200 × %s: after logout its access token is refused by a guard that reads KV alone",
    async (_char, orgName) => {
      const clock = manualClock();
      const worker = quickApp({ clock });
      const w = await world(worker, clock, orgName);
      const pair = await login(worker, w);
      const errors = vi.spyOn(console, "error");
      expect(await guarded(guardedHost(clock, false), pair.access)).toBe(200);
      expect((await postJson(worker, LOGOUT, { refresh: pair.refresh })).status).toBe(200);
      expect(await guarded(guardedHost(clock, false), pair.access)).toBe(403);
      expect(await status(worker, orgName, pair.access)).toBe(403);
      expect(errors.mock.calls.flat().join("\n")).not.toContain("ended_sessions_unreadable");
      errors.mockRestore();
    },
  );

  it("an organization's end is written and read under its bounded key", async () => {
    const store = new KvEndedSessions(env.BLACKLIST);
    const nowMs = Date.now();
    const orgName = "🛰".repeat(200);
    await store.endOrganization(orgName, nowMs, Math.ceil(nowMs / 1000) + 3600, nowMs);
    const session = { family: undefined, userId: 1, orgName };
    expect(await store.ended({ ...session, issuedAtMs: nowMs })).toBe(true);
    expect(await store.ended({ ...session, issuedAtMs: nowMs + 1 })).toBe(false);
  });
});

describe("a refused delivery names the record it refuses; nothing is written", () => {
  it("a stale user, a membership of that user and another user's password change: 400 naming the membership; without it, the change applies", async () => {
    const clock = manualClock();
    const worker = quickApp({ clock });
    const gone = await world(worker, clock);
    const other = await world(worker, clock);
    const tombstone = 10_000_000 + nextUser;
    expect((await send(worker, clock, [deleted("user", gone.userId, tombstone)])).status).toBe(200);
    const membership = membershipRecord(crypto.randomUUID(), { user: gone.userId, org: other.orgUuid, active: true });
    const change = userRecord(
      other.userId,
      { username: other.userName, password: QUICK_HASH },
      { password_changed: true },
    );
    const refused = await send(worker, clock, [
      userRecord(gone.userId, { username: gone.userName, password: QUICK_HASH }, { version: tombstone - 1 }),
      membership,
      change,
    ]);
    expect(refused).toEqual({ status: 400, body: { detail: "reference to a row the edge lacks", record: 1 } });
    const row = await env.DB.prepare("SELECT sessions_revoked_at AS at FROM users_user WHERE id = ?1")
      .bind(other.userId)
      .first<{ at: number | null }>();
    expect(row?.at).toBeNull();
    // The origin parks the record named and sends the rest again.
    expect((await send(worker, clock, [change])).status).toBe(200);
    const after = await env.DB.prepare("SELECT sessions_revoked_at AS at FROM users_user WHERE id = ?1")
      .bind(other.userId)
      .first<{ at: number | null }>();
    expect(after?.at).toBe(clock());
  });

  const social = (id: number, user: number, uid: string) => ({
    kind: "social_account",
    key: id,
    version: 20_000_000 + id,
    fields: { user, provider: "github", uid, login: `login${id}` },
  });

  it.each([
    [
      "two new users with one username",
      (w: { userId: number }, name: string) => [
        userRecord(w.userId + 500_000, { username: name }),
        userRecord(w.userId + 500_001, { username: name }),
      ],
      "user username already held by record 0 of this delivery",
    ],
    [
      "two new organizations with one name",
      (_w: { userId: number }, name: string) => [
        orgRecord(crypto.randomUUID(), name),
        orgRecord(crypto.randomUUID(), name),
      ],
      "organization name already held by record 0 of this delivery",
    ],
    [
      "two social accounts with one provider and uid",
      (w: { userId: number }) => [social(w.userId, w.userId, "583231"), social(w.userId + 1, w.userId, "583231")],
      "social_account provider and uid already held by record 0 of this delivery",
    ],
  ])("%s: 409 naming the second, nothing written", async (_name, records, detail) => {
    const clock = manualClock();
    const worker = quickApp({ clock });
    const w = await world(worker, clock);
    const name = unique("clash");
    const before = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM users_user) + (SELECT count(*) FROM users_orgaccount) + (SELECT count(*) FROM socialaccount_socialaccount) + (SELECT count(*) FROM sync_version) AS n",
    ).first<{ n: number }>();
    const answer = await send(worker, clock, records(w, name));
    expect(answer).toEqual({ status: 409, body: { detail, record: 1 } });
    const after = await env.DB.prepare(
      "SELECT (SELECT count(*) FROM users_user) + (SELECT count(*) FROM users_orgaccount) + (SELECT count(*) FROM socialaccount_socialaccount) + (SELECT count(*) FROM sync_version) AS n",
    ).first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });
});

describe("with KV unreadable, ended sessions stay ended: D1 decides within its reads", () => {
  it("logout: membership status and the active-member guard refuse the access token from D1", async () => {
    const clock = manualClock();
    const worker = quickApp({ clock });
    const w = await world(worker, clock);
    const pair = await login(worker, w);
    expect((await postJson(worker, LOGOUT, { refresh: pair.refresh })).status).toBe(200);
    await env.BLACKLIST.delete(familyKey(String(claimsOf(pair.refresh).fam)));
    const broken = quickApp({ clock, stores: faultyStores("kv.get") });
    expect(await status(broken, w.orgName, pair.access)).toBe(403);
    expect(await guarded(guardedHost(clock, true, faultyStores("kv.get")), pair.access)).toBe(403);
  });

  it("reuse detection: the revoked family's access token is refused from D1", async () => {
    const clock = manualClock();
    const worker = quickApp({ clock });
    const w = await world(worker, clock);
    const first = await login(worker, w);
    const rotated = await (await postJson(worker, REFRESH, { refresh: first.refresh })).json<{
      refresh: string;
      access: string;
    }>();
    clock.advance(1);
    expect((await postJson(worker, REFRESH, { refresh: rotated.refresh })).status).toBe(200);
    expect((await postJson(worker, REFRESH, { refresh: first.refresh })).status).toBe(403); // reuse: the family ends
    await env.BLACKLIST.delete(familyKey(String(claimsOf(first.refresh).fam)));
    const broken = quickApp({ clock, stores: faultyStores("kv.get") });
    expect(await status(broken, w.orgName, rotated.access)).toBe(403);
    expect(await guarded(guardedHost(clock, true, faultyStores("kv.get")), rotated.access)).toBe(403);
  });
});
