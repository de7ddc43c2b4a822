/**
 * How fast `import-django` writes a large origin dump into the local D1 (not part of
 * `npm test`): a generated dumpdata of N users (default 100000), with organizations and
 * memberships, imported into a fresh local state, then imported again (nothing to write).
 *
 *   npx tsx scripts/measure-import.ts [users]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_PATH } from "../src/cli/lib/project";
import { processIo, runAdmin } from "../src/cli/main";
import { generateDjangoDump } from "./lib/django-fixture";

const users = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), "measure-import-"));
try {
  const file = join(dir, "dump.json");
  const records = generateDjangoDump({ users, nullMemberships: 10 });
  writeFileSync(file, JSON.stringify(records));
  const io = processIo("measure-import", () => CONFIG_PATH);
  const run = async (label: string) => {
    let output = "";
    const started = performance.now();
    const status = await runAdmin(["--persist-to", join(dir, "state"), "import-django", file, "--json"], {
      ...io,
      stdout: (text) => (output += text),
    });
    const seconds = (performance.now() - started) / 1000;
    if (status !== 0) throw new Error(`import failed (${status})`);
    const summary = JSON.parse(output);
    const rows = records.length;
    process.stdout.write(
      `${label}: ${rows} records in ${seconds.toFixed(1)} s = ${Math.round(rows / seconds)} records/s; ${JSON.stringify(summary.users)} ${JSON.stringify(summary.memberships)}\n`,
    );
  };
  process.stdout.write(
    `dump: ${users} users, ${records.length} records, ${(statSync(file).size / 1e6).toFixed(1)} MB\n`,
  );
  await run("first import (fresh database)");
  await run("second import (nothing changed)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
