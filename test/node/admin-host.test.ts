/**
 * `org-token-admin` in a host Worker's project: the bundled bin (npm run build:cli), installed
 * in a scratch host folder with its own wrangler.toml and binding names, writes into the very
 * local D1 that the host's own wrangler (`wrangler dev`, `wrangler d1 execute --local`) uses,
 * with the package's migrations in wrangler's bookkeeping, and leaves the host's other
 * database alone.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../../scripts/build-cli";
import { generateDjangoDump } from "../../scripts/lib/django-fixture";
import { runProcess } from "../../src/cli/lib/process";
import { MIGRATIONS_DIR, NODE, ROOT, WRANGLER_BIN, wranglerEnv } from "../../src/cli/lib/project";
import { COMMAND_TIMEOUT_MS } from "./support/admin";

let base: string;
let host: string;

const HOST_CONFIG = `name = "host-worker"
compatibility_date = "2026-11-01"

[[d1_databases]]
binding = "HOST_DB"
database_name = "host-own"
database_id = "66666666-7777-8888-9999-000000000000"

[[d1_databases]]
binding = "TOKENS_DB"
database_name = "host-tokens"
database_id = "11111111-2222-3333-4444-555555555555"
migrations_dir = "node_modules/org-token-edge/migrations"
`;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "admin-host-"));
  host = join(base, "host");
  const pkg = join(host, "node_modules", "org-token-edge");
  mkdirSync(join(host, "node_modules", ".bin"), { recursive: true });
  await buildCli(join(pkg, "dist", "cli", "admin.js"));
  cpSync(MIGRATIONS_DIR, join(pkg, "migrations"), { recursive: true });
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({ name: "org-token-edge", type: "module", bin: { "org-token-admin": "dist/cli/admin.js" } }),
  );
  // The host's own dependencies, as its install would have them.
  for (const name of ["wrangler", "jose", "hono"])
    symlinkSync(join(ROOT, "node_modules", name), join(host, "node_modules", name));
  symlinkSync("../org-token-edge/dist/cli/admin.js", join(host, "node_modules", ".bin", "org-token-admin"));
  writeFileSync(join(host, "wrangler.toml"), HOST_CONFIG);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], cwd: string, logLevel = "warn"): Promise<Ran> {
  // The bin's `#!/usr/bin/env node` finds the project's Node first, as `npx` in a host would find the host's.
  const env = wranglerEnv({
    PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_LOG: logLevel,
    NO_COLOR: "1",
  });
  const result = await runProcess(command, args, { cwd, env, timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.timedOut) throw new Error(`${command} ${args.join(" ")} did not finish within ${COMMAND_TIMEOUT_MS} ms`);
  return result;
}

/** The bin, as `npx org-token-admin` runs it from the host's folder. */
const bin = (args: string[], cwd = host) => run(join(host, "node_modules", ".bin", "org-token-admin"), args, cwd);

/**
 * The host's own wrangler, from elsewhere, on its configuration's local state: the rows of
 * each statement of `sql` (one process for all of them: each wrangler start costs seconds).
 */
async function hostWrangler(binding: string, sql: string): Promise<Record<string, unknown>[][]> {
  const result = await run(
    NODE,
    [
      WRANGLER_BIN,
      "d1",
      "execute",
      binding,
      "--local",
      "--config",
      join(host, "wrangler.toml"),
      "--json",
      "--command",
      sql,
    ],
    base,
    "log",
  );
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { results: Record<string, unknown>[] }[]).map((statement) => statement.results);
}

describe("org-token-admin in a host project", { timeout: 180_000 }, () => {
  it("chooses the host's D1 binding and writes where the host's wrangler reads", async () => {
    const added = await bin(["--binding", "TOKENS_DB", "org", "add", "acme"]);
    expect(added.stderr).toBe("");
    expect(added.stdout).toBe("Added organization acme (id 1)\n");

    // From another directory, naming the configuration.
    const config = join(host, "wrangler.toml");
    const user = await bin(["--config", config, "--binding", "TOKENS_DB", "user", "add", "alice", "--id", "7"], base);
    expect(user.stderr).toBe("");
    expect(user.stdout).toBe("Added user alice (id 7, active, no password)\n");

    const dump = join(base, "dump.json");
    writeFileSync(dump, JSON.stringify(generateDjangoDump({ users: 20, orgs: 2, nullMemberships: 1, seed: 5 })));
    const imported = await bin(["--binding", "TOKENS_DB", "import-django", dump, "--json"]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      users: { created: 19, updated: 1 },
      organizations: { created: 2 },
      skipped: [{ reason: "user is null" }],
    });

    const [acme, count, applied] = await hostWrangler(
      "TOKENS_DB",
      "SELECT id, name FROM users_orgaccount WHERE name = 'acme'; SELECT COUNT(*) AS n FROM users_user; SELECT name FROM d1_migrations ORDER BY id",
    );
    expect(acme).toEqual([{ id: 1, name: "acme" }]);
    expect(count).toEqual([{ n: 20 }]);
    // The package's migrations, recorded as wrangler records them: nothing left for it to apply.
    expect(applied!.map((row) => row.name)).toContain("0001_initial.sql");
    const migrate = await run(NODE, [WRANGLER_BIN, "d1", "migrations", "apply", "TOKENS_DB", "--local"], host, "log");
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toContain("No migrations to apply");
    // The host's other database was never touched.
    expect(await hostWrangler("HOST_DB", "SELECT name FROM sqlite_master WHERE name LIKE 'users_%'")).toEqual([[]]);
  });

  it("names the bindings to choose from, and refuses one that is not there", async () => {
    // Three refusals, none of which opens a database: at once.
    const [unchosen, missing, nowhere] = await Promise.all([
      bin(["org", "list"]),
      bin(["--binding", "DB", "org", "list"]),
      bin(["org", "list"], tmpdir()),
    ]);
    expect(unchosen.code).toBe(1);
    expect(unchosen.stderr).toMatch(
      /choose the D1 binding of .*wrangler\.toml with --binding \(its D1 bindings: HOST_DB, TOKENS_DB\)/,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no D1 binding DB \(its D1 bindings: HOST_DB, TOKENS_DB\)/);
    expect([nowhere.code, nowhere.stderr]).toEqual([
      2,
      expect.stringContaining("no wrangler configuration found here: give one with --config"),
    ]);
  });
});
