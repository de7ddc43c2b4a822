/**
 * `session end-user|end-org|end-family`: D1 first (sessions_revoked_at, the family's
 * revocation), then the KV blacklist under the keys the Worker reads
 * (src/storage/kv/ended-sessions.ts). In this process with the KV writes recorded, and once
 * through the real `wrangler kv key put --local` into the state `wrangler dev` uses.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_PATH, loadWrangler } from "../../src/cli/lib/project";
import { runInProcess, type SharedAdmin, sharedAdmin } from "./support/admin";

let shared: SharedAdmin;
beforeAll(async () => {
  shared = await sharedAdmin();
  await shared.db.batch(
    [
      "INSERT INTO users_user (id, username) VALUES (7, 'alice')",
      "INSERT INTO users_orgaccount (id, name) VALUES (3, 'acme')",
      "INSERT INTO users_membership (user_id, org_id, active) VALUES (7, 3, 1)",
    ].map((sql) => ({ sql, params: [] })),
  );
});
afterAll(() => shared?.close());

interface Put {
  binding: string;
  key: string;
  value: string;
  ttl: number;
}

async function recorded(args: string[], env: Record<string, string> = {}) {
  const puts: Put[] = [];
  const db = shared.db;
  const result = await runInProcess(["--persist-to", shared.dir, ...args], {
    env,
    openLocal: async () => ({ query: db.query, batch: db.batch, close: async () => {} }),
    putKv: async (_target, binding, key, value, ttl) => {
      puts.push({ binding, key, value, ttl });
    },
  });
  return { ...result, puts };
}

describe("admin session commands", { timeout: 180_000 }, () => {
  it("end-user: sessions_revoked_at set to now (never lowered), then the user's KV key for an access lifetime", async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await recorded(["session", "end-user", "alice"], { ACCESS_TOKEN_LIFETIME: "3600" });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [row] = await shared.db.query<{ sessions_revoked_at: number }>(
      "SELECT sessions_revoked_at FROM users_user WHERE id = 7",
    );
    expect(row!.sessions_revoked_at).toBeGreaterThanOrEqual(before);
    expect(row!.sessions_revoked_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(result.puts).toEqual([
      { binding: "BLACKLIST", key: "ended:user:7", value: String(row!.sessions_revoked_at), ttl: 3600 },
    ]);
    // A later value stays: the command never moves the revocation back.
    await shared.db.query("UPDATE users_user SET sessions_revoked_at = 4000000000 WHERE id = 7");
    await recorded(["session", "end-user", "alice"]);
    const [kept] = await shared.db.query<{ sessions_revoked_at: number }>(
      "SELECT sessions_revoked_at FROM users_user WHERE id = 7",
    );
    expect(kept!.sessions_revoked_at).toBe(4000000000);
  });

  it("end-org and end-family; unknown names and bad families write nothing", async () => {
    const org = await recorded(["session", "end-org", "acme", "--json"]);
    expect(org.code).toBe(0);
    expect(JSON.parse(org.stdout)).toMatchObject({ id: 3, name: "acme" });
    expect(org.puts.map((p) => p.key)).toEqual(["ended:org:acme"]);

    const family = "0123456789abcdef0123456789abcdef";
    const ended = await recorded(["session", "end-family", family], { ACCESS_TOKEN_LIFETIME: "30" });
    expect(ended.code).toBe(0);
    expect(ended.puts).toEqual([{ binding: "BLACKLIST", key: `ended:family:${family}`, value: "1", ttl: 60 }]);
    const rows = await shared.db.query("SELECT family FROM token_family_revocation WHERE family = ?1", [family]);
    expect(rows).toHaveLength(1);

    for (const args of [
      ["session", "end-user", "nobody"],
      ["session", "end-org", "nowhere"],
    ]) {
      const result = await recorded(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/unknown (user|organization)/);
      expect(result.puts).toEqual([]);
    }
    const bad = await recorded(["session", "end-family", "not-a-family"]);
    expect(bad.code).toBe(2);
    expect(bad.puts).toEqual([]);
  });

  it("locally, the KV entry lands in the state `wrangler dev` reads (wrangler kv key put --local)", async () => {
    const db = shared.db;
    const result = await runInProcess(["--persist-to", shared.dir, "session", "end-org", "acme"], {
      openLocal: async () => ({ query: db.query, batch: db.batch, close: async () => {} }),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const proxy = await loadWrangler().getPlatformProxy<{ BLACKLIST: KVNamespace }>({
      configPath: CONFIG_PATH,
      persist: { path: join(shared.dir, "v3") },
      remoteBindings: false,
    });
    try {
      const [row] = await db.query<{ sessions_revoked_at: number }>(
        "SELECT sessions_revoked_at FROM users_orgaccount WHERE id = 3",
      );
      expect(await proxy.env.BLACKLIST.get("ended:org:acme")).toBe(String(row!.sessions_revoked_at));
    } finally {
      await proxy.dispose();
    }
  });
});
