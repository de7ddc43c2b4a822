/**
 * Setup file of the node project: one process-spawning test file at a time. Each file runs
 * wrangler, workerd, tsx or Chromium children; two or three such files at once on a 2-core
 * machine starve each other into timeouts. The worker project's files still run beside them.
 * The lock is a directory made atomically by mkdir, in a directory of this run only.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, inject } from "vitest";
import "./spawn-lock-global"; // ProvidedContext's spawnLockDir

const held = join(inject("spawnLockDir"), "held");
const owner = join(held, "pid");
const POLL_MS = 100;

/** A lock whose holder (a test file's worker process) died without releasing it. */
function stale(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(owner, "utf8"));
  } catch {
    return false; // being taken right now, or just released
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

beforeAll(async () => {
  for (;;) {
    try {
      mkdirSync(held);
      writeFileSync(owner, String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (stale()) rmSync(held, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}, 900_000); // as long as the other spawning files may take, on a loaded machine

afterAll(() => {
  rmSync(held, { recursive: true, force: true });
});
