/**
 * Round trips per path (docs/exactly-once.md): the real D1 and KV bindings, recorded. A
 * refresh, a replay, an inactive member's refresh and a logout each wait on one call: the
 * D1 primary batch (a logout's KV write comes after the response). Membership status and
 * the guard wait on one stage: the D1 read and the KV blacklist side by side. simplejwt's
 * refresh waits on one call too. A new serial stage on any of them fails here.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { d1Stores } from "../../worker/app";
import {
  type app,
  call,
  claimsOf,
  env,
  hexId,
  manualClock,
  mintToken,
  postJson,
  QUICK_HASH,
  quickApp,
  seed,
  setMembership,
  vectors,
} from "../support/harness";
import { recorder } from "../support/recording";

const REFRESH = "/api/org_token/refresh/";
const LOGOUT = "/api/token/blacklist/";

function recordedApp(clock = manualClock()) {
  const record = recorder();
  // The test password work for its logins: the round trips are the point, not the hash.
  const target = quickApp({ clock, stores: (bindings, background) => d1Stores(record.env(bindings), background) });
  return { record, target, clock };
}

/** A POST whose response is taken before its background work is awaited: was `name` still running then? */
async function runningAfterResponse(
  record: ReturnType<typeof recorder>,
  target: ReturnType<typeof app>,
  path: string,
  refresh: string,
  name: string,
) {
  const ctx = createExecutionContext();
  const init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh }) };
  const response = await target.fetch(new Request(`http://ps.test${path}`, init), env, ctx);
  const call = record.calls.find((c) => c.name === name);
  const running = call !== undefined && call.end === undefined;
  await waitOnExecutionContext(ctx);
  return { response, running };
}

describe("round trips per path", () => {
  it("success: one call, the primary batch; no KV, no session", async () => {
    const { record, target, clock } = recordedApp();
    const s = await seed();
    const response = await postJson(target, REFRESH, { refresh: await mintToken(s, { nowMs: clock() }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("refresh");
    expect(record.names()).toEqual(["d1.batch"]);
    expect(record.calls.some((c) => c.name.endsWith("withSession"))).toBe(false);
    expect(record.stages()).toBe(1);
    // One read (ledger row, family revocation, standing), the conditional revocation, the consuming insert.
    expect(record.calls[0]?.statements).toBe(3);
  });

  it("replay while the successor is unused (nothing revoked): one call, no KV", async () => {
    const { record, target, clock } = recordedApp();
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    expect((await postJson(target, REFRESH, { refresh: token })).status).toBe(200);
    clock.advance(3600);
    record.reset();
    const replay = await postJson(target, REFRESH, { refresh: token });
    expect(replay.status).toBe(403);
    expect(record.names()).toEqual(["d1.batch"]);
  });

  it("replay after the chain moved on (family revoked in the same batch): one call, then the KV write after the response", async () => {
    const { record, target, clock } = recordedApp();
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, REFRESH, { refresh: token })).json<Record<string, string>>();
    expect((await postJson(target, REFRESH, { refresh: pair.refresh })).status).toBe(200);
    clock.advance(60);
    record.reset();
    const { response: replay, running } = await runningAfterResponse(record, target, REFRESH, token, "kv.put");
    expect(replay.status).toBe(403);
    expect(record.names()).toEqual(["d1.batch", "kv.put"]);
    expect(running).toBe(true); // the put was handed to waitUntil: the response did not wait for it
    const family = claimsOf(token).jti;
    expect(
      await env.DB.prepare("SELECT 1 FROM token_family_revocation WHERE family = ?1").bind(family).first(),
    ).not.toBeNull();
  });

  it("a race loser and a retry within REFRESH_REUSE_INTERVAL: one call each", async () => {
    const { record, target } = recordedApp();
    const s = await seed();
    for (const vars of [{}, { REFRESH_REUSE_INTERVAL: "30" }]) {
      const token = await mintToken(s);
      expect((await postJson(target, REFRESH, { refresh: token }, vars)).status).toBe(200);
      record.reset();
      const again = await postJson(target, REFRESH, { refresh: token }, vars);
      expect(again.status).toBe("REFRESH_REUSE_INTERVAL" in vars ? 200 : 403);
      expect(record.names()).toEqual(["d1.batch"]);
    }
  });

  it("inactive member: one call, and the token is not consumed", async () => {
    const { record, target, clock } = recordedApp();
    const s = await seed({ membership: "inactive" });
    const token = await mintToken(s, { nowMs: clock() });
    const response = await postJson(target, REFRESH, { refresh: token });
    expect(await response.json()).toEqual({ active: false });
    expect(record.names()).toEqual(["d1.batch"]);
    expect(
      await env.DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1").bind(claimsOf(token).jti).first(),
    ).toBeNull();
    await setMembership(s, true);
    expect((await postJson(target, REFRESH, { refresh: token })).status).toBe(200);
  });

  it("membership errors: one call", async () => {
    const { record, target, clock } = recordedApp();
    const s = await seed({ membership: null });
    const response = await postJson(target, REFRESH, { refresh: await mintToken(s, { nowMs: clock() }) });
    expect(response.status).toBe(403);
    expect(record.names()).toEqual(["d1.batch"]);
  });

  it("logout: one call, then the ended family's KV write after the response", async () => {
    const { record, target, clock } = recordedApp();
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const { response, running } = await runningAfterResponse(record, target, LOGOUT, token, "kv.put");
    expect(await response.json()).toEqual({});
    expect(record.names()).toEqual(["d1.batch", "kv.put"]);
    expect(running).toBe(true);
  });

  it("membership status: one stage, the D1 read and the KV blacklist side by side", async () => {
    const { record, target, clock } = recordedApp();
    const s = await seed();
    const access = await mintToken(s, { type: "access", nowMs: clock(), claims: { fam: hexId() } });
    const response = await call(target, `/api/membership_status/${s.orgName}/`, {
      headers: { Authorization: `Bearer ${access}` },
    });
    expect(await response.json()).toEqual({ active: true });
    expect(record.names().sort()).toEqual(["kv.get", "session.first"]);
    expect(record.stages()).toBe(1);
  });

  it("an invalid token: no call at all", async () => {
    const { record, target } = recordedApp();
    const s = await seed();
    // The seed's 403 at refresh; simplejwt's TokenBlacklistView's 401 at logout.
    for (const [path, status] of [
      [REFRESH, 403],
      [LOGOUT, 401],
    ] as const) {
      const forged = await mintToken(s, { secret: "the-attackers-secret-is-long-enough-too-00" });
      expect((await postJson(target, path, { refresh: forged })).status).toBe(status);
    }
    expect(record.calls).toEqual([]);
  });

  it("login: the counters in one batch before the password, and settled in one batch after", async () => {
    const { record, target } = recordedApp();
    const s = await seed({ passwordHash: QUICK_HASH });
    const body = { username: s.userName, password: vectors.django_password_hashes.password, org_name: s.orgName };
    expect((await postJson(target, "/api/org_token/", body)).status).toBe(200);
    // take, credentials (a replica read), then the settlement in the background beside the standing.
    expect(record.names()).toEqual(["d1.batch", "session.first", "d1.batch", "session.first"]);
    expect(record.calls.filter((c) => c.name === "d1.batch").map((c) => c.statements)).toEqual([3, 3]);
    record.reset();
    const wrong = { ...body, password: "not the password" };
    expect((await postJson(target, "/api/org_token/", wrong)).status).toBe(401);
    expect(record.names()).toEqual(["d1.batch", "session.first"]); // the failure stays counted
  });

  it("the recorder sees a serial stage when there is one (membership status through a session)", async () => {
    const { record } = recordedApp();
    const stores = d1Stores(record.env(env), () => undefined);
    const s = await seed();
    await stores.members.standing(s.userId, s.orgName);
    await stores.revocations.purgeExpired(Date.now());
    expect(record.names()).toEqual(["session.first", "d1.batch"]);
    expect(record.stages()).toBe(2);
  });
});

describe("round trips of simplejwt's refresh (TOKEN_REFRESH_PATH)", () => {
  const SJ = { TOKEN_OBTAIN_PAIR_PATH: "/api/sj/token/", TOKEN_REFRESH_PATH: "/api/sj/token/refresh/" };

  // Spending: the read and the consuming insert in one batch; without rotation nothing is written: one read.
  for (const [name, flags, calls] of [
    [
      "rotating and spending (ROTATE_REFRESH_TOKENS, BLACKLIST_AFTER_ROTATION)",
      { ROTATE_REFRESH_TOKENS: "True", BLACKLIST_AFTER_ROTATION: "True" },
      ["d1.batch"],
    ],
    ["without rotation", {}, ["d1.first"]],
  ] as const) {
    it(`${name}: one call (${calls.join(", ")}); no KV`, async () => {
      const { record, target } = recordedApp();
      const s = await seed({ passwordHash: QUICK_HASH });
      const vars = { ...SJ, ...flags };
      const login = await postJson(
        target,
        SJ.TOKEN_OBTAIN_PAIR_PATH,
        { username: s.userName, password: vectors.django_password_hashes.password },
        vars,
      );
      expect(login.status).toBe(200);
      const { refresh } = await login.json<{ refresh: string }>();
      record.reset();
      const response = await postJson(target, SJ.TOKEN_REFRESH_PATH, { refresh }, vars);
      expect(response.status).toBe(200);
      expect(record.names()).toEqual(calls);
      expect(record.stages()).toBe(1);
    });
  }
});
