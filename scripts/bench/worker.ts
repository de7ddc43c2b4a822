/**
 * The benchmark's Worker: the real app, and a baseline that is the same app without the
 * atomic step (consumption written to KV only, as a KV-only blacklist would). Two helper
 * routes seed a member and mint login pairs. Never deployed: `npm run bench` runs it locally.
 */
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { workerConfigInput, type Env } from "../../src/env";
import { d1Stores } from "../../src/storage";
import type { Revocations } from "../../src/storage/revocations";
import { issueLoginPair } from "../../src/tokens/issue";

const real = createApp();
const withoutAtomicStep = createApp({
  stores: (env, background) => {
    const stores = d1Stores(env, background);
    const revocations: Revocations = {
      lookup: (jti, family) => stores.revocations.lookup(jti, family),
      consume: async (entry) => {
        await env.BLACKLIST.put(`jti:${entry.jti}`, JSON.stringify({ reason: "rotated", used_at: entry.usedAtMs }), {
          expirationTtl: 3600,
        });
        return { won: true };
      },
      logout: (entry) => stores.revocations.logout(entry),
      revokeFamily: (family, nowMs, expiresAt) => stores.revocations.revokeFamily(family, nowMs, expiresAt),
      purgeExpired: (nowMs) => stores.revocations.purgeExpired(nowMs),
    };
    return { ...stores, revocations };
  },
});

const SUBJECT = { userId: 1, userName: "bench", orgName: "BenchOrg" };

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/seed") {
      await env.DB.batch([
        env.DB.prepare("INSERT OR IGNORE INTO users_user (id, username, password) VALUES (1, 'bench', ?1)").bind(
          url.searchParams.get("hash"),
        ),
        env.DB.prepare("INSERT OR IGNORE INTO users_orgaccount (id, name) VALUES (1, 'BenchOrg')"),
        env.DB.prepare("INSERT OR IGNORE INTO users_membership (user_id, org_id, active) VALUES (1, 1, 1)"),
      ]);
      return Response.json({ ok: true });
    }
    if (url.pathname === "/__bench/mint") {
      const config = await loadConfig(workerConfigInput(env));
      const count = Number(url.searchParams.get("count") ?? "1");
      const pairs = await Promise.all(Array.from({ length: count }, () => issueLoginPair(config, SUBJECT, Date.now())));
      return Response.json(pairs.map((pair) => pair.refresh));
    }
    const app = request.headers.get("X-Bench-Variant") === "baseline" ? withoutAtomicStep : real;
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
