import { readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// schema.sql as statements, for the worker tests' setup to apply to each file's fresh D1.
const schema = readFileSync(new URL("./schema.sql", import.meta.url), "utf8")
  .replace(/--.*$/gm, "")
  .split(/;\s*$/m)
  .map((statement) => statement.trim())
  .filter(Boolean);

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
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
          testTimeout: 30_000, // a login derives 600000 PBKDF2 iterations in portable code
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/support/production-limits.ts", "./test/support/apply-schema.ts"],
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
