/**
 * The origin sync's receiver alone (not part of `npm test`): its store over a real local D1
 * (wrangler's getPlatformProxy: workerd's D1 on this machine's SQLite, one round trip per
 * call as under wrangler dev), each delivery validated as the route does (parseDelivery).
 *
 *   npx tsx scripts/bench/sync.ts [--users 100000] [--orgs 1000] [--memberships 150000]
 *     [--deliveries 100] [--page 100] [--import]
 *
 * Prints: change deliveries of 100 records applied per second; a full reconciliation of the
 * whole origin in pages, into an empty edge; the same again with nothing to change; with
 * --import, `import-django` of a dump of the same size in the same run, as the baseline.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { applyMigrations } from "../../src/cli/lib/migrations";
import { CONFIG_PATH, loadWrangler, MIGRATIONS_DIR } from "../../src/cli/lib/project";
import { processIo, runAdmin } from "../../src/cli/main";
import { D1SyncStore } from "../../src/storage/d1/sync";
import { parseDelivery } from "../../src/sync/records";
import { generateDjangoDump } from "../lib/django-fixture";

const { values: flags } = parseArgs({
  options: {
    users: { type: "string", default: "100000" },
    orgs: { type: "string", default: "1000" },
    memberships: { type: "string", default: "150000" },
    deliveries: { type: "string", default: "100" },
    page: { type: "string", default: "100" },
    import: { type: "boolean", default: false },
  },
});
const USERS = Number(flags.users);
const ORGS = Number(flags.orgs);
const MEMBERSHIPS = Number(flags.memberships);
const PAGE = Number(flags.page);

const uuid = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(7, "0")}-0000-4000-8000-000000000000`;
const orgKey = (n: number) => uuid("0", n);
const memberKey = (n: number) => uuid("1", n);
const HASH = "pbkdf2_sha256$600000$saltsaltsaltsalt123456$kp5UR2quNNhPh9tI2zSnPL2+0VaDxysdnYheVEgJc6U=";

/** The origin: users, organizations and memberships (user i in org i % ORGS, then the next orgs). */
function* origin(version: (kind: string, n: number) => number) {
  for (let i = 1; i <= USERS; i++) {
    yield {
      kind: "user",
      key: i,
      version: version("user", i),
      fields: { username: `user${i}`, password: HASH, is_active: i % 17 !== 0 },
    };
  }
  for (let o = 1; o <= ORGS; o++)
    yield { kind: "organization", key: orgKey(o), version: version("organization", o), fields: { name: `Org${o}` } };
  for (let m = 1; m <= MEMBERSHIPS; m++) {
    const user = ((m - 1) % USERS) + 1;
    const org = ((user + Math.floor((m - 1) / USERS) * 7) % ORGS) + 1;
    yield {
      kind: "membership",
      key: memberKey(m),
      version: version("membership", m),
      fields: { user, org: orgKey(org), active: m % 5 !== 0 },
    };
  }
}

function* pages<T>(items: Iterable<T>, size: number) {
  let page: T[] = [];
  for (const item of items) {
    page.push(item);
    if (page.length === size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

const dir = mkdtempSync(join(tmpdir(), "bench-sync-"));
const { getPlatformProxy } = loadWrangler();
const proxy = await getPlatformProxy<{ DB: D1Database }>({
  configPath: CONFIG_PATH,
  persist: { path: join(dir, "v3") },
  remoteBindings: false,
});
try {
  const db = proxy.env.DB;
  await applyMigrations(db, MIGRATIONS_DIR);
  const store = new D1SyncStore(db);
  let ids = 0;
  const apply = (body: unknown) =>
    store.apply(parseDelivery(JSON.parse(JSON.stringify(body))), {
      id: `bench_${++ids}`,
      nowMs: Date.now(),
      revokeOnPasswordChange: true,
    });
  const seconds = (started: number) => (performance.now() - started) / 1000;
  // The machine may be shared: each figure with the load it was measured under.
  const load = () => ` [load ${loadavg()[0]!.toFixed(2)}]`;
  process.stdout.write(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
  );

  const full = async (label: string) => {
    const run = crypto.randomUUID();
    const started = performance.now();
    await apply({ full: { run, phase: "begin" } });
    let applied = 0;
    let stale = 0;
    let count = 0;
    for (const page of pages(
      origin(() => 0),
      PAGE,
    )) {
      const outcome = await apply({ records: page, full: { run, phase: "page" } });
      if (outcome.kind !== "applied") throw new Error(`page refused: ${JSON.stringify(outcome)}`);
      applied += outcome.applied;
      stale += outcome.stale;
      count += 1;
    }
    const end = await apply({
      full: { run, phase: "end", counts: { user: USERS, organization: ORGS, membership: MEMBERSHIPS } },
    });
    const s = seconds(started);
    const removed = end.kind === "applied" ? JSON.stringify(end.removed) : end.kind;
    process.stdout.write(
      `${label}: ${USERS + ORGS + MEMBERSHIPS} records in ${count} pages of ${PAGE}: ${s.toFixed(1)} s (${Math.round((USERS + ORGS + MEMBERSHIPS) / s)} records/s, ${((1000 * s) / count).toFixed(1)} ms a page); applied ${applied}, stale ${stale}, removed ${removed}${load()}\n`,
    );
    return s;
  };
  // The floor: a delivery with no records (the state read and one batch through the proxy).
  const floorStarted = performance.now();
  for (let i = 0; i < 50; i++) await apply({ records: [] });
  process.stdout.write(`empty delivery: ${((1000 * seconds(floorStarted)) / 50).toFixed(1)} ms each\n`);

  const first = await full("full reconciliation, empty edge");
  const again = await full("full reconciliation, nothing to change");

  // Change deliveries of 100 records: users renamed and memberships toggled, versions rising.
  let version = 1;
  const deliveries = Number(flags.deliveries);
  const started = performance.now();
  for (let d = 0; d < deliveries; d++) {
    const records = [];
    for (let r = 0; r < 100; r++) {
      const n = ((d * 100 + r) % Math.min(USERS, MEMBERSHIPS)) + 1;
      records.push(
        r % 2 === 0
          ? {
              kind: "user",
              key: n,
              version: ++version,
              fields: { username: `user${n}_v${version}`, password: HASH, is_active: true },
            }
          : {
              kind: "membership",
              key: memberKey(n),
              version: ++version,
              fields: {
                user: ((n - 1) % USERS) + 1,
                org: orgKey(((((n - 1) % USERS) + 1) % ORGS) + 1),
                active: d % 2 === 0,
              },
            },
      );
    }
    const outcome = await apply({ records });
    if (outcome.kind !== "applied" || outcome.applied !== 100)
      throw new Error(`delivery ${d}: ${JSON.stringify(outcome)}`);
  }
  const changeSeconds = seconds(started);
  process.stdout.write(
    `change deliveries: ${deliveries} of 100 records in ${changeSeconds.toFixed(2)} s = ${(deliveries / changeSeconds).toFixed(1)} deliveries/s (${((1000 * changeSeconds) / deliveries).toFixed(1)} ms each)${load()}\n`,
  );

  if (flags.import) {
    const file = join(dir, "dump.json");
    const records = generateDjangoDump({ users: USERS, orgs: ORGS });
    writeFileSync(file, JSON.stringify(records));
    const io = processIo("bench-sync", () => CONFIG_PATH);
    const importOnce = async () => {
      const t = performance.now();
      const status = await runAdmin(["--persist-to", join(dir, "import-state"), "import-django", file, "--json"], {
        ...io,
        stdout: () => undefined,
      });
      if (status !== 0) throw new Error(`import failed (${status})`);
      return seconds(t);
    };
    const i1 = await importOnce();
    const i2 = await importOnce();
    process.stdout.write(
      `import-django of ${records.length} records: ${i1.toFixed(1)} s, again ${i2.toFixed(1)} s; full sync / import: ${(first / i1).toFixed(2)}x, nothing to change ${(again / i2).toFixed(2)}x${load()}\n`,
    );
  }
} finally {
  await proxy.dispose();
  rmSync(dir, { recursive: true, force: true });
}
