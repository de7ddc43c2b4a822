import { env } from "cloudflare:workers";
import { afterAll, vi } from "vitest";

// Each test file starts from an empty D1 and KV with the real schema. The worker project runs
// with `isolate: false` (vitest.config.ts): one runtime, and its storage, serves several files
// in turn, which saves starting workerd for every file; so what an earlier file left is dropped here.
const tables = await env.DB.prepare(
  "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
).all<{ name: string }>();
// Children before parents (sqlite_master lists tables as they were created): no foreign key is left dangling.
const drops = tables.results
  .reverse()
  .map(({ name }) => env.DB.prepare(`DROP TABLE IF EXISTS "${name.replaceAll('"', '""')}"`));
await env.DB.batch([...drops, ...env.TEST_SCHEMA.map((statement) => env.DB.prepare(statement))]);
for (let cursor: string | undefined; ; ) {
  const page = await env.BLACKLIST.list(cursor === undefined ? {} : { cursor });
  await Promise.all(page.keys.map(({ name }) => env.BLACKLIST.delete(name)));
  if (page.list_complete) break;
  cursor = page.cursor;
}

// And no spy outlives its file (each file restores its own; this is the backstop).
afterAll(() => {
  vi.restoreAllMocks();
});
