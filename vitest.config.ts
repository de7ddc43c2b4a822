import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Node's compile cache for every Node process the tests start (wrangler, tsx, the admin CLI, npm,
// and Vitest's own workers): wrangler alone is a 15 MB bundle compiled anew by each process.
process.env.NODE_COMPILE_CACHE ??= fileURLToPath(new URL("./node_modules/.cache/node-compile-cache", import.meta.url));

// schema.sql as statements, for the worker tests' setup to apply to each file's fresh D1.
const schema = readFileSync(new URL("./schema.sql", import.meta.url), "utf8")
  .replace(/--.*$/gm, "")
  .split(/;\s*$/m)
  .map((statement) => statement.trim())
  .filter(Boolean);

export default defineConfig({
  test: {
    // Vitest's own line is not one CI reads; this adds "tests: N passed, N failed, N skipped".
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Two files at a time on any machine (the default is one on 2 cores): a process-spawning
    // file (node project) uses about a core, so more at once would starve each other.
    maxWorkers: 2,
    // One request line per request (src/log.ts) is for production; tests assert on it by spying.
    onConsoleLog: (log) => !log.includes('"event":"request"'),
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                JWT_SECRET_KEY: "test-secret-key-that-is-long-enough-0123456789",
                TEST_SCHEMA: schema,
                // The property tests' seed: fixed unless PROPERTY_SEED is set (to reproduce a failure).
                TEST_PROPERTY_SEED: process.env.PROPERTY_SEED ?? "",
              },
            },
          }),
        ],
        test: {
          name: "worker",
          isolate: false,
          testTimeout: 30_000, // a login derives 600000 PBKDF2 iterations in portable code
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/support/production-limits.ts", "./test/support/apply-schema.ts"],
        },
      },
      {
        // The example host (examples/host): its own wrangler.toml and binding names; the
        // package imported by its name, here the source.
        resolve: { alias: { "org-token-edge": fileURLToPath(new URL("./src/api.ts", import.meta.url)) } },
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./examples/host/wrangler.toml" },
            miniflare: {
              bindings: { TOKENS_SECRET: "example-host-secret-that-is-long-enough-0123", TEST_SCHEMA: schema },
            },
          }),
        ],
        test: {
          name: "example-host",
          testTimeout: 30_000,
          include: ["examples/host/test/**/*.test.ts"],
          setupFiles: ["./test/support/production-limits.ts", "./examples/host/test/apply-schema.ts"],
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
