/** The Django side of the origin sync (integrations/django) as the scripts and tests run it. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { killGroup, runProcess } from "../../src/cli/lib/process";
import { ROOT } from "../../src/cli/lib/project";

/** Debian's interpreter, the one with python3-django (a pyenv python3 on PATH may lack it). */
export const PYTHON = process.env.DJANGO_PYTHON ?? "/usr/bin/python3";
export const DJANGO_APP = join(ROOT, "integrations", "django");
/** The test project: ps-web's model shapes with org_token_edge installed. */
export const DJANGO_PROJECT = join(DJANGO_APP, "tests");

/** `python3 <args>` in the test project, to completion; throws with the output on failure. */
export async function python(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  const result = await runProcess(PYTHON, args, {
    cwd: DJANGO_PROJECT,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env },
    timeoutMs,
  });
  const output = result.stdout + result.stderr;
  if (result.timedOut)
    throw new Error(`python3 ${args.slice(0, 2).join(" ")} did not finish within ${timeoutMs} ms\n${output}`);
  if (result.code !== 0)
    throw new Error(`python3 ${args.slice(0, 2).join(" ")} failed (${result.signal ?? result.code})\n${output}`);
  return result.stdout;
}

export interface Driver {
  /** Runs ORM code in the test project (integrations/django/tests/driver.py); its `result`. */
  exec<T = unknown>(code: string, args?: Record<string, unknown>): Promise<T>;
  /** Until the outbox is empty (the background attempts delivered or parked everything). */
  settle(timeoutSeconds?: number): Promise<boolean>;
  /** [version, committed at, accepted by the edge at] (unix seconds) since the last call. */
  deliveries(): Promise<Array<[number, number, number]>>;
  stderr(): string;
  stop(): Promise<void>;
}

/** The test project's driver, one long-lived process (its deliveries run in its background threads). */
export async function startDriver(env: NodeJS.ProcessEnv): Promise<Driver> {
  const child = spawn(PYTHON, ["driver.py"], {
    cwd: DJANGO_PROJECT,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffer = "";
  let exited: string | undefined;
  const fail = () => {
    for (const resolve of waiting.splice(0))
      resolve(JSON.stringify({ ok: false, error: `driver ${exited}\n${stderr}` }));
  };
  child.on("exit", (code, signal) => {
    exited = `exited (${signal ?? code})`;
    fail();
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  const nextLine = () =>
    new Promise<string>((resolve) => {
      const line = lines.shift();
      if (line !== undefined) resolve(line);
      else if (exited !== undefined) resolve(JSON.stringify({ ok: false, error: `driver ${exited}\n${stderr}` }));
      else waiting.push(resolve);
    });
  let queue: Promise<unknown> = Promise.resolve();
  const call = <T>(request: Record<string, unknown>): Promise<T> => {
    const answer = queue.then(async () => {
      child.stdin!.write(`${JSON.stringify(request)}\n`);
      const reply = JSON.parse(await nextLine()) as { ok: boolean; result?: T; error?: string };
      if (!reply.ok) throw new Error(`driver: ${reply.error}`);
      return reply.result as T;
    });
    queue = answer.catch(() => undefined);
    return answer;
  };
  const ready = JSON.parse(await nextLine()) as { ready?: boolean; error?: string };
  if (!ready.ready) {
    await killGroup(child);
    throw new Error(`driver did not start: ${ready.error ?? ""}\n${stderr}`);
  }
  return {
    exec: (code, args = {}) => call({ op: "exec", code, args }),
    settle: (timeout = 15) => call({ op: "settle", timeout }),
    deliveries: () => call({ op: "deliveries" }),
    stderr: () => stderr,
    stop: async () => {
      child.stdin!.end();
      await killGroup(child);
    },
  };
}
