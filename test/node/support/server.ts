/**
 * A server process of a node test (wrangler dev, Django's runserver): spawned in its own
 * process group (stop() ends its children too), its output kept for failures, and returned
 * once it answers HTTP at `probe`, or an error with its output when it exits or times out.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { killGroup } from "../../../src/cli/lib/process";

export interface Server {
  /** http://127.0.0.1:<port> */
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export interface ServerSpec {
  /** What it is, for messages: "wrangler dev", "runserver". */
  name: string;
  command: string;
  args: string[];
  options: Omit<SpawnOptions, "stdio" | "detached">;
  url: string;
  /** A path any answer to which means the server is up. */
  probe: string;
  readyTimeoutMs: number;
  pollMs?: number;
}

export async function startServer(spec: ServerSpec): Promise<Server> {
  const child: ChildProcess = spawn(spec.command, spec.args, {
    ...spec.options,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  let exited: string | undefined;
  child.on("exit", (code, signal) => (exited = `exited (${signal ?? code})`));
  child.on("error", (error) => (exited = `failed to start: ${error.message}`));
  const server: Server = { url: spec.url, output: () => output, stop: () => killGroup(child) };
  const deadline = Date.now() + spec.readyTimeoutMs;
  try {
    for (;;) {
      if (exited !== undefined) throw new Error(`${spec.name} ${exited} before answering`);
      if (Date.now() > deadline) throw new Error(`${spec.name} did not answer within ${spec.readyTimeoutMs} ms`);
      try {
        await fetch(`${spec.url}${spec.probe}`, { signal: AbortSignal.timeout(2_000) });
        return server;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, spec.pollMs ?? 200));
      }
    }
  } catch (error) {
    await server.stop();
    (error as Error).message += `\n${output}`;
    throw error;
  }
}
