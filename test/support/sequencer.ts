/**
 * File order for two lanes (maxWorkers: 2): the longest process-spawning file (node project)
 * starts at once, every other project's files run beside it, and the remaining node files
 * come last, so that process-spawning files rarely wait for each other's lock
 * (test/node/setup/spawn-lock.ts) while a lane could be running something else.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

export default class SpreadSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // The base order: failed first, then by last duration (or size), node project before others.
    const sorted = await super.sort(files);
    // Longest known first (the base order puts files without a result, such as skipped ones, first).
    const duration = (file: TestSpecification) => this.ctx.cache.getTestSpecificationResult(file)?.duration ?? -1;
    const spawning = sorted.filter((file) => file.project.name === "node").sort((a, b) => duration(b) - duration(a));
    const others = sorted.filter((file) => file.project.name !== "node");
    return [...spawning.slice(0, 1), ...others, ...spawning.slice(1)];
  }
}
