/**
 * An origin whose user model is keyed by a UUID (`id = UUIDField(primary_key=True)`, simplejwt's
 * USER_ID_FIELD "id" of type uuid): the sync keys its users by the UUID, which the edge keeps in
 * users_user.origin_key beside an id of its own, and sends the same UUID as simplejwt_id, by
 * which the views and the guard find the user. Created, renamed, deactivated, deleted and
 * reconciled by a full run through the sync route; tokens at each step.
 */
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { orgTokenApi, requireSimpleJwtToken, type SimpleJwtTokenVariables } from "../../src/api";
import { userKey } from "../../src/storage/kv/ended-keys";
import type { Env } from "../../worker/env";
import { workerApiOptions } from "../../worker/env";
import { claimsOf, env, manualClock, postJson, QUICK_HASH, quickApp, seed, unique } from "../support/harness";
import { obtain, PASSWORD, PATHS, sjEnv } from "../support/simplejwt";
import { deleted, deliver, userRecord } from "../support/sync";

const clock = manualClock(Date.now());
let integerIds = 7_700_000;
const newIntegerId = () => ++integerIds;
const worker = quickApp({ clock });
const UUID_PK = sjEnv({ SIMPLE_JWT_VERSION: "5.2.2", USER_ID_FIELD: "id", USER_ID_FIELD_TYPE: "uuid" });

async function send(body: unknown) {
  const response = await deliver(worker, clock(), body);
  return { status: response.status, body: await response.json<Record<string, unknown>>() };
}

/** A user as such an origin sends it: keyed by its UUID, which is also its simplejwt_id. */
const uuidUser = (
  uuid: string,
  fields: { username: string; is_active?: boolean; password?: string | null },
  extra?: { password_changed?: boolean },
) => userRecord(uuid, { password: QUICK_HASH, ...fields, simplejwt_id: uuid }, extra);

async function rowOf(uuid: string) {
  return env.DB.prepare(
    "SELECT id, username, is_active, simplejwt_id, sessions_revoked_at FROM users_user WHERE origin_key = ?1",
  )
    .bind(uuid)
    .first<{
      id: number;
      username: string;
      is_active: number;
      simplejwt_id: string;
      sessions_revoked_at: number | null;
    }>();
}

async function guarded(token: string) {
  const tokens = orgTokenApi(workerApiOptions);
  const host = new Hono<{ Bindings: Env; Variables: SimpleJwtTokenVariables }>();
  host.get("/private", requireSimpleJwtToken(tokens), (c) => c.json(c.var.simpleJwtToken));
  const response = await host.request(
    "/private",
    { headers: { Authorization: `Bearer ${token}` } },
    { ...env, ...UUID_PK },
  );
  return { status: response.status, body: await response.json<Record<string, unknown>>() };
}

describe("a user model keyed by a UUID", () => {
  it("a new user gets an id of the edge's, its UUID kept; the same key again updates that row", async () => {
    const uuid = crypto.randomUUID();
    const name = unique("uu");
    expect(await send({ records: [uuidUser(uuid, { username: name })] })).toMatchObject({
      status: 200,
      body: { applied: 1 },
    });
    const row = await rowOf(uuid);
    expect(row).toMatchObject({ username: name, is_active: 1, simplejwt_id: uuid });
    // Two more in one delivery: each its own id.
    const [b, c] = [crypto.randomUUID(), crypto.randomUUID()];
    await send({ records: [uuidUser(b, { username: unique("uu") }), uuidUser(c, { username: unique("uu") })] });
    const ids = [row!.id, (await rowOf(b))!.id, (await rowOf(c))!.id];
    expect(new Set(ids).size).toBe(3);
    const renamed = unique("renamed");
    // A UUID in another form (upper case, no hyphens) is the same key.
    expect(
      (await send({ records: [uuidUser(uuid.replaceAll("-", "").toUpperCase(), { username: renamed })] })).status,
    ).toBe(200);
    expect(await rowOf(uuid)).toMatchObject({ id: row!.id, username: renamed });
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM users_user WHERE origin_key = ?1").bind(uuid).first())!.n,
    ).toBe(1);
  });

  it("obtain names the user by its UUID; refresh, verify and the guard find it", async () => {
    const uuid = crypto.randomUUID();
    const name = unique("uu");
    await send({ records: [uuidUser(uuid, { username: name })] });
    const pair = await obtain(worker, name, UUID_PK);
    expect(claimsOf(pair.refresh).user_id).toBe(uuid);
    const guardedAnswer = await guarded(pair.access);
    // userId is the edge's row; the origin's key is the claim, as simplejwt names the user.
    expect(guardedAnswer).toEqual({
      status: 200,
      body: { userId: (await rowOf(uuid))!.id, claims: expect.objectContaining({ user_id: uuid }) },
    });
    const refreshed = await postJson(worker, PATHS.refresh, { refresh: pair.refresh }, UUID_PK);
    expect(refreshed.status).toBe(200);
    expect((await postJson(worker, PATHS.verify, { token: pair.access }, UUID_PK)).status).toBe(200);
  });

  it("a username the origin moved to a new UUID user is taken from its holder here", async () => {
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    const name = unique("uu");
    await send({ records: [uuidUser(a, { username: name })] });
    expect((await send({ records: [uuidUser(b, { username: name })] })).status).toBe(200);
    expect((await rowOf(b))?.username).toBe(name);
    expect((await rowOf(a))?.username).not.toBe(name);
  });

  it("deactivated: its sessions end (D1 and KV, by the edge's id); its access token is refused", async () => {
    const uuid = crypto.randomUUID();
    const name = unique("uu");
    await send({ records: [uuidUser(uuid, { username: name })] });
    const { access } = await obtain(worker, name, UUID_PK);
    clock.advance(1);
    await send({ records: [uuidUser(uuid, { username: name, is_active: false })] });
    const row = await rowOf(uuid);
    expect(row).toMatchObject({ is_active: 0, sessions_revoked_at: clock() });
    expect(Number(await env.BLACKLIST.get(userKey(row!.id)))).toBe(clock());
    expect((await guarded(access)).status).toBe(401);
  });

  it("a password change ends its sessions", async () => {
    const uuid = crypto.randomUUID();
    const name = unique("uu");
    await send({ records: [uuidUser(uuid, { username: name })] });
    clock.advance(1);
    await send({
      records: [uuidUser(uuid, { username: name, password: "pbkdf2_sha256$1$new$x" }, { password_changed: true })],
    });
    expect(await rowOf(uuid)).toMatchObject({ sessions_revoked_at: clock() });
  });

  it("deleted: the row goes, its sessions end in KV, its tokens name no user", async () => {
    const uuid = crypto.randomUUID();
    const name = unique("uu");
    await send({ records: [uuidUser(uuid, { username: name })] });
    const { access } = await obtain(worker, name, UUID_PK);
    const id = (await rowOf(uuid))!.id;
    clock.advance(1);
    expect((await send({ records: [deleted("user", uuid)] })).status).toBe(200);
    expect(await rowOf(uuid)).toBeNull();
    expect(Number(await env.BLACKLIST.get(userKey(id)))).toBe(clock());
    expect((await guarded(access)).status).toBe(401);
    // A late upsert at an older version cannot bring it back.
    expect(
      (await send({ records: [userRecord(uuid, { username: name, simplejwt_id: uuid }, { version: 1 })] })).body,
    ).toMatchObject({ applied: 0 });
    expect(await rowOf(uuid)).toBeNull();
  });

  it("a full run removes the UUID users it did not see, and a row whose id is a seen UUID's leading digits", async () => {
    const seen = `123${crypto.randomUUID().slice(3)}`; // CAST('123…' AS INTEGER) is 123
    const gone = crypto.randomUUID();
    await send({ records: [uuidUser(seen, { username: unique("uu") }), uuidUser(gone, { username: unique("uu") })] });
    await env.DB.prepare("INSERT OR REPLACE INTO users_user (id, username) VALUES (123, ?1)")
      .bind(unique("made-here"))
      .run();
    const run = crypto.randomUUID();
    await send({ full: { run, phase: "begin" } });
    const version = (await env.DB.prepare("SELECT version FROM sync_version WHERE kind = 'user' AND key = ?1")
      .bind(seen)
      .first<{ version: number }>())!.version;
    expect(
      (
        await send({
          records: [
            userRecord(
              seen,
              { username: (await rowOf(seen))!.username, password: QUICK_HASH, simplejwt_id: seen },
              { version },
            ),
          ],
          full: { run, phase: "page" },
        })
      ).status,
    ).toBe(200);
    expect((await send({ full: { run, phase: "end", counts: { user: 1 } } })).status).toBe(200);
    expect(await rowOf(seen)).not.toBeNull();
    expect(await rowOf(gone)).toBeNull();
    expect(await env.DB.prepare("SELECT id FROM users_user WHERE id = 123").first()).toBeNull();
    expect((await env.DB.prepare("SELECT count(*) AS n FROM users_user").first())!.n).toBe(1);
  });

  it("a new user never gets a deleted user's id: nothing ended under it (KV, D1) passes to the newcomer", async () => {
    clock.set(Date.now()); // the guard reads the real time: the tokens' iat not ahead of it
    const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await send({ records: [uuidUser(a, { username: unique("uu") }), uuidUser(b, { username: unique("uu") })] });
    const bId = (await rowOf(b))!.id;
    // b holds the highest id; deleting it ends its sessions under that id.
    expect(bId).toBe((await env.DB.prepare("SELECT max(id) AS id FROM users_user").first<{ id: number }>())!.id);
    await send({ records: [deleted("user", b)] });
    expect(await env.BLACKLIST.get(userKey(bId))).not.toBeNull();
    const name = unique("uu");
    await send({ records: [uuidUser(c, { username: name })] });
    const cId = (await rowOf(c))!.id;
    expect(cId).toBeGreaterThan(bId);
    expect(await env.BLACKLIST.get(userKey(cId))).toBeNull();
    // In the very second b was deleted, c's first token is good.
    const { access } = await obtain(worker, name, UUID_PK);
    expect(await guarded(access)).toMatchObject({ status: 200 });
  });

  it("one edge serves one origin: an integer key whose id a UUID-keyed user holds here is a 409 naming it, nothing written", async () => {
    const uuid = crypto.randomUUID();
    const name = unique("uu");
    await send({ records: [uuidUser(uuid, { username: name })] });
    const { id } = (await rowOf(uuid))!;
    for (const record of [userRecord(id, { username: unique("int") }), deleted("user", id)]) {
      const answer = await send({ records: [userRecord(newIntegerId(), { username: unique("int") }), record] });
      expect(answer).toEqual({
        status: 409,
        body: {
          detail: `user ${id}: a user of a UUID-keyed origin holds that id here (one edge serves one origin)`,
          record: 1,
        },
      });
      expect(await rowOf(uuid)).toMatchObject({ id, username: name, simplejwt_id: uuid });
    }
  });

  it("USER_ID_FIELD_TYPE left at integer for such an origin: obtain issues nothing (the 500, logged), never the edge's number as the user's id", async () => {
    const uuid = crypto.randomUUID();
    const name = unique("uu");
    await send({ records: [uuidUser(uuid, { username: name })] });
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const body = { username: name, password: PASSWORD };
      const response = await postJson(worker, PATHS.obtain, body, sjEnv({ SIMPLE_JWT_VERSION: "5.2.2" }));
      expect(response.status).toBe(500);
      expect(await response.text()).not.toContain("access");
      expect(errors.mock.calls.map(String).join("\n")).toContain("keyed by a UUID at the origin");
    } finally {
      errors.mockRestore();
    }
  });

  it("a user key that is neither a positive integer nor a UUID: 400 naming it", async () => {
    for (const key of ["5", "not-a-uuid", 0, 1.5]) {
      const answer = await send({ records: [userRecord(key, { username: unique("uu") })] });
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).toContain("key must be a positive integer or a UUID");
    }
  });

  it("the org-token API issues no token under it: login answers the misconfiguration 500, logged", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const body = { username: s.userName, password: PASSWORD, org_name: s.orgName };
      const response = await postJson(worker, "/api/org_token/", body, UUID_PK);
      expect(response.status).toBe(500);
      expect(errors.mock.calls.map(String).join("\n")).toContain("USER_ID_FIELD id is not an integer primary key");
    } finally {
      errors.mockRestore();
    }
  });

  it("USER_ID_FIELD id of type string (a text primary key) is not served: the views' 500, logged", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const settings = sjEnv({ USER_ID_FIELD: "id", USER_ID_FIELD_TYPE: "string" });
      const response = await postJson(worker, PATHS.obtain, { username: "a", password: "b" }, settings);
      expect(response.status).toBe(500);
      expect(errors.mock.calls.map(String).join("\n")).toContain("integer or UUID primary key");
    } finally {
      errors.mockRestore();
    }
  });
});
