/**
 * `session end-user|end-org|end-family`: D1 first (sessions_revoked_at in unix ms, the
 * family's revocation), then the KV blacklist. In this process with the KV writes recorded,
 * and through the real `wrangler kv key put --local` into the state `wrangler dev` uses,
 * read back by the Worker's own store (src/storage/kv/ended-sessions.ts).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_PATH, loadWrangler } from "../../src/cli/lib/project";
import { familyKey, orgKey, userKey } from "../../src/storage/kv/ended-keys";
import { KvEndedSessions } from "../../src/storage/kv/ended-sessions";
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
    const before = Date.now();
    const result = await recorded(["session", "end-user", "alice"], { ACCESS_TOKEN_LIFETIME: "3600" });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [row] = await shared.db.query<{ sessions_revoked_at: number }>(
      "SELECT sessions_revoked_at FROM users_user WHERE id = 7",
    );
    expect(row!.sessions_revoked_at).toBeGreaterThanOrEqual(before);
    expect(row!.sessions_revoked_at).toBeLessThanOrEqual(Date.now());
    expect(result.puts).toEqual([
      { binding: "BLACKLIST", key: userKey(7), value: String(row!.sessions_revoked_at), ttl: 3600 },
    ]);
    // A later value stays: the command never moves the revocation back.
    await shared.db.query("UPDATE users_user SET sessions_revoked_at = 4000000000000 WHERE id = 7");
    await recorded(["session", "end-user", "alice"]);
    const [kept] = await shared.db.query<{ sessions_revoked_at: number }>(
      "SELECT sessions_revoked_at FROM users_user WHERE id = 7",
    );
    expect(kept!.sessions_revoked_at).toBe(4000000000000);
    await shared.db.query("UPDATE users_user SET sessions_revoked_at = NULL WHERE id = 7");
  });

  it("end-org and end-family; unknown names and bad families write nothing", async () => {
    const org = await recorded(["session", "end-org", "acme", "--json"]);
    expect(org.code).toBe(0);
    expect(JSON.parse(org.stdout)).toMatchObject({ id: 3, name: "acme" });
    expect(org.puts.map((p) => p.key)).toEqual([orgKey("acme")]);

    const family = "0123456789abcdef0123456789abcdef";
    const ended = await recorded(["session", "end-family", family], { ACCESS_TOKEN_LIFETIME: "30" });
    expect(ended.code).toBe(0);
    expect(ended.puts).toEqual([{ binding: "BLACKLIST", key: familyKey(family), value: "1", ttl: 60 }]);
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

  it("locally, the entries land where `wrangler dev` reads them, and the Worker's own store reads them as ended (wrangler kv key put --local)", async () => {
    const db = shared.db;
    const family = "fedcba9876543210fedcba9876543210";
    const orgName = "acme ✓ 🛰".repeat(20); // a name whose raw key would pass KV's 512 bytes
    await db.query("INSERT INTO users_orgaccount (id, name) VALUES (4, ?1)", [orgName]);
    for (const args of [
      ["session", "end-user", "alice"],
      ["session", "end-org", orgName],
      ["session", "end-family", family],
    ]) {
      const result = await runInProcess(["--persist-to", shared.dir, ...args], {
        openLocal: async () => ({ query: db.query, batch: db.batch, close: async () => {} }),
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    }
    const proxy = await loadWrangler().getPlatformProxy<{ BLACKLIST: KVNamespace }>({
      configPath: CONFIG_PATH,
      persist: { path: join(shared.dir, "v3") },
      remoteBindings: false,
    });
    try {
      const [user] = await db.query<{ at: number }>("SELECT sessions_revoked_at AS at FROM users_user WHERE id = 7");
      const [org] = await db.query<{ at: number }>(
        "SELECT sessions_revoked_at AS at FROM users_orgaccount WHERE id = 4",
      );
      const store = new KvEndedSessions(proxy.env.BLACKLIST);
      const session = (over: { userId?: number; orgName?: string; family?: string; issuedAtMs: number }) =>
        store.ended({ userId: 1, orgName: "elsewhere", family: undefined, ...over });
      expect(await session({ userId: 7, issuedAtMs: user!.at })).toBe(true);
      expect(await session({ userId: 7, issuedAtMs: user!.at + 1 })).toBe(false);
      expect(await session({ orgName, issuedAtMs: org!.at })).toBe(true);
      expect(await session({ orgName, issuedAtMs: org!.at + 1 })).toBe(false);
      expect(await session({ family, issuedAtMs: Date.now() + 60_000 })).toBe(true);
      expect(await session({ family: "0".repeat(32), issuedAtMs: Date.now() + 60_000 })).toBe(false);
    } finally {
      await proxy.dispose();
    }
  });
});
