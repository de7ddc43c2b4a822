/**
 * `npm start` end to end, in a throwaway copy of the project (so the real checkout's
 * .dev.vars and .wrangler state are never touched): it makes a secret, applies the migrations,
 * serves the real Worker, shares its database with the admin CLI, and a pair minted by
 * `admin token mint` is accepted by the API's refresh.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLocal, resolveTarget } from "../../src/cli/lib/db";
import { freePort } from "../../src/cli/lib/process";
import { runInProcess } from "./support/admin";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let project: string;
const started: ChildProcess[] = [];

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "serve-test-"));
  for (const file of ["wrangler.toml", "schema.sql", "package.json"]) cpSync(join(ROOT, file), join(project, file));
  // Copied, not linked: the CLI (src/cli) locates the project from where its files are.
  for (const dir of ["scripts", "migrations", "src", "worker"]) {
    cpSync(join(ROOT, dir), join(project, dir), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(project, "node_modules"));
});

afterAll(() => {
  // Anything still running is ours: each was started as the leader of its own process group.
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {}
    }
  }
  rmSync(project, { recursive: true, force: true });
});

function tsx(script: string, args: string[], env: Record<string, string | undefined> = {}) {
  const childEnv: Record<string, string | undefined> = { ...process.env, WRANGLER_SEND_METRICS: "false", ...env };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: project,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  started.push(child);
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

/** The copy's admin CLI as a process (its scripts locate the copy), on the state npm start serves. */
async function admin(args: string[]): Promise<string> {
  // No JWT_SECRET_KEY in the environment: token mint must find the one npm start made.
  const run = tsx("src/cli/npm-admin.ts", ["--persist-to", "state", ...args], { JWT_SECRET_KEY: undefined });
  const { code } = await run.exited;
  expect(run.output(), `admin ${args.join(" ")}`).not.toMatch(/^admin:/m);
  expect(code).toBe(0);
  return run.output();
}

/**
 * The same CLI in this process, on the copy's configuration and state: setup, without a process
 * each, and over one local database opened once for all of them (as the CLI opens it).
 */
async function adminHere(commands: string[][]): Promise<void> {
  const configPath = join(project, "wrangler.toml");
  const state = join(project, "state");
  const db = await openLocal(resolveTarget(configPath, undefined, state));
  try {
    for (const args of commands) {
      const result = await runInProcess(["--persist-to", state, ...args], {
        configPath,
        openLocal: async () => ({ ...db, close: async () => {} }),
      });
      expect(result.stderr, `admin ${args.join(" ")}`).toBe("");
      expect(result.code).toBe(0);
    }
  } finally {
    await db.close();
  }
}

async function until(check: () => boolean, timeoutMs: number, what: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("npm start (scripts/serve.ts)", { timeout: 300_000 }, () => {
  it("refuses a bad port before doing anything", async () => {
    const run = tsx("scripts/serve.ts", ["--port", "http"]);
    expect((await run.exited).code).toBe(2);
    expect(run.output()).toContain("serve: not a port number: http");
    expect(() => statSync(join(project, ".dev.vars"))).toThrow();
  });

  it("makes a secret, applies the migrations and serves the Worker on the data admin writes", async () => {
    const port = await freePort();
    // --port wins over PORT (port 1 would fail: privileged, and nothing listens there).
    const server = tsx("scripts/serve.ts", ["--port", String(port), "--persist-to", "state"], { PORT: "1" });
    const ready = `Ready on http://127.0.0.1:${port}`;
    await until(() => server.output().includes(ready) || server.child.exitCode !== null, 120_000, server.output);
    expect(server.output()).toContain(ready);

    const output = server.output();
    expect(output).toContain("Created .dev.vars with a new random JWT_SECRET_KEY.");
    expect(output).toMatch(/Applied migrations to the local database: 0001_initial\.sql[,.]/);
    const devVars = join(project, ".dev.vars");
    const secret = parseEnv(readFileSync(devVars, "utf8")).JWT_SECRET_KEY!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{64}$/); // 48 random bytes, base64url
    expect(Buffer.from(secret, "base64url")).toHaveLength(48);
    expect(statSync(devVars).mode & 0o777).toBe(0o600);
    expect(output).not.toContain(secret);

    await adminHere([
      ["org", "add", "acme"],
      ["user", "add", "alice", "--id", "7"],
      ["member", "add", "alice", "acme", "--active"],
    ]);
    const minted = JSON.parse(await admin(["token", "mint", "alice", "acme"]));
    const lifetimes = decodeJwt(minted.refresh);
    expect(lifetimes.exp! - lifetimes.iat!).toBe(2592000); // wrangler.toml's, as the Worker has them

    const base = `http://127.0.0.1:${port}`;
    const refreshed = await fetch(`${base}/api/org_token/refresh/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh: minted.refresh }),
    });
    expect(refreshed.status).toBe(200);
    const pair = (await refreshed.json()) as { refresh: string; access: string };
    expect(decodeJwt(pair.refresh)).toMatchObject({ user_id: 7, user_name: "alice", org_name: "acme" });

    const status = await fetch(`${base}/api/membership_status/acme/`, {
      headers: { authorization: `Bearer ${minted.access}` },
    });
    expect(status.status).toBe(200);
    expect(await status.json()).toEqual({ active: true });

    process.kill(server.child.pid!, "SIGTERM"); // to serve.ts alone: it must pass it on
    const ended = await Promise.race([
      server.exited,
      new Promise((resolve) => setTimeout(() => resolve("still running"), 30_000)),
    ]);
    expect(ended).not.toBe("still running");
    await expect(fetch(base)).rejects.toThrow();
  });
});
