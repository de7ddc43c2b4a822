/** Global setup of the node project: a directory of this run for the spawn lock (spawn-lock.ts). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  interface ProvidedContext {
    spawnLockDir: string;
  }
}

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "org-token-edge-spawn-lock-"));
  project.provide("spawnLockDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
