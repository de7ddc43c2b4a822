/**
 * The benchmark's Worker: the real app, with bench-only routes that seed members and mint
 * login pairs, and (header `X-Bench-Delays`) the same app over bindings that add
 * production-like delays to every D1 and KV call (./worker-delays.ts), timed inside the
 * Worker (`/__bench/model`) so the local HTTP proxy's cost stays out of it. Never deployed.
 * It imports only what the app has exported since its first version (createApp,
 * loadConfig, issueLoginPair), so `npm run bench -- --before <checkout>` can run it
 * against an older checkout too.
 */
import { Hono } from "hono";
import { buildApi } from "../../src/app";
import { loadConfig } from "../../src/config";
import { issueLoginPair } from "../../src/tokens/issue";
import { createApp } from "../../worker/app";
import type { Env } from "../../worker/env";
import * as envModule from "../../worker/env";
import { type Delays, delayedEnv } from "./worker-delays";

const app = createApp();

// A host route behind requireOrgToken(), for the latency model's guard path.
const guarded = new Hono<{ Bindings: Env }>();
guarded.get("/__bench/guarded", buildApi(envModule.workerApiOptions).requireOrgToken(), (c) => c.json({ ok: true }));

/**
 * What loadConfig takes: `workerConfigInput(env)` since the mounting factory, the env itself
 * before it (an older checkout run with `--before`, whose env module has no such export).
 */
function configOf(env: Env) {
  const adapt = (envModule as Partial<typeof envModule>).workerConfigInput;
  return loadConfig((adapt ? adapt(env) : env) as Parameters<typeof loadConfig>[0]);
}

/**
 * The road not taken, for `npm run bench -- --kv-raced`: the same app with the KV blacklist
 * kept, its two gets raced alongside the primary batch (never in front of it) and the
 * consumed jti written to KV after a win, as an edge copy for fast rejects would need.
 * Answers are the real app's; only the KV traffic is added. Built lazily: an older
 * checkout run with `--before` has no d1Stores of this shape and never gets this header.
 */
let kvRaced: ReturnType<typeof createApp> | undefined;
async function kvRacedApp() {
  const { d1Stores } = await import("../../worker/app");
  kvRaced ??= createApp({
    stores: (env, background) => {
      const stores = d1Stores(env, background);
      const raced =
        (decide: typeof stores.revocations.redeem): typeof stores.revocations.redeem =>
        async (token, attempt) => {
          const gets = Promise.all([
            env.BLACKLIST.get(`jti:${token.jti}`),
            env.BLACKLIST.get(`family:${token.family}`),
          ]);
          background(gets.catch(() => undefined));
          const verdict = await decide(token, attempt);
          if (verdict.won) {
            const value = JSON.stringify({ reason: "rotated", used_at: attempt.usedAtMs });
            background(env.BLACKLIST.put(`jti:${token.jti}`, value, { expirationTtl: 3600 }).catch(() => undefined));
          }
          return verdict;
        };
      const revocations = stores.revocations;
      return {
        ...stores,
        revocations: {
          redeem: raced((t, a) => revocations.redeem(t, a)),
          logout: raced((t, a) => revocations.logout(t, a)),
          purgeExpired: (now) => revocations.purgeExpired(now),
        },
      };
    },
  });
  return kvRaced;
}

/** For `npm run bench -- --memory-stores`: the same app over stores answering from memory. */
let inMemory: ReturnType<typeof createApp> | undefined;
async function memoryApp() {
  if (inMemory === undefined) {
    const { memoryStores } = await import("./memory");
    const stores = memoryStores();
    inMemory = createApp({ stores: () => stores });
  }
  return inMemory;
}

// Two members of one organization: 1 active, 2 inactive (the `{"active": false}` path).
const SUBJECTS = {
  active: { userId: 1, userName: "bench", orgName: "BenchOrg" },
  inactive: { userId: 2, userName: "idle", orgName: "BenchOrg" },
};

async function mintTokens(
  env: Env,
  count: number,
  subject: (typeof SUBJECTS)["active"],
  type: "refresh" | "access" = "refresh",
): Promise<string[]> {
  const config = await configOf(env);
  return Promise.all(
    Array.from({ length: count }, async () => (await issueLoginPair(config, subject, Date.now()))[type]),
  );
}

/**
 * Each path `requests` times, `concurrency` at a time, through the app over delayed
 * bindings; milliseconds per request as the Worker's clock sees them (it moves with I/O,
 * timers included). REFRESH_RACE_WINDOW=0 made the replays reuse in checkouts that had it;
 * since reuse is told by the successor's use, a replay of an unused successor revokes nothing.
 */
async function latencyModel(env: Env, ctx: ExecutionContext, delays: Delays, requests: number, concurrency: number) {
  const delayed = { ...delayedEnv(env, delays), REFRESH_RACE_WINDOW: "0" };
  const time = async (path: string, tokens: string[], expect: number, target: { fetch: typeof app.fetch } = app) => {
    const times: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < tokens.length) {
        const token = tokens[next++]!;
        // A refresh token goes in the body (POST); an access token (GET) as the bearer.
        const init: RequestInit =
          path.startsWith("/api/org_token/") || path.startsWith("/api/token/")
            ? {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ refresh: token }),
              }
            : { headers: { Authorization: `Bearer ${token}` } };
        const started = Date.now();
        const response = await target.fetch(new Request(`http://bench.local${path}`, init), delayed, ctx);
        await response.text();
        if (response.status !== expect) throw new Error(`${path}: ${response.status}, expected ${expect}`);
        times.push(Date.now() - started);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return times;
  };
  const [fresh, forLogout, inactive, access] = await Promise.all([
    mintTokens(env, requests + 10, SUBJECTS.active),
    mintTokens(env, requests, SUBJECTS.active),
    mintTokens(env, requests, SUBJECTS.inactive),
    mintTokens(env, requests + 10, SUBJECTS.active, "access"),
  ]);
  await time("/api/org_token/refresh/", fresh.splice(0, 10), 200); // warm up
  return {
    success: await time("/api/org_token/refresh/", fresh, 200),
    replay: await time("/api/org_token/refresh/", fresh, 403),
    inactive: await time("/api/org_token/refresh/", inactive, 200),
    logout: await time("/api/token/blacklist/", forLogout, 200),
    membership: await time("/api/membership_status/BenchOrg/", access.slice(10), 200),
    guard: await time("/__bench/guarded", access.slice(10), 200, guarded),
  };
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/seed") {
      await env.DB.batch([
        env.DB.prepare("INSERT OR IGNORE INTO users_user (id, username) VALUES (1, 'bench'), (2, 'idle')"),
        env.DB.prepare("INSERT OR IGNORE INTO users_orgaccount (id, name) VALUES (1, 'BenchOrg')"),
        env.DB.prepare("INSERT OR IGNORE INTO users_membership (user_id, org_id, active) VALUES (1, 1, 1), (2, 1, 0)"),
      ]);
      return Response.json({ ok: true });
    }
    if (url.pathname === "/__bench/mint") {
      const config = await configOf(env);
      const count = Number(url.searchParams.get("count") ?? "1");
      const subject = url.searchParams.get("member") === "inactive" ? SUBJECTS.inactive : SUBJECTS.active;
      const pairs = await Promise.all(Array.from({ length: count }, () => issueLoginPair(config, subject, Date.now())));
      return Response.json(pairs.map((pair) => pair.refresh));
    }
    if (url.pathname === "/__bench/model") {
      const { delays, requests, concurrency } = (await request.json()) as {
        delays: Delays;
        requests: number;
        concurrency: number;
      };
      return Response.json(await latencyModel(env, ctx, delays, requests, concurrency));
    }
    if (request.headers.get("X-Bench-Variant") === "memory-stores") return (await memoryApp()).fetch(request, env, ctx);
    if (request.headers.get("X-Bench-Variant") === "kv-raced") return (await kvRacedApp()).fetch(request, env, ctx);
    const delays = request.headers.get("X-Bench-Delays");
    if (delays !== null) return app.fetch(request, delayedEnv(env, JSON.parse(delays) as Delays), ctx);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
