/** org-token-admin in a host that has not installed wrangler (an optional peer): a clear message, no stack trace. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { buildCli } from "../../scripts/build-cli";
import { NODE, ROOT } from "../../src/cli/lib/project";

const host = mkdtempSync(join(tmpdir(), "cli-without-wrangler-"));
afterAll(() => rmSync(host, { recursive: true, force: true }));

it("says what to install when wrangler is missing, and exits 1", async () => {
  const cli = await buildCli(join(host, "admin.js"));
  writeFileSync(join(host, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(host, "wrangler.toml"), 'name = "host"\n');
  // The package's own dependency is there; wrangler is not.
  mkdirSync(join(host, "node_modules"));
  symlinkSync(join(ROOT, "node_modules", "jose"), join(host, "node_modules", "jose"));
  const result = spawnSync(NODE, [cli, "org", "list"], { cwd: host, encoding: "utf8" });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("needs wrangler, which is not installed here: npm install --save-dev wrangler");
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
});
