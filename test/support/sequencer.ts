/**
 * File order for two lanes (maxWorkers: 2): longest first, whatever the project, so that the
 * last files to start are short ones and neither lane idles at the end while the other
 * finishes a long file. Durations are the last run's (Vitest's results cache); a file without
 * one (a fresh checkout, or a new file) goes by a rough estimate: a known heavy file by name,
 * else a second.
 * The spawn slots (test/node/setup/spawn-lock.ts) bound how many process-spawning files run at once.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Seconds, for a checkout without Vitest's cache: the files that dominate a run. */
const ESTIMATES: [RegExp, number][] = [
  [/test\/worker\/login\.test\.ts$/, 35],
  [/test\/worker\/passwords\.test\.ts$/, 17],
  [/test\/node\/admin-import\.test\.ts$/, 17],
  [/test\/node\/admin(-host)?\.test\.ts$/, 15],
  [/test\/node\/serve\.test\.ts$/, 11],
  [/test\/node\/package\.test\.ts$/, 7],
  [/test\/node\/(forward|deploy)\.test\.ts$/, 4],
  [/test\/worker\/properties-requests\.test\.ts$/, 4],
];

export default class SpreadSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // The base order (failed first, then by last duration or size) breaks ties.
    const sorted = await super.sort(files);
    const duration = (file: TestSpecification) => {
      const known = this.ctx.cache.getTestSpecificationResult(file)?.duration;
      if (known !== undefined) return known;
      const estimate = ESTIMATES.find(([pattern]) => pattern.test(file.moduleId.replaceAll("\\", "/")));
      return (estimate?.[1] ?? 1) * 1000;
    };
    return sorted
      .map((file) => ({ file, ms: duration(file) }))
      .sort((a, b) => b.ms - a.ms)
      .map(({ file }) => file);
  }
}
