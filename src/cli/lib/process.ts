/** Small process and network helpers shared by the scripts and their tests. */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export interface Collected {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child's whole stdout and stderr, and its exit code, once it closes. */
export function collect(child: ChildProcess): Promise<Collected> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** End a process group: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function killGroup(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // ESRCH: the group is gone already.
    }
  };
  signal("SIGTERM");
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
  ]);
  // The leader may exit before its children (workerd): sweep the group either way.
  signal("SIGKILL");
  if (timedOut) await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
}

export interface RunOptions extends Omit<SpawnOptions, "stdio" | "detached"> {
  /** Written to the child's stdin, which is closed after it (ignored when undefined). */
  input?: string;
  /** Past this the child's whole process group is ended and the result says so. */
  timeoutMs: number;
}

/**
 * `command args` to completion, in a process group of its own so that a timeout ends
 * everything it started (wrangler's workerd too). The result of a timed-out child has
 * `timedOut` set and the output so far.
 */
export async function runProcess(command: string, args: string[], { input, timeoutMs, ...options }: RunOptions) {
  const child = spawn(command, args, {
    ...options,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    detached: true,
  });
  const done = collect(child);
  // The child may exit without reading its stdin (a command refused before reading it).
  if (input !== undefined) child.stdin!.on("error", () => {}).end(input);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void killGroup(child);
  }, timeoutMs);
  try {
    return { ...(await done), timedOut };
  } finally {
    clearTimeout(timer);
  }
}
