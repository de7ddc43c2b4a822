/**
 * The Worker as a browser meets it: `wrangler dev` on loopback, over a local D1 in a state
 * directory of its own, plus tiny page servers for other origins. Everything here is bounded
 * in time and leaves nothing running: wrangler runs in its own process group, and `stop()`
 * ends the whole group.
 */
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { freePort, runProcess } from "../../../src/cli/lib/process";
import { NODE, ROOT, SCHEMA_PATH, WRANGLER_BIN, wranglerEnv } from "../../../src/cli/lib/project";
import { type Server as RunningServer, startServer } from "./server";

export { freePort, ROOT, SCHEMA_PATH };

/**
 * Environment for every wrangler child: the scripts' (no telemetry, no fetch of the
 * `Request.cf` object), plus logs and the dev registry inside `stateDir`, so nothing leaves
 * loopback and nothing is shared with other wrangler sessions on the machine.
 */
function testWranglerEnv(stateDir: string): NodeJS.ProcessEnv {
  return wranglerEnv({
    WRANGLER_LOG_PATH: join(stateDir, "logs"),
    WRANGLER_REGISTRY_PATH: join(stateDir, "registry"),
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  });
}

/** `wrangler <args>` to completion within `timeoutMs`; its output, or an error carrying it. */
export async function wrangler(args: string[], stateDir: string, timeoutMs = 30_000): Promise<string> {
  const { code, signal, stdout, stderr, timedOut } = await runProcess(NODE, [WRANGLER_BIN, ...args], {
    cwd: ROOT,
    env: testWranglerEnv(stateDir),
    timeoutMs,
  });
  const output = stdout + stderr;
  const what = `wrangler ${args.slice(0, 3).join(" ")}`;
  if (timedOut) throw new Error(`${what} did not finish within ${timeoutMs} ms\n${output}`);
  if (code !== 0) throw new Error(`${what} failed (${signal ?? code})\n${output}`);
  return output;
}

/** SQL text as a single-quoted literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** schema.sql, then `seedSql`, into the local D1 under `persistTo`. */
export async function seedDatabase(persistTo: string, stateDir: string, seedSql: string): Promise<void> {
  const local = ["d1", "execute", "DB", "--local", "--persist-to", persistTo, "--yes"];
  await wrangler([...local, "--file", SCHEMA_PATH], stateDir);
  await wrangler([...local, "--command", seedSql], stateDir);
}

/** `output()`: everything wrangler printed so far. */
export type LocalWorker = RunningServer;

export interface StartOptions {
  persistTo: string;
  /** Directory for wrangler's logs, registry and an empty env file. */
  stateDir: string;
  vars: Record<string, string>;
  /**
   * `.dev.vars` text, written into the project snapshot for wrangler to read itself (with its
   * own dotenv parser), instead of the empty `--env-file`: a value exactly as an operator's file has it.
   */
  devVars?: string;
  /** The port to listen on (a restart at the same URL); a free one by default. */
  port?: number;
  readyTimeoutMs?: number;
  /** Another entry than wrangler.toml's `main`: a file of this repository (copied into the snapshot too). */
  main?: string;
}

/** What `wrangler dev` bundles and reads: the Worker's sources and configuration (node_modules is linked). */
const PROJECT_ENTRIES = ["src", "worker", "migrations", "wrangler.toml", "package.json", "tsconfig.json"];

/**
 * A copy of the Worker's project under `stateDir`, for `wrangler dev` to serve. wrangler dev
 * watches every file it bundles and reloads the Worker when one changes, which ends every
 * response still streaming (requests not yet answered it retries): run from the work tree,
 * an edit made there during a test cut a forwarded body mid-stream, and could put a half-edited
 * Worker under test. The copy is the source as the file's tests began, and nothing edits it.
 */
function projectSnapshot(stateDir: string, extra: readonly string[] = []): string {
  const dir = join(stateDir, "project");
  mkdirSync(dir, { recursive: true });
  for (const entry of [...PROJECT_ENTRIES, ...extra]) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/**
 * `wrangler dev` on 127.0.0.1, resolved once it answers HTTP, serving a snapshot of the
 * project (projectSnapshot) over the D1 under `persistTo`. The variables go in as
 * `--var NAME:VALUE`, and an empty `--env-file` keeps a developer's .dev.vars or .env out.
 */
export async function startWorker({
  persistTo,
  stateDir,
  vars,
  devVars,
  port: fixedPort,
  readyTimeoutMs = 45_000,
  main,
}: StartOptions): Promise<LocalWorker> {
  const [port, inspectorPort] = [fixedPort ?? (await freePort()), await freePort()];
  const emptyEnvFile = join(stateDir, "empty.env");
  writeFileSync(emptyEnvFile, "");
  const project = projectSnapshot(stateDir, main === undefined ? [] : [main]);
  if (devVars !== undefined) writeFileSync(join(project, ".dev.vars"), devVars);
  const args = [
    "dev",
    ...(main === undefined ? [] : [join(project, main)]),
    "--config",
    join(project, "wrangler.toml"),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    ...(devVars === undefined ? ["--env-file", emptyEnvFile] : []),
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  return startServer({
    name: "wrangler dev",
    command: NODE,
    args: [WRANGLER_BIN, ...args],
    options: { cwd: project, env: testWranglerEnv(stateDir) },
    url: `http://127.0.0.1:${port}`,
    probe: "/api/schema/", // any HTTP answer will do: the Worker is up
    readyTimeoutMs,
  });
}

export interface PageServer {
  /** http://127.0.0.1:<port>, a browser origin. */
  origin: string;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 answering every GET with `html`. */
export function servePage(html: string, port = 0): Promise<PageServer> {
  const server: Server = createServer((request, response) => {
    if (request.url === "/favicon.ico") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(html);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${bound}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
