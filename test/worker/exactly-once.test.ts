/** Issue: exactly-once refresh, reuse detection, retry grace, failure atomicity, ledger hygiene. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { faultyStores, type Step } from "../support/faults";
import {
  type App,
  app,
  BLACKLISTED,
  claimsOf,
  env,
  hexId,
  manualClock,
  mintToken,
  postJson,
  seed,
  setMembership,
} from "../support/harness";

const PATH = "/api/org_token/refresh/";

async function refreshAll(target: App, token: string, times: number, envOverrides = {}) {
  return Promise.all(
    Array.from({ length: times }, async () => {
      const response = await postJson(target, PATH, { refresh: token }, envOverrides);
      return { status: response.status, body: await response.json<Record<string, string>>() };
    }),
  );
}

describe("exactly-once redemption", () => {
  it.each([1, 2, 3])("50 concurrent refreshes of one token: one pair, 49 blacklisted (round %i)", async () => {
    const s = await seed();
    const token = await mintToken(s);
    const results = await refreshAll(app(), token, 50);
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.body).toHaveProperty("refresh");
    const losers = results.filter((r) => r.status !== 200);
    expect(losers).toHaveLength(49);
    for (const loser of losers) {
      expect(loser.status).toBe(403);
      expect(loser.body).toEqual(BLACKLISTED);
    }
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM token_ledger WHERE jti = ?1")
      .bind(claimsOf(token).jti)
      .first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it("a loser whose clock read earlier than the winner's still loses, and the winner's pair lives", async () => {
    const start = Date.now();
    const s = await seed();
    const token = await mintToken(s, { nowMs: start });
    const winner = await postJson(app({ clock: () => start + 5 }), PATH, { refresh: token });
    expect(winner.status).toBe(200);
    const pair = await winner.json<Record<string, string>>();
    const earlier = await postJson(app({ clock: () => start }), PATH, { refresh: token });
    expect(earlier.status).toBe(403);
    expect(await earlier.json()).toEqual(BLACKLISTED);
    expect((await postJson(app({ clock: () => start + 10 }), PATH, { refresh: pair.refresh })).status).toBe(200);
  });
});

async function familyRevoked(token: string) {
  const family = claimsOf(token).fam ?? claimsOf(token).jti;
  return (
    (await env.DB.prepare("SELECT 1 FROM token_family_revocation WHERE family = ?1").bind(family).first()) !== null
  );
}

describe("races log no one out (REFRESH_RACE_WINDOW, default 10 s)", () => {
  it.each([2, 10, 25])(
    "%i concurrent refreshes: one pair, the rest blacklisted, the winner's token refreshes on",
    async (n) => {
      const clock = manualClock();
      const target = app({ clock });
      const s = await seed();
      const token = await mintToken(s, { nowMs: clock() });
      const results = await refreshAll(target, token, n);
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      expect(
        results.filter((r) => r.status === 403 && JSON.stringify(r.body) === JSON.stringify(BLACKLISTED)),
      ).toHaveLength(n - 1);
      expect(await familyRevoked(token)).toBe(false);

      clock.advance(1);
      const next = await postJson(target, PATH, { refresh: winners[0]!.body.refresh });
      expect(next.status).toBe(200);
      expect(await next.json()).toHaveProperty("refresh");
    },
  );

  it("a loser arriving late in the window is refused without revoking; after the window, a replay revokes", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, PATH, { refresh: token })).json<Record<string, string>>();
    clock.advance(9.999);
    expect(await (await postJson(target, PATH, { refresh: token })).json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(token)).toBe(false);

    clock.advance(0.001); // 10 s after the rotation: no longer a race
    const replay = await postJson(target, PATH, { refresh: token });
    expect(replay.status).toBe(403);
    expect(await replay.json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(token)).toBe(true);
    expect(await (await postJson(target, PATH, { refresh: pair.refresh })).json()).toEqual(BLACKLISTED);
  });

  it("REFRESH_RACE_WINDOW=0: a concurrent loser is reuse, and the winner's pair dies with the family", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const strict = { REFRESH_RACE_WINDOW: "0" };
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const results = await refreshAll(target, token, 2, strict);
    const successor = results.find((r) => r.status === 200)!.body.refresh!;
    expect(await familyRevoked(token)).toBe(true);
    expect(await (await postJson(target, PATH, { refresh: successor }, strict)).json()).toEqual(BLACKLISTED);
  });

  it("a logout racing a refresh of the same token ends the session: logout has no race window", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, PATH, { refresh: token })).json<Record<string, string>>();
    expect(await (await postJson(target, "/api/token/blacklist/", { refresh: token })).json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(token)).toBe(true);
    expect((await postJson(target, PATH, { refresh: pair.refresh })).status).toBe(403);
  });
});

describe("reuse detection (RFC 9700 4.14.2)", () => {
  it("replaying a consumed token revokes its family: the newest refresh token stops working", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const login = await mintToken(s, { nowMs: clock() });
    const first = await (await postJson(target, PATH, { refresh: login })).json<Record<string, string>>();
    clock.advance(10);
    const second = await (await postJson(target, PATH, { refresh: first.refresh })).json<Record<string, string>>();
    expect(second).toHaveProperty("refresh");

    clock.advance(10);
    const replay = await postJson(target, PATH, { refresh: login }); // the thief's copy
    expect(replay.status).toBe(403);
    expect(await replay.json()).toEqual(BLACKLISTED);

    const victim = await postJson(target, PATH, { refresh: second.refresh });
    expect(victim.status).toBe(403);
    expect(await victim.json()).toEqual(BLACKLISTED);
    const family = claimsOf(login).jti!;
    expect(
      await env.DB.prepare("SELECT family FROM token_family_revocation WHERE family = ?1").bind(family).first(),
    ).not.toBeNull();
  });

  it("revokes only that family: the same user's other login keeps working", async () => {
    const s = await seed();
    const target = app();
    const stolen = await mintToken(s);
    const other = await mintToken(s);
    expect((await postJson(target, PATH, { refresh: stolen })).status).toBe(200);
    expect((await postJson(target, PATH, { refresh: stolen })).status).toBe(403);
    expect((await postJson(target, PATH, { refresh: other })).status).toBe(200);
  });

  it("a replay by a member no longer active is still reuse: blacklisted first, the family revoked", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const login = await mintToken(s, { nowMs: clock() });
    expect((await postJson(target, PATH, { refresh: login })).status).toBe(200);
    await setMembership(s, false);
    clock.advance(60);
    expect(await (await postJson(target, PATH, { refresh: login })).json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(login)).toBe(true);
  });
});

describe("retry grace (REFRESH_REUSE_INTERVAL)", () => {
  const grace = { REFRESH_REUSE_INTERVAL: "30" };

  it("concurrent and repeated refreshes inside the interval all get the identical pair", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const results = await refreshAll(target, token, 20, grace);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const pairs = new Set(results.map((r) => JSON.stringify(r.body)));
    expect(pairs.size).toBe(1);

    clock.advance(29);
    const later = await postJson(target, PATH, { refresh: token }, grace);
    expect(JSON.stringify(await later.json())).toBe([...pairs][0]);
    // Still one rotation on record.
    expect(claimsOf(results[0]!.body.refresh!).iat).toBe(Math.floor((clock() - 29_000) / 1000));
  });

  it("a retry within the interval from a member no longer active gets {active: false}, not the pair", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    expect((await postJson(target, PATH, { refresh: token }, grace)).status).toBe(200);
    await setMembership(s, false);
    const retry = await postJson(target, PATH, { refresh: token }, grace);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ active: false });
  });

  it("after the interval, reuse detection: 403 and the successor is revoked", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, PATH, { refresh: token }, grace)).json<Record<string, string>>();
    clock.advance(30);
    const late = await postJson(target, PATH, { refresh: token }, grace);
    expect(late.status).toBe(403);
    expect(await late.json()).toEqual(BLACKLISTED);
    expect((await postJson(target, PATH, { refresh: pair.refresh }, grace)).status).toBe(403);
  });

  it("the successor pair itself rotates normally within the family", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, PATH, { refresh: token }, grace)).json<Record<string, string>>();
    clock.advance(5);
    const next = await postJson(target, PATH, { refresh: pair.refresh }, grace);
    expect(next.status).toBe(200);
    expect(claimsOf((await next.json<Record<string, string>>()).refresh!).fam).toBe(claimsOf(token).jti);
  });

  it("with the default of 0, a retry gets no pair: within the race window 403, after it reuse", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, PATH, { refresh: token })).json<Record<string, string>>();
    expect((await postJson(target, PATH, { refresh: token })).status).toBe(403);
    clock.advance(10);
    expect((await postJson(target, PATH, { refresh: token })).status).toBe(403);
    expect((await postJson(target, PATH, { refresh: pair.refresh })).status).toBe(403);
  });
});

describe("failure atomicity: storage failures answer 503 and leave the token usable", () => {
  it.each<Step>(["primary.batch"])("when %s fails", async (step) => {
    const s = await seed();
    const token = await mintToken(s);
    const broken = await postJson(app({ stores: faultyStores(step) }), PATH, { refresh: token });
    expect(broken.status).toBe(503);
    expect(broken.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await broken.json()).toHaveProperty("detail");
    expect(
      await env.DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1").bind(claimsOf(token).jti).first(),
    ).toBeNull();

    const healed = await postJson(app(), PATH, { refresh: token });
    expect(healed.status).toBe(200);
    expect(await healed.json()).toHaveProperty("refresh");
  });

  it("a consuming write that committed but whose answer was lost still answers the pair", async () => {
    const s = await seed();
    const token = await mintToken(s);
    const response = await postJson(app({ stores: faultyStores("primary.batch+committed") }), PATH, { refresh: token });
    expect(response.status).toBe(200);
    const pair = await response.json<Record<string, string>>();
    expect(claimsOf(pair.refresh!).fam).toBe(claimsOf(token).jti);
    // Consumed exactly once: the replay is refused, as after any win.
    expect(await (await postJson(app(), PATH, { refresh: token })).json()).toEqual(BLACKLISTED);
  });

  it("KV and the read replica are not on the refresh path: their failure changes nothing", async () => {
    const s = await seed();
    const token = await mintToken(s);
    const response = await postJson(app({ stores: faultyStores("kv.get", "kv.put", "replica.read") }), PATH, {
      refresh: token,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("access");
    expect(await (await postJson(app(), PATH, { refresh: token })).json()).toEqual(BLACKLISTED);
  });

  it("a consuming write that failed without committing: 503, and the same token refreshes later", async () => {
    const s = await seed();
    const token = await mintToken(s);
    expect((await postJson(app({ stores: faultyStores("primary.batch") }), PATH, { refresh: token })).status).toBe(503);
    expect((await postJson(app(), PATH, { refresh: token })).status).toBe(200);
  });

  it("revoking a family when the primary is down: 503, and the replay is still detected later", async () => {
    const clock = manualClock();
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(app({ clock }), PATH, { refresh: token })).json<Record<string, string>>();
    clock.advance(60);
    const broken = await postJson(app({ clock, stores: faultyStores("primary.batch") }), PATH, { refresh: token });
    expect(broken.status).toBe(503);
    expect((await postJson(app({ clock }), PATH, { refresh: token })).status).toBe(403);
    expect((await postJson(app({ clock }), PATH, { refresh: pair.refresh })).status).toBe(403);
  });
});

describe("ledger hygiene (Cron Trigger)", () => {
  it("the scheduled handler deletes only rows whose tokens have expired", async () => {
    const now = Date.UTC(2030, 0, 1);
    const nowSeconds = now / 1000;
    const rows = [
      { jti: hexId(), expires_at: nowSeconds - 3600, keep: false },
      { jti: hexId(), expires_at: nowSeconds - 1, keep: false },
      { jti: hexId(), expires_at: nowSeconds, keep: true },
      { jti: hexId(), expires_at: nowSeconds + 3600, keep: true },
    ];
    for (const row of rows) {
      await env.DB.prepare(
        "INSERT INTO token_ledger (jti, family, reason, used_at, expires_at) VALUES (?1, ?1, 'rotated', 0, ?2)",
      )
        .bind(row.jti, row.expires_at)
        .run();
      await env.DB.prepare("INSERT INTO token_family_revocation (family, revoked_at, expires_at) VALUES (?1, 0, ?2)")
        .bind(row.jti, row.expires_at)
        .run();
    }
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "17 * * * *", scheduledTime: now }), env, ctx);
    await waitOnExecutionContext(ctx);
    for (const row of rows) {
      const ledger = await env.DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1").bind(row.jti).first();
      const family = await env.DB.prepare("SELECT 1 FROM token_family_revocation WHERE family = ?1")
        .bind(row.jti)
        .first();
      expect(ledger !== null).toBe(row.keep);
      expect(family !== null).toBe(row.keep);
    }
  });
});
