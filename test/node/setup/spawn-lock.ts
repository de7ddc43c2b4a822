/**
 * Setup file of the node project: one process-spawning test file at a time. Each file runs
 * wrangler, workerd, tsx or Chromium children; two or three such files at once on a 2-core
 * machine starve each other into timeouts. The worker project's files still run beside them.
 * The lock is a directory made atomically by mkdir, in a directory of this run only.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, inject } from "vitest";
import "./spawn-lock-global"; // ProvidedContext's spawnLockDir

const held = join(inject("spawnLockDir"), "held");
const POLL_MS = 100;

beforeAll(async () => {
  for (;;) {
    try {
      mkdirSync(held);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}, 900_000); // as long as the other spawning files may take, on a loaded machine

afterAll(() => {
  rmSync(held, { recursive: true, force: true });
});
