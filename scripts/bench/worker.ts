/**
 * The benchmark's Worker: the real app, with bench-only routes that seed members and mint
 * login pairs, and (header `X-Bench-Delays`) the same app over bindings that add
 * production-like delays to every D1 and KV call (./worker-delays.ts), timed inside the
 * Worker (`/__bench/model`) so the local HTTP proxy's cost stays out of it. Never deployed.
 */
import { Hono } from "hono";
import { buildApi } from "../../src/app";
import { loadConfig } from "../../src/config";
import { issueLoginPair } from "../../src/tokens/issue";
import { createApp } from "../../worker/app";
import { type Env, workerApiOptions, workerConfigInput } from "../../worker/env";
import { mintSimpleJwtRefresh, SJ_REFRESH, SJ_VARS } from "./simplejwt";
import { type Calls, type Delays, delayedEnv } from "./worker-delays";

const app = createApp();

// A host route behind requireOrgToken(), for the latency model's guard path.
const guarded = new Hono<{ Bindings: Env }>();
guarded.get("/__bench/guarded", buildApi(workerApiOptions).requireOrgToken(), (c) => c.json({ ok: true }));

/** This Worker's configuration, as the app loads it. */
function configOf(env: Env) {
  return loadConfig(workerConfigInput(env));
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
 * timers included). A replay of a token whose successor is unused revokes nothing (the
 * successor rule): the replay path is a refused replay. The simplejwt refresh is the same app
 * with simplejwt's refresh view configured (./simplejwt.ts). Each path also counts the D1
 * and KV calls its requests made (per request: its round trips).
 */
async function latencyModel(env: Env, ctx: ExecutionContext, delays: Delays, requests: number, concurrency: number) {
  const calls: Calls = { d1: 0, kv: 0 };
  const delayed = delayedEnv(env, delays, calls);
  const delayedSj: Env = { ...delayed, ...SJ_VARS };
  const perRequest: Record<string, Calls> = {};
  const time = async (
    path: string,
    tokens: string[],
    expect: number,
    target: { fetch: typeof app.fetch } = app,
    bindings: Env = delayed,
    name?: string,
  ) => {
    const times: number[] = [];
    const before = { ...calls };
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
        const response = await target.fetch(new Request(`http://bench.local${path}`, init), bindings, ctx);
        await response.text();
        if (response.status !== expect) throw new Error(`${path}: ${response.status}, expected ${expect}`);
        times.push(Date.now() - started);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (name !== undefined) {
      perRequest[name] = { d1: (calls.d1 - before.d1) / tokens.length, kv: (calls.kv - before.kv) / tokens.length };
    }
    return times;
  };
  const sjConfig = await configOf({ ...env, ...SJ_VARS });
  const [fresh, forLogout, inactive, access, sjFresh] = await Promise.all([
    mintTokens(env, requests + 10, SUBJECTS.active),
    mintTokens(env, requests, SUBJECTS.active),
    mintTokens(env, requests, SUBJECTS.inactive),
    mintTokens(env, requests + 10, SUBJECTS.active, "access"),
    Promise.all(Array.from({ length: requests + 10 }, () => mintSimpleJwtRefresh(sjConfig))),
  ]);
  await time("/api/org_token/refresh/", fresh.splice(0, 10), 200); // warm up
  await time(SJ_REFRESH, sjFresh.splice(0, 10), 200, app, delayedSj);
  const times = {
    success: await time("/api/org_token/refresh/", fresh, 200, app, delayed, "success"),
    replay: await time("/api/org_token/refresh/", fresh, 403, app, delayed, "replay"),
    inactive: await time("/api/org_token/refresh/", inactive, 200, app, delayed, "inactive"),
    logout: await time("/api/token/blacklist/", forLogout, 200, app, delayed, "logout"),
    membership: await time("/api/membership_status/BenchOrg/", access.slice(10), 200, app, delayed, "membership"),
    guard: await time("/__bench/guarded", access.slice(10), 200, guarded, delayed, "guard"),
    "simplejwt refresh": await time(SJ_REFRESH, sjFresh, 200, app, delayedSj, "simplejwt refresh"),
  };
  return { times, calls: perRequest };
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
      const count = Number(url.searchParams.get("count") ?? "1");
      if (url.searchParams.get("kind") === "simplejwt") {
        // The simplejwt refresh's tokens, under the settings it is served with (./simplejwt.ts).
        const config = await configOf({ ...env, ...SJ_VARS });
        return Response.json(await Promise.all(Array.from({ length: count }, () => mintSimpleJwtRefresh(config))));
      }
      const config = await configOf(env);
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
    const delays = request.headers.get("X-Bench-Delays");
    if (delays !== null) return app.fetch(request, delayedEnv(env, JSON.parse(delays) as Delays), ctx);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
