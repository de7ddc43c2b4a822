/**
 * `npm run bench`: measurements against baselines taken in the same run.
 *
 * 1. Refresh latency through a local `wrangler dev` (workerd, local D1 and KV), the real
 *    refresh against the same app without the atomic D1 step, interleaved, a few hundred each.
 * 2. A login with Django 4.2's 600000-iteration hash, against a refresh, same server.
 * 3. Password hashing CPU time (scripts/bench-passwords.ts).
 *
 * Local D1 is SQLite on this machine: the atomic step's cost here is the statement's, not
 * the round trip to a remote primary (docs/exactly-once.md counts those).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, SCHEMA_PATH, spawnWrangler } from "./lib/project";
import { freePort } from "./lib/process";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 20);
const HASH_600K = "pbkdf2_sha256$600000$a1b2c3d4e5f6g7h8i9j0kl$QCf3ZqXJJp3PHjbkzmMgBHffjzwuKYwh9SvK7KAEu7s=";
const PASSWORD = "correct horse battery staple";


function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

async function main() {
  const state = mkdtempSync(join(tmpdir(), "org-token-bench-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const wranglerArgs = ["--config", join(ROOT, "wrangler.toml"), "--persist-to", state];
  const schema = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "d1", "execute", "DB", "--local", "--file", SCHEMA_PATH, ...wranglerArgs],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, encoding: "utf8" },
  );
  if (schema.status !== 0) throw new Error(`schema: ${schema.stderr}`);

  const server = spawnWrangler(
    ["dev", "scripts/bench/worker.ts", ...wranglerArgs, "--ip", "127.0.0.1", "--port", String(port),
      "--var", "JWT_SECRET_KEY:bench-secret-that-is-long-enough-0123456789", "--show-interactive-dev-session=false"],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const stop = () => {
    try {
      process.kill(-server.pid!, "SIGTERM");
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
  process.on("exit", stop);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/__bench/seed?hash=${encodeURIComponent(HASH_600K)}`)).ok) break;
      } catch {}
      if (Date.now() > deadline) throw new Error("wrangler dev did not come up in 60 s");
      await new Promise((r) => setTimeout(r, 250));
    }
    const tokens: string[] = await (await fetch(`${base}/__bench/mint?count=${2 * ROUNDS + 20}`)).json();

    const refresh = async (variant: "real" | "baseline", token: string) => {
      const started = performance.now();
      const response = await fetch(`${base}/api/org_token/refresh/`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Bench-Variant": variant },
        body: JSON.stringify({ refresh: token }),
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${variant} refresh answered ${response.status}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 10; i++) await refresh(i % 2 ? "real" : "baseline", tokens.pop()!); // warm up
    const real: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first so drift and caching favour neither.
      if (i % 2 === 0) {
        real.push(await refresh("real", tokens.pop()!));
        baseline.push(await refresh("baseline", tokens.pop()!));
      } else {
        baseline.push(await refresh("baseline", tokens.pop()!));
        real.push(await refresh("real", tokens.pop()!));
      }
    }
    const medianReal = quantile(real, 0.5);
    const medianBaseline = quantile(baseline, 0.5);
    console.log(`\nRefresh latency, ${ROUNDS} of each, local wrangler dev (workerd + local D1/KV)`);
    console.log(`  baseline (no atomic step, KV only)  median ${ms(medianBaseline)}  p90 ${ms(quantile(baseline, 0.9))}`);
    console.log(`  real (D1 conditional insert)        median ${ms(medianReal)}  p90 ${ms(quantile(real, 0.9))}`);
    console.log(`  atomic step adds ${ms(medianReal - medianBaseline)} at the median: ratio ${(medianReal / medianBaseline).toFixed(2)}x`);

    const logins: number[] = [];
    for (let i = 0; i < LOGINS; i++) {
      const started = performance.now();
      const response = await fetch(`${base}/api/org_token/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: "bench", password: PASSWORD, org_name: "BenchOrg" }),
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`login answered ${response.status}`);
      logins.push(performance.now() - started);
    }
    const medianLogin = quantile(logins, 0.5);
    console.log(`\nLogin with a 600000-iteration Django hash, ${LOGINS} logins, same server`);
    console.log(`  median ${ms(medianLogin)}  p90 ${ms(quantile(logins, 0.9))}: ${(medianLogin / medianReal).toFixed(0)}x a refresh`);
  } finally {
    stop();
  }

  console.log("\nPassword hashing CPU time (scripts/bench-passwords.ts)");
  const passwords = spawnSync(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), join(ROOT, "scripts/bench-passwords.ts")], {
    cwd: ROOT,
    stdio: "inherit",
  });
  process.exitCode = passwords.status ?? 1;
}

await main();
