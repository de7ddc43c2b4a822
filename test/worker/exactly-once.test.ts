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

const LOGOUT = "/api/token/blacklist/";

async function pairOf(response: Response) {
  expect(response.status).toBe(200);
  return response.json<Record<string, string>>();
}

describe("honest clients keep their session: a replay while the successor is unused ends nothing", () => {
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

  it("a lost response (the Python client): resent at 70 ms, 11 s, then on every call for a day, 403 each time and the session lives", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const lost = await pairOf(await postJson(target, PATH, { refresh: token })); // never reached the client
    for (const after of [0.07, 11 - 0.07, ...Array.from({ length: 12 }, () => 7200)]) {
      clock.advance(after);
      const resent = await postJson(target, PATH, { refresh: token });
      expect(resent.status).toBe(403);
      expect(await resent.json()).toEqual(BLACKLISTED);
    }
    expect(await familyRevoked(token)).toBe(false);
    // Nothing was ended: the pair the server signed is still the family's live one.
    expect((await postJson(target, PATH, { refresh: lost.refresh })).status).toBe(200);
  });

  it("a duplicated tab: the loser resends at 31 s and 62 s, refused; the winning tab is not logged out", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const [a, b] = await refreshAll(target, token, 2);
    const winner = [a!, b!].find((r) => r.status === 200)!;
    expect([a!.status, b!.status].sort()).toEqual([200, 403]);
    for (const after of [31, 31]) {
      clock.advance(after);
      expect(await (await postJson(target, PATH, { refresh: token })).json()).toEqual(BLACKLISTED);
    }
    expect(await familyRevoked(token)).toBe(false);
    clock.advance(3600);
    const next = await postJson(target, PATH, { refresh: winner.body.refresh });
    expect(next.status).toBe(200);
  });

  it("REFRESH_REUSE_INTERVAL=30: the lost response healed (70 ms, 11 s: the identical pair), the 62 s resend refused and ending nothing", async () => {
    const grace = { REFRESH_REUSE_INTERVAL: "30" };
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const first = await postJson(target, PATH, { refresh: token }, grace);
    const pair = JSON.stringify(await first.json());
    for (const after of [0.07, 11 - 0.07]) {
      clock.advance(after);
      const again = await postJson(target, PATH, { refresh: token }, grace);
      expect(again.status).toBe(200);
      expect(JSON.stringify(await again.json())).toBe(pair);
    }
    clock.advance(62 - 11);
    const late = await postJson(target, PATH, { refresh: token }, grace);
    expect(late.status).toBe(403);
    expect(await late.json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(token)).toBe(false);
    expect((await postJson(target, PATH, { refresh: JSON.parse(pair).refresh }, grace)).status).toBe(200);
  });

  it("REFRESH_REUSE_INTERVAL=30: once the successor was used, a retry within the interval gets no pair and revokes", async () => {
    const grace = { REFRESH_REUSE_INTERVAL: "30" };
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await pairOf(await postJson(target, PATH, { refresh: token }, grace));
    clock.advance(1);
    const next = await pairOf(await postJson(target, PATH, { refresh: pair.refresh }, grace));
    clock.advance(1);
    expect(await (await postJson(target, PATH, { refresh: token }, grace)).json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(token)).toBe(true);
    expect((await postJson(target, PATH, { refresh: next.refresh }, grace)).status).toBe(403);
  });
});

describe("theft after the chain moved on: the family ends, both sides refused, at any time", () => {
  it.each([0.001, 5, 86400])(
    "the victim went on (rotated twice); the thief's copy of the first token %s s later revokes, the victim's newest too",
    async (delay) => {
      const clock = manualClock();
      const target = app({ clock });
      const s = await seed();
      const stolen = await mintToken(s, { nowMs: clock() });
      const first = await pairOf(await postJson(target, PATH, { refresh: stolen }));
      const second = await pairOf(await postJson(target, PATH, { refresh: first.refresh }));
      clock.advance(delay);
      expect(await (await postJson(target, PATH, { refresh: stolen })).json()).toEqual(BLACKLISTED);
      expect(await familyRevoked(stolen)).toBe(true);
      expect(await (await postJson(target, PATH, { refresh: second.refresh })).json()).toEqual(BLACKLISTED);
    },
  );

  it("the thief went first and on; the victim's resend of the stolen token revokes, the thief's newest refused", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const stolen = await mintToken(s, { nowMs: clock() });
    const thief1 = await pairOf(await postJson(target, PATH, { refresh: stolen }));
    clock.advance(60);
    // Not detected yet: the successor is unused, this could be the victim's lost response.
    expect(await (await postJson(target, PATH, { refresh: stolen })).json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(stolen)).toBe(false);
    clock.advance(60);
    const thief2 = await pairOf(await postJson(target, PATH, { refresh: thief1.refresh }));
    clock.advance(60);
    expect(await (await postJson(target, PATH, { refresh: stolen })).json()).toEqual(BLACKLISTED); // the victim again
    expect(await familyRevoked(stolen)).toBe(true);
    expect(await (await postJson(target, PATH, { refresh: thief2.refresh })).json()).toEqual(BLACKLISTED);
  });

  it("a spent token whose successor was logged out is reuse too", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await pairOf(await postJson(target, PATH, { refresh: token }));
    expect((await postJson(target, LOGOUT, { refresh: pair.refresh })).status).toBe(200);
    expect(await (await postJson(target, PATH, { refresh: token })).json()).toEqual(BLACKLISTED);
    expect(await familyRevoked(token)).toBe(true);
  });

  it("logging out with a spent token ends the family it belongs to (the session it asked to end)", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await pairOf(await postJson(target, PATH, { refresh: token }));
    expect(await (await postJson(target, LOGOUT, { refresh: token })).json()).toEqual(BLACKLISTED);
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
    const pair = await pairOf(await postJson(target, PATH, { refresh: login }));
    expect((await postJson(target, PATH, { refresh: pair.refresh })).status).toBe(200);
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

  it("after the interval, the blacklisted 403; the unused successor lives on", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, PATH, { refresh: token }, grace)).json<Record<string, string>>();
    clock.advance(30);
    const late = await postJson(target, PATH, { refresh: token }, grace);
    expect(late.status).toBe(403);
    expect(await late.json()).toEqual(BLACKLISTED);
    expect((await postJson(target, PATH, { refresh: pair.refresh }, grace)).status).toBe(200);
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

  it("with the default of 0, a retry gets no pair, now or later, and ends nothing", async () => {
    const clock = manualClock();
    const target = app({ clock });
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() });
    const pair = await (await postJson(target, PATH, { refresh: token })).json<Record<string, string>>();
    expect((await postJson(target, PATH, { refresh: token })).status).toBe(403);
    clock.advance(10);
    expect((await postJson(target, PATH, { refresh: token })).status).toBe(403);
    expect((await postJson(target, PATH, { refresh: pair.refresh })).status).toBe(200);
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
    const next = await pairOf(await postJson(app({ clock }), PATH, { refresh: pair.refresh }));
    clock.advance(60);
    const broken = await postJson(app({ clock, stores: faultyStores("primary.batch") }), PATH, { refresh: token });
    expect(broken.status).toBe(503);
    expect((await postJson(app({ clock }), PATH, { refresh: token })).status).toBe(403);
    expect((await postJson(app({ clock }), PATH, { refresh: next.refresh })).status).toBe(403);
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
