/**
 * The benchmark's Worker: the real app, with bench-only routes that seed members and mint
 * login pairs, and (header `X-Bench-Delays`) the same app over bindings that add
 * production-like delays to every D1 and KV call (./worker-delays.ts). Never deployed.
 * It imports only what the app has exported since its first version (createApp,
 * loadConfig, issueLoginPair), so `npm run bench -- --before <checkout>` can run it
 * against an older checkout too.
 */
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { issueLoginPair } from "../../src/tokens/issue";
import { delayedEnv, type Delays } from "./worker-delays";

const app = createApp();

// Two members of one organization: 1 active, 2 inactive (the `{"active": false}` path).
const SUBJECTS = {
  active: { userId: 1, userName: "bench", orgName: "BenchOrg" },
  inactive: { userId: 2, userName: "idle", orgName: "BenchOrg" },
};

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
      const config = await loadConfig(env);
      const count = Number(url.searchParams.get("count") ?? "1");
      const subject = url.searchParams.get("member") === "inactive" ? SUBJECTS.inactive : SUBJECTS.active;
      const pairs = await Promise.all(Array.from({ length: count }, () => issueLoginPair(config, subject, Date.now())));
      return Response.json(pairs.map((pair) => pair.refresh));
    }
    const delays = request.headers.get("X-Bench-Delays");
    if (delays !== null) return app.fetch(request, delayedEnv(env, JSON.parse(delays) as Delays), ctx);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
