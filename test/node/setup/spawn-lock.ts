/**
 * Setup file of the node project: at most SLOTS process-spawning test files at a time. Each
 * file runs wrangler, workerd, tsx or Chromium children, using about one core; more such files
 * at once than a 2-core machine has cores starve each other into timeouts. With `maxWorkers: 2`
 * (vitest.config.ts) two may run together, the worker project's files filling the other lane
 * whenever fewer run; the slots keep that bound if maxWorkers is ever raised.
 * A slot is a directory made atomically by mkdir, in a directory of this run only.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, inject } from "vitest";
import "./spawn-lock-global"; // ProvidedContext's spawnLockDir

export const SLOTS = 2;
const slots = Array.from({ length: SLOTS }, (_, i) => join(inject("spawnLockDir"), `held-${i}`));
let held: string | undefined;
const POLL_MS = 100;

/** A slot whose holder (a test file's worker process) died without releasing it. */
function stale(slot: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(slot, "pid"), "utf8"));
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
    for (const slot of slots) {
      try {
        mkdirSync(slot);
        writeFileSync(join(slot, "pid"), String(process.pid));
        held = slot;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      if (stale(slot)) rmSync(slot, { recursive: true, force: true });
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}, 900_000); // as long as the other spawning files may take, on a loaded machine

afterAll(() => {
  if (held !== undefined) rmSync(held, { recursive: true, force: true });
  held = undefined;
});
