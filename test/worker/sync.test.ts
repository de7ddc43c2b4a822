/** POST /api/org_token/sync/: every row of docs/sync.md's answer table, and the version rules. */
import { describe, expect, it, vi } from "vitest";
import { D1SyncStore } from "../../src/storage/d1/sync";
import { parseDelivery } from "../../src/sync/records";
import { faultyStores } from "../support/faults";
import { app, call, env, manualClock, mintToken, postJson, unique } from "../support/harness";
import {
  type DeliverOptions,
  deleted,
  deliver,
  deliveryId,
  membershipRecord,
  nextVersion,
  orgRecord,
  SYNC_SECRET,
  signatureOf,
  userRecord,
} from "../support/sync";

const clock = manualClock();
const worker = app({ clock });
let nextUser = 50_000;
const newUserId = () => ++nextUser;

const send = (body: unknown, options?: DeliverOptions) => deliver(worker, clock(), body, options);

async function user(id: number) {
  return env.DB.prepare("SELECT id, username, password, is_active, sessions_revoked_at FROM users_user WHERE id = ?1")
    .bind(id)
    .first();
}
async function org(uuid: string) {
  return env.DB.prepare("SELECT id, name FROM users_orgaccount WHERE django_uuid = ?1").bind(uuid).first<{
    id: number;
    name: string;
  }>();
}
async function membership(uuid: string) {
  return env.DB.prepare("SELECT user_id, org_id, active FROM users_membership WHERE django_uuid = ?1")
    .bind(uuid)
    .first();
}

/** A user, an organization and an active membership, delivered; their origin keys. */
async function world() {
  const userId = newUserId();
  const orgUuid = crypto.randomUUID();
  const memberUuid = crypto.randomUUID();
  const userName = unique("u");
  const orgName = unique("Org");
  const response = await send({
    records: [
      userRecord(userId, { username: userName }),
      orgRecord(orgUuid, orgName),
      membershipRecord(memberUuid, { user: userId, org: orgUuid, active: true }),
    ],
  });
  expect(response.status).toBe(200);
  return { userId, orgUuid, memberUuid, userName, orgName };
}

describe("sync: 200", () => {
  it("applies users, organizations and memberships in one delivery", async () => {
    const userId = newUserId();
    const orgUuid = crypto.randomUUID();
    const memberUuid = crypto.randomUUID();
    const response = await send({
      records: [
        // Out of kind order on purpose: the membership comes first, its user and organization after.
        membershipRecord(memberUuid, { user: userId, org: orgUuid, active: true }),
        userRecord(userId, { username: "ceugarteblair", password: "pbkdf2_sha256$1$x$y", is_active: true }),
        orgRecord(orgUuid, "UofMDTest"),
      ],
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ applied: 3, stale: 0, duplicate: false });
    expect(await user(userId)).toMatchObject({
      username: "ceugarteblair",
      password: "pbkdf2_sha256$1$x$y",
      is_active: 1,
    });
    const o = await org(orgUuid);
    expect(o?.name).toBe("UofMDTest");
    expect(await membership(memberUuid)).toEqual({ user_id: userId, org_id: o!.id, active: 1 });
  });

  it("an empty delivery: 200 with nothing applied", async () => {
    const response = await send({ records: [] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ applied: 0, stale: 0, duplicate: false });
  });

  it("a replayed id: 200 duplicate, and nothing changes", async () => {
    const w = await world();
    const id = deliveryId();
    const first = await send({ records: [userRecord(w.userId, { username: "first_name_x" })] }, { id });
    expect(await first.json()).toEqual({ applied: 1, stale: 0, duplicate: false });
    // The same id with another body (a higher version, even): still nothing.
    const again = await send({ records: [userRecord(w.userId, { username: "second_name_x" })] }, { id });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ applied: 0, stale: 0, duplicate: true });
    expect(await user(w.userId)).toMatchObject({ username: "first_name_x" });
  });
});

describe("sync: 400, nothing written", () => {
  it("malformed JSON", async () => {
    const response = await send(undefined, { raw: '{"records": [' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: "malformed JSON" });
  });

  it("an unknown kind names the record", async () => {
    const userId = newUserId();
    const response = await send({
      records: [
        userRecord(userId, { username: unique("u") }),
        { kind: "group", key: 1, version: nextVersion(), fields: {} },
      ],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: 'unknown kind "group"', record: 1 });
    expect(await user(userId)).toBeNull();
  });

  it.each([
    ["a username over 150 characters", { username: "x".repeat(151) }, "fields.username must be 1 to 150 characters"],
    ["an empty username", { username: "" }, "fields.username must be 1 to 150 characters"],
    ["a username that is no string", { username: 5 }, "fields.username must be a string"],
    ["is_active that is no boolean", { username: "ok_name", is_active: 1 }, "fields.is_active must be true or false"],
  ])("a bad field (%s) names the record and what is wrong", async (_name, fields, detail) => {
    const first = newUserId();
    const record = {
      ...userRecord(newUserId(), { username: "x" }),
      fields: { password: null, is_active: true, ...fields },
    };
    const response = await send({ records: [userRecord(first, { username: unique("u") }), record] });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail, record: 1 });
    expect(await user(first)).toBeNull();
  });

  it("a lone surrogate in a string: malformed (it would not survive as UTF-8)", async () => {
    const userId = newUserId();
    const raw = `{"records": [{"kind": "user", "key": ${userId}, "version": ${nextVersion()}, "fields": {"username": "bad\\ud800", "password": null, "is_active": true}}]}`;
    const response = await send(undefined, { raw });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: "fields.username holds a lone surrogate", record: 0 });
    expect(await user(userId)).toBeNull();
  });

  it("a membership naming a user the edge lacks: the record named, the delivery's other rows not written", async () => {
    const userId = newUserId();
    const orgUuid = crypto.randomUUID();
    const response = await send({
      records: [
        userRecord(userId, { username: unique("u") }),
        orgRecord(orgUuid, unique("Org")),
        membershipRecord(crypto.randomUUID(), { user: newUserId(), org: orgUuid, active: true }),
      ],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: "reference to a row the edge lacks", record: 2 });
    expect(await user(userId)).toBeNull();
    expect(await org(orgUuid)).toBeNull();
  });

  it("a membership naming an organization the same delivery deletes is refused", async () => {
    const w = await world();
    const response = await send({
      records: [
        deleted("organization", w.orgUuid),
        membershipRecord(crypto.randomUUID(), { user: w.userId, org: w.orgUuid, active: true }),
      ],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ record: 1 });
    expect(await org(w.orgUuid)).not.toBeNull();
  });

  it("a social account naming a user the edge lacks", async () => {
    const response = await send({
      records: [
        {
          kind: "social_account",
          key: 77,
          version: nextVersion(),
          fields: { user: newUserId(), provider: "github", uid: "1", login: "x" },
        },
      ],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: "reference to a row the edge lacks", record: 0 });
  });

  it("delivery ids are kept 30 days; a replay after that is stale by its versions and changes nothing", async () => {
    const w = await world();
    const id = deliveryId();
    const record = userRecord(w.userId, { username: "kept_name_x" });
    await send({ records: [record] }, { id });
    expect((await env.DB.prepare("SELECT count(*) AS n FROM sync_delivery WHERE id = ?1").bind(id).first())?.n).toBe(1);
    await env.DB.prepare("UPDATE sync_delivery SET received_at = received_at - 2592001 WHERE id = ?1").bind(id).run();
    await send({ records: [] }); // any delivery purges the old ids
    expect((await env.DB.prepare("SELECT count(*) AS n FROM sync_delivery WHERE id = ?1").bind(id).first())?.n).toBe(0);
    await send({ records: [userRecord(w.userId, { username: "newer_name_x" })] });
    const replay = await send({ records: [record] }, { id });
    expect(await replay.json()).toEqual({ applied: 0, stale: 1, duplicate: false });
    expect(await user(w.userId)).toMatchObject({ username: "newer_name_x" });
  });

  it("the id of a refused delivery is not recorded: the mended one is applied under it", async () => {
    const userId = newUserId();
    const id = deliveryId();
    expect((await send({ records: [userRecord(userId, { username: "" })] }, { id })).status).toBe(400);
    const mended = await send({ records: [userRecord(userId, { username: unique("u") })] }, { id });
    expect(await mended.json()).toEqual({ applied: 1, stale: 0, duplicate: false });
  });
});

describe("sync: 401, nothing written", () => {
  const body = () => ({ records: [userRecord(newUserId(), { username: unique("u") })] });
  const refused = async (response: Response, detail: string) => {
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail });
  };

  it("a signature under another secret", async () => {
    const b = body();
    await refused(await send(b, { secrets: ["another-secret-that-is-long-enough-0123456789"] }), "Invalid signature");
    expect(await user(b.records[0]!.key)).toBeNull();
  });

  it("a signature of another body", async () => {
    const id = deliveryId();
    const ts = Math.floor(clock() / 1000);
    const signature = await signatureOf(SYNC_SECRET, id, ts, new TextEncoder().encode("{}"));
    await refused(await send(body(), { id, timestamp: ts, signature }), "Invalid signature");
  });

  it("no signature, or no id", async () => {
    await refused(await send(body(), { signature: null }), "Invalid signature");
    await refused(await send(body(), { id: "" }), "Invalid signature");
    await refused(await send(body(), { signature: "v2,abc" }), "Invalid signature");
  });

  it("a timestamp more than 300 s from the edge's clock, either way; 300 s is still in", async () => {
    const now = Math.floor(clock() / 1000);
    await refused(await send(body(), { timestamp: now - 301 }), "Timestamp outside tolerance");
    await refused(await send(body(), { timestamp: now + 301 }), "Timestamp outside tolerance");
    expect((await send(body(), { timestamp: now - 300 })).status).toBe(200);
  });

  it("several signatures: one that verifies is enough", async () => {
    const response = await send(body(), { secrets: ["another-secret-that-is-long-enough-0123456789", SYNC_SECRET] });
    expect(response.status).toBe(200);
  });

  it("the previous secret is accepted while it is set, and only then", async () => {
    const previous = "previous-sync-secret-long-enough-0123456789";
    const next = "next-sync-secret-that-is-long-enough-012345";
    const env = { SYNC_SECRET: next, SYNC_PREVIOUS_SECRET: previous };
    expect((await send(body(), { secrets: [previous], env })).status).toBe(200);
    expect((await send(body(), { secrets: [next], env })).status).toBe(200);
    await refused(await send(body(), { secrets: [previous], env: { SYNC_SECRET: next } }), "Invalid signature");
  });

  it("a whsec_ secret signs with its decoded bytes", async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const whsec = `whsec_${btoa(String.fromCharCode(...bytes))}`;
    const b = body();
    const id = deliveryId();
    const ts = Math.floor(clock() / 1000);
    const raw = new TextEncoder().encode(JSON.stringify(b));
    const key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${ts}.${JSON.stringify(b)}`)),
    );
    const signature = `v1,${btoa(String.fromCharCode(...mac))}`;
    const response = await send(b, { id, timestamp: ts, raw, signature, env: { SYNC_SECRET: whsec } });
    expect(response.status).toBe(200);
  });
});

describe("sync: 409, 413, 415, 500, 503", () => {
  it("409: a page or end of a run that is not open", async () => {
    const page = await send({ records: [], full: { run: crypto.randomUUID(), phase: "page" } });
    expect(page.status).toBe(409);
    expect(await page.json()).toEqual({ detail: expect.any(String) });
    const run = crypto.randomUUID();
    expect((await send({ full: { run, phase: "begin" } })).status).toBe(200);
    const end = await send({ full: { run: crypto.randomUUID(), phase: "end", counts: {} } });
    expect(end.status).toBe(409);
    // A begin of a new run ends the open one: its end is refused then.
    expect((await send({ full: { run: crypto.randomUUID(), phase: "begin" } })).status).toBe(200);
    expect((await send({ full: { run, phase: "end", counts: {} } })).status).toBe(409);
    // Leave no run open for the tests after (a change delivery would mark rows seen by it).
    await env.DB.prepare("DELETE FROM sync_run").run();
  });

  it("413: over 1 MiB, nothing written; 1 MiB of the app's 64 KiB elsewhere", async () => {
    const big = JSON.stringify({ records: [], padding: "x".repeat(1024 * 1024) });
    const response = await send(undefined, { raw: big });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: "Request body exceeds 1048576 bytes." });
    // 200 KiB is fine here (the token routes refuse it).
    const fine = await send(undefined, { raw: JSON.stringify({ records: [], padding: "x".repeat(200 * 1024) }) });
    expect(fine.status).toBe(200);
  });

  it("415: not JSON", async () => {
    const response = await send({ records: [] }, { contentType: "text/plain" });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ detail: 'Unsupported media type "text/plain" in request.' });
  });

  it.each([
    ["missing", undefined],
    ["short", "short-secret"],
    ["a whsec_ of 16 bytes", `whsec_${btoa("0123456789abcdef")}`],
  ])("500: SYNC_SECRET %s, logged; the token routes keep working", async (_name, secret) => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const response = await send({ records: [] }, { env: { SYNC_SECRET: secret } });
    expect(response.status).toBe(500);
    expect(logged.mock.calls.flat().join("\n")).toMatch(/"event":"config_error".*SYNC_SECRET/);
    logged.mockRestore();
    const health = await call(worker, "/api/org_token/health/", {}, { SYNC_SECRET: secret });
    expect(health.status).toBe(200);
    const refresh = await postJson(
      worker,
      "/api/org_token/refresh/",
      { refresh: await mintToken({ userId: 1, userName: "x", orgName: "y" }) },
      { SYNC_SECRET: secret },
    );
    expect(refresh.status).toBe(403); // an unknown organization: answered, not a 500
  });

  it("503: D1 failing, nothing written, Retry-After", async () => {
    const broken = app({ clock, stores: faultyStores("primary.batch") });
    const userId = newUserId();
    const response = await deliver(broken, clock(), { records: [userRecord(userId, { username: unique("u") })] });
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await user(userId)).toBeNull();
  });
});

describe("sync: versions", () => {
  it("an older version never overwrites a newer one (out of order); an equal one is stale too", async () => {
    const w = await world();
    const older = nextVersion();
    const newer = nextVersion();
    expect(
      await (await send({ records: [userRecord(w.userId, { username: "newer_name" }, { version: newer })] })).json(),
    ).toEqual({ applied: 1, stale: 0, duplicate: false });
    expect(
      await (await send({ records: [userRecord(w.userId, { username: "older_name" }, { version: older })] })).json(),
    ).toEqual({ applied: 0, stale: 1, duplicate: false });
    expect(
      await (await send({ records: [userRecord(w.userId, { username: "equal_name" }, { version: newer })] })).json(),
    ).toEqual({ applied: 0, stale: 1, duplicate: false });
    expect(await user(w.userId)).toMatchObject({ username: "newer_name" });
  });

  it("a delete leaves a tombstone that a late upsert cannot resurrect", async () => {
    const w = await world();
    const lateUpsert = nextVersion();
    expect((await send({ records: [deleted("membership", w.memberUuid), deleted("user", w.userId)] })).status).toBe(
      200,
    );
    expect(await user(w.userId)).toBeNull();
    expect(await membership(w.memberUuid)).toBeNull();
    const late = await send({
      records: [
        userRecord(w.userId, { username: w.userName }, { version: lateUpsert }),
        membershipRecord(w.memberUuid, { user: w.userId, org: w.orgUuid, active: true }, lateUpsert),
      ],
    });
    expect(await late.json()).toEqual({ applied: 0, stale: 2, duplicate: false });
    expect(await user(w.userId)).toBeNull();
    expect(
      await env.DB.prepare("SELECT version, deleted FROM sync_version WHERE kind = 'user' AND key = ?1")
        .bind(String(w.userId))
        .first(),
    ).toMatchObject({ deleted: 1 });
  });

  it("a newer upsert after a delete brings the row back (the origin made it again)", async () => {
    const w = await world();
    await send({ records: [deleted("organization", w.orgUuid)] });
    expect(await org(w.orgUuid)).toBeNull();
    await send({ records: [orgRecord(w.orgUuid, w.orgName)] });
    expect((await org(w.orgUuid))?.name).toBe(w.orgName);
  });

  it("usernames swapped in one delivery", async () => {
    const a = await world();
    const b = await world();
    const response = await send({
      records: [userRecord(a.userId, { username: b.userName }), userRecord(b.userId, { username: a.userName })],
    });
    expect(response.status).toBe(200);
    expect(await user(a.userId)).toMatchObject({ username: b.userName });
    expect(await user(b.userId)).toMatchObject({ username: a.userName });
  });

  it("a name given to another row at the origin is taken from its holder here", async () => {
    const a = await world();
    const b = await world();
    await send({ records: [orgRecord(b.orgUuid, a.orgName)] });
    expect((await org(b.orgUuid))?.name).toBe(a.orgName);
    expect((await org(a.orgUuid))?.name).not.toBe(a.orgName); // until its own change arrives
    await send({ records: [orgRecord(a.orgUuid, `renamed_a_${a.orgName}`)] });
    expect((await org(a.orgUuid))?.name).toBe(`renamed_a_${a.orgName}`);
  });

  it("a membership whose user or org is null is gone", async () => {
    const w = await world();
    await send({ records: [membershipRecord(w.memberUuid, { user: null, org: w.orgUuid, active: true })] });
    expect(await membership(w.memberUuid)).toBeNull();
  });

  it("an organization made here under the origin's name takes its UUID (as import-django)", async () => {
    const name = unique("Local");
    await env.DB.prepare("INSERT INTO users_orgaccount (name) VALUES (?1)").bind(name).run();
    const uuid = crypto.randomUUID();
    await send({ records: [orgRecord(uuid, name)] });
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM users_orgaccount WHERE name = ?1").bind(name).first())?.n,
    ).toBe(1);
    expect((await org(uuid))?.name).toBe(name);
  });
});

describe("sync: social accounts", () => {
  const social = (key: number, fields: Record<string, unknown>, version = nextVersion()) => ({
    kind: "social_account",
    key,
    version,
    fields: { provider: "github", login: null, ...fields },
  });
  const row = (id: number) =>
    env.DB.prepare("SELECT user_id, provider, uid, login FROM socialaccount_socialaccount WHERE id = ?1")
      .bind(id)
      .first();

  it("upserted, moved to another uid holder, deleted", async () => {
    const a = await world();
    const b = await world();
    const uid = unique("uid");
    expect((await send({ records: [social(9001, { user: a.userId, uid, login: "octo" })] })).status).toBe(200);
    expect(await row(9001)).toEqual({ user_id: a.userId, provider: "github", uid, login: "octo" });
    // The origin gave the uid to another account (the first one's delete still on its way).
    expect((await send({ records: [social(9002, { user: b.userId, uid })] })).status).toBe(200);
    expect(await row(9001)).toBeNull();
    expect(await row(9002)).toMatchObject({ user_id: b.userId, uid });
    await send({ records: [deleted("social_account", 9002)] });
    expect(await row(9002)).toBeNull();
  });

  it("a deleted user takes its social accounts along", async () => {
    const w = await world();
    await send({ records: [social(9003, { user: w.userId, uid: unique("uid") })] });
    await send({ records: [deleted("user", w.userId)] });
    expect(await row(9003)).toBeNull();
  });
});

describe("sync: all or nothing", () => {
  it("a delivery failing in its last record writes nothing (500 records)", async () => {
    const ids = Array.from({ length: 499 }, newUserId);
    const records: unknown[] = ids.map((id) => userRecord(id, { username: unique("bulk") }));
    records.push(userRecord(newUserId(), { username: "x".repeat(151) }));
    const response = await send({ records });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ record: 499 });
    const { n } = (await env.DB.prepare(`SELECT count(*) AS n FROM users_user WHERE id IN (${ids.join(",")})`).first<{
      n: number;
    }>())!;
    expect(n).toBe(0);
  });

  it("a reference failing in the last record of 500 writes nothing, and leaves no staging behind", async () => {
    const ids = Array.from({ length: 499 }, newUserId);
    const records: unknown[] = ids.map((id) => userRecord(id, { username: unique("bulk") }));
    records.push(membershipRecord(crypto.randomUUID(), { user: ids[0]!, org: crypto.randomUUID(), active: true }));
    const response = await send({ records });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ record: 499 });
    const { n } = (await env.DB.prepare(`SELECT count(*) AS n FROM users_user WHERE id IN (${ids.join(",")})`).first<{
      n: number;
    }>())!;
    expect(n).toBe(0);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM sync_staging").first())?.n).toBe(0);
  });

  it("500 records apply in one batch", async () => {
    const ids = Array.from({ length: 500 }, newUserId);
    const response = await send({ records: ids.map((id) => userRecord(id, { username: unique("bulk") })) });
    expect(await response.json()).toEqual({ applied: 500, stale: 0, duplicate: false });
  });

  it("over 500 records: 400", async () => {
    const records = Array.from({ length: 501 }, () => userRecord(newUserId(), { username: unique("bulk") }));
    const response = await send({ records });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: "at most 500 records a delivery" });
  });
});

describe("sync: full reconciliation", () => {
  it("removes what the origin lacks, keeps what changed during the run, answers with what it removed", async () => {
    // The edge holds an import-made organization (no UUID) and rows the origin no longer has.
    const stay = await world();
    const gone = await world();
    await env.DB.prepare("INSERT INTO users_orgaccount (name) VALUES (?1)").bind(unique("EdgeMade")).run();
    const before = (await env.DB.prepare(
      "SELECT (SELECT count(*) FROM users_user) AS u, (SELECT count(*) FROM users_orgaccount) AS o, (SELECT count(*) FROM users_membership) AS m",
    ).first<{ u: number; o: number; m: number }>())!;

    const run = crypto.randomUUID();
    expect(await (await send({ full: { run, phase: "begin" } })).json()).toEqual({
      applied: 0,
      stale: 0,
      duplicate: false,
    });
    // The snapshot: the staying rows, at the versions they have (equal: applied, not stale).
    const kept = (kind: string, key: string) =>
      env.DB.prepare("SELECT version FROM sync_version WHERE kind = ?1 AND key = ?2")
        .bind(kind, key)
        .first<{ version: number }>();
    const page = await send({
      records: [
        userRecord(
          stay.userId,
          { username: stay.userName },
          { version: (await kept("user", String(stay.userId)))!.version },
        ),
        orgRecord(stay.orgUuid, stay.orgName, (await kept("organization", stay.orgUuid))!.version),
        membershipRecord(stay.memberUuid, { user: stay.userId, org: stay.orgUuid, active: true }, 0),
      ],
      full: { run, phase: "page" },
    });
    expect(await page.json()).toEqual({ applied: 2, stale: 1, duplicate: false });
    // A change while the run is open: a new user, not in the snapshot.
    const during = newUserId();
    expect((await send({ records: [userRecord(during, { username: unique("during") })] })).status).toBe(200);

    const end = await send({
      full: { run, phase: "end", counts: { user: 1, organization: 1, membership: 1, social_account: 0 } },
    });
    expect(end.status).toBe(200);
    const answer = await end.json<{ removed: Record<string, number> }>();
    expect(await user(stay.userId)).not.toBeNull();
    expect(await user(during)).not.toBeNull();
    expect(await membership(stay.memberUuid)).not.toBeNull();
    expect(await user(gone.userId)).toBeNull();
    expect(await org(gone.orgUuid)).toBeNull();
    const after = (await env.DB.prepare(
      "SELECT (SELECT count(*) FROM users_user) AS u, (SELECT count(*) FROM users_orgaccount) AS o, (SELECT count(*) FROM users_membership) AS m",
    ).first<{ u: number; o: number; m: number }>())!;
    expect(after).toEqual({ u: 2, o: 1, m: 1 });
    expect(answer.removed).toEqual({
      user: before.u - 1,
      organization: before.o - 1,
      membership: before.m - 1,
      social_account: 0,
    });
    // The run is closed: its end again is a 409.
    expect((await send({ full: { run, phase: "end", counts: {} } })).status).toBe(409);
  });

  it("a run that saw fewer rows than it sent (a page lost): 409 at its end, nothing removed, the run still open", async () => {
    const w = await world();
    const run = crypto.randomUUID();
    await send({ full: { run, phase: "begin" } });
    await send({
      records: [userRecord(w.userId, { username: w.userName }, { version: 0 })],
      full: { run, phase: "page" },
    });
    const end = await send({ full: { run, phase: "end", counts: { user: 2, organization: 0 } } });
    expect(end.status).toBe(409);
    expect(await end.json()).toEqual({ detail: "The run saw 1 of the 2 user rows it sent; nothing removed" });
    expect(await org(w.orgUuid)).not.toBeNull();
    // Its pages are accepted still; then the end reconciles.
    const other = newUserId();
    await send({
      records: [userRecord(other, { username: unique("late") }, { version: 0 })],
      full: { run, phase: "page" },
    });
    const done = await send({ full: { run, phase: "end", counts: { user: 2 } } });
    expect(done.status).toBe(200);
    expect(await user(w.userId)).not.toBeNull();
    expect(await user(other)).not.toBeNull();
    // Only the kinds the counts name are reconciled: the organization and membership stay.
    expect(await org(w.orgUuid)).not.toBeNull();
    expect(await membership(w.memberUuid)).not.toBeNull();
    expect((await done.json<{ removed: Record<string, number> }>()).removed).toMatchObject({
      organization: 0,
      membership: expect.any(Number),
    });
  });

  it("an end without counts: 400", async () => {
    const run = crypto.randomUUID();
    await send({ full: { run, phase: "begin" } });
    const end = await send({ full: { run, phase: "end" } });
    expect(end.status).toBe(400);
    expect(await end.json()).toEqual({ detail: "full.counts must be an object at a run's end" });
    await env.DB.prepare("DELETE FROM sync_run").run();
  });
});

describe("sync: security events", () => {
  const store = () => new D1SyncStore(env.DB);
  const at = 1_900_000_000_123;
  const apply = (body: unknown, revokeOnPasswordChange = true) =>
    store().apply(parseDelivery(body), { id: deliveryId(), nowMs: at, revokeOnPasswordChange });

  it("a password change ends the user's sessions at the edge's clock", async () => {
    const w = await world();
    const outcome = await apply({
      records: [userRecord(w.userId, { username: w.userName, password: "new" }, { password_changed: true })],
    });
    expect(outcome).toMatchObject({ kind: "applied", endedSessions: [{ id: w.userId, revokedAtMs: at }] });
    expect(await user(w.userId)).toMatchObject({ sessions_revoked_at: at });
  });

  it("through the route: sessions_revoked_at is the clock's millisecond", async () => {
    const w = await world();
    await send({
      records: [userRecord(w.userId, { username: w.userName, password: "new" }, { password_changed: true })],
    });
    expect(await user(w.userId)).toMatchObject({ sessions_revoked_at: clock() });
  });

  it("SYNC_REVOKE_ON_PASSWORD_CHANGE=off: a password change ends nothing", async () => {
    const w = await world();
    const response = await send(
      { records: [userRecord(w.userId, { username: w.userName, password: "new" }, { password_changed: true })] },
      { env: { SYNC_REVOKE_ON_PASSWORD_CHANGE: "off" } },
    );
    expect(response.status).toBe(200);
    expect(await user(w.userId)).toMatchObject({ password: "new", sessions_revoked_at: null });
  });

  it("a hash that changed without password_changed ends nothing (no inference)", async () => {
    const w = await world();
    const outcome = await apply({ records: [userRecord(w.userId, { username: w.userName, password: "upgraded" })] });
    expect(outcome).toMatchObject({ endedSessions: [] });
    expect(await user(w.userId)).toMatchObject({ sessions_revoked_at: null });
  });

  it("an active user made inactive ends them; an inactive one again does not", async () => {
    const w = await world();
    expect(await apply({ records: [userRecord(w.userId, { username: w.userName, is_active: false })] })).toMatchObject({
      endedSessions: [{ id: w.userId, revokedAtMs: at }],
    });
    await env.DB.prepare("UPDATE users_user SET sessions_revoked_at = NULL WHERE id = ?1").bind(w.userId).run();
    expect(await apply({ records: [userRecord(w.userId, { username: w.userName, is_active: false })] })).toMatchObject({
      endedSessions: [],
    });
    expect(await user(w.userId)).toMatchObject({ sessions_revoked_at: null });
  });

  it("a deleted active user is returned as ended", async () => {
    const w = await world();
    expect(await apply({ records: [deleted("user", w.userId)] })).toMatchObject({
      endedSessions: [{ id: w.userId, revokedAtMs: at }],
    });
  });

  it("a deactivated membership ends nothing", async () => {
    const w = await world();
    const outcome = await apply({
      records: [membershipRecord(w.memberUuid, { user: w.userId, org: w.orgUuid, active: false })],
    });
    expect(outcome).toMatchObject({ applied: 1, endedSessions: [] });
    expect(await user(w.userId)).toMatchObject({ sessions_revoked_at: null });
    expect(await membership(w.memberUuid)).toMatchObject({ active: 0 });
  });
});
