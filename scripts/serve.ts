/**
 * `npm start`: the Worker on this machine, ready to use. Makes a .dev.vars with a random
 * secret when there is none, applies pending migrations/ to the local database, then runs
 * `wrangler dev` in the foreground.
 *
 *   npm start [-- --port N] [--persist-to DIR] [-- <more wrangler dev arguments>]
 *   PORT=N npm start
 */
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { DEV_VARS_PATH, spawnWrangler, stateDir } from "../src/cli/lib/project";

function fail(message: string): never {
  process.stderr.write(`serve: ${message}\n`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { port: { type: "string" }, "persist-to": { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write("Usage: npm start [-- --port N] [--persist-to DIR] [-- <wrangler dev arguments>]\n");
    process.exit(0);
  }
  const port = parsed.values.port ?? process.env.PORT ?? "8787";
  if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) fail(`not a port number: ${port}`);
  const persistTo = parsed.values["persist-to"];
  return {
    port,
    persist: persistTo === undefined ? [] : ["--persist-to", stateDir(persistTo)],
    rest: parsed.positionals,
  };
}

function ensureDevVars() {
  if (existsSync(DEV_VARS_PATH)) return;
  const secret = randomBytes(48).toString("base64url");
  const text = `# Made by npm start. Local development only: production uses \`wrangler secret put JWT_SECRET_KEY\`.\nJWT_SECRET_KEY=${secret}\n`;
  try {
    writeFileSync(DEV_VARS_PATH, text, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return; // made meanwhile: keep it
    throw error;
  }
  process.stdout.write(
    `Created ${relative(process.cwd(), DEV_VARS_PATH) || ".dev.vars"} with a new random JWT_SECRET_KEY.\n`,
  );
}

/** Run wrangler in the foreground; the exit status, or the signal that ended it. */
function wrangler(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawnWrangler(args, { stdio: "inherit" });
    // Relay what the terminal or a supervisor sends us (a terminal's Ctrl-C reaches both).
    const relay = (signal: NodeJS.Signals) => child.kill(signal);
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    for (const signal of signals) process.on(signal, relay);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      for (const s of signals) process.off(s, relay);
      resolve({ code, signal });
    });
  });
}

/**
 * The pending migrations on the local database (`wrangler d1 migrations apply DB --local`):
 * quiet unless it fails; nothing to do on later starts.
 */
function applyMigrations(persist: string[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const args = ["d1", "migrations", "apply", "DB", "--local", ...persist];
    const child = spawnWrangler(args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) {
        const applied = [...output.matchAll(/^[│|]\s*(\S+\.sql)\s*[│|]\s*✅/gmu)].map((match) => match[1]);
        process.stdout.write(
          applied.length > 0
            ? `Applied migrations to the local database: ${[...new Set(applied)].join(", ")}.\n`
            : "The local database is up to date with migrations/.\n",
        );
      } else {
        process.stderr.write(`${output}\nserve: applying migrations/ to the local database failed\n`);
      }
      resolve(code === 0);
    });
  });
}

async function main() {
  const { port, persist, rest } = options();
  ensureDevVars();
  if (!(await applyMigrations(persist))) return { code: 1, signal: null };
  return wrangler(["dev", "--ip", "127.0.0.1", "--port", port, ...persist, ...rest]);
}

main().then(
  ({ code, signal }) => {
    if (signal !== null) {
      process.kill(process.pid, signal); // end the way wrangler did
    } else {
      process.exitCode = code ?? 1;
    }
  },
  (error: unknown) => {
    process.stderr.write(`serve: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
