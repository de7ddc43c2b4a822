/**
 * The origin sync measured (issue 16): the Django test project (integrations/django) and the
 * Worker under `wrangler dev`, the app delivering as in production (its after-commit attempt
 * and the `--watch` worker), through a loopback TCP relay that can take the edge away.
 *
 *   npm run bench:sync [-- --changes 200 --burst 300 --outage 60 --users 100000 --orgs 1000
 *     --members 150000 --parts freshness,burst,outage,full]
 *
 * 1. Freshness, one change at a time: a membership toggled at the origin, then the edge's
 *    GET /api/membership_status/ polled until it answers the new state (commit to effect).
 * 2. A burst: as many changes committed back to back, commit to the edge's acceptance.
 * 3. Catch-up: changes keep coming (5 a second) while the edge is unreachable for --outage
 *    seconds; from its return until the backlog is delivered; every version accepted exactly
 *    once and the edge's rows equal to the origin's afterwards.
 * 4. A full reconciliation of --users/--orgs/--members rows (made with bulk_create, so they
 *    predate the app: version 0), then the same again with nothing to change.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { killGroup } from "../../src/cli/lib/process";
import { seedDatabase, startWorker, wrangler } from "../../test/node/support/local-worker";
import { DJANGO_PROJECT, type Driver, PYTHON, python, startDriver } from "../lib/django";

const { values: flags } = parseArgs({
  options: {
    changes: { type: "string", default: "200" },
    burst: { type: "string", default: "300" },
    outage: { type: "string", default: "60" },
    users: { type: "string", default: "100000" },
    orgs: { type: "string", default: "1000" },
    members: { type: "string", default: "150000" },
    parts: { type: "string", default: "freshness,burst,outage,full" },
  },
});
const SYNC_SECRET = "bench-sync-secret-that-is-long-enough-0123456789";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Date.now() / 1000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(Math.ceil((p / 100) * sorted.length) - 1, 0)]!;
}
const ms = (seconds: number) => `${(seconds * 1000).toFixed(0)} ms`;
const summary = (values: number[]) =>
  `p50 ${ms(percentile(values, 50))}, p99 ${ms(percentile(values, 99))}, max ${ms(Math.max(...values))} (n=${values.length})`;

interface Accepted {
  /** When the edge's 200 passed the relay (unix seconds, this process's clock). */
  at: number;
  /** How many 2xx deliveries (not duplicates) carried this version. */
  times: number;
}

/**
 * An HTTP relay to the Worker on a fixed port that watches the deliveries: each version in a
 * 2xx answer that is not a duplicate, when, and the edge's applied/stale counts, whichever
 * process sent it (the after-commit attempt or the --watch worker). `down()` refuses and drops
 * connections, `up()` listens again on the same port.
 */
async function relay(target: string) {
  const accepted = new Map<number, Accepted>();
  const counts = { applied: 0, stale: 0, deliveries: 0 };
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !["host", "connection", "content-length"].includes(name)),
    ) as Record<string, string>;
    const answer = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers,
      body: body.length ? body : undefined,
    });
    const text = await answer.text();
    const at = now();
    if (request.url?.startsWith("/api/org_token/sync") && answer.status >= 200 && answer.status < 300) {
      const result = JSON.parse(text) as { applied?: number; stale?: number; duplicate?: boolean };
      counts.deliveries += 1;
      if (!result.duplicate) {
        counts.applied += result.applied ?? 0;
        counts.stale += result.stale ?? 0;
        const { records = [], full } = JSON.parse(body.toString("utf8")) as {
          records?: Array<{ version: number }>;
          full?: unknown;
        };
        if (!full) {
          for (const { version } of records) {
            const seen = accepted.get(version);
            accepted.set(version, { at: seen?.at ?? at, times: (seen?.times ?? 0) + 1 });
          }
        }
      }
    }
    response.writeHead(answer.status, { "Content-Type": answer.headers.get("content-type") ?? "application/json" });
    response.end(text);
  };
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((request, response) => {
        handle(request, response).catch((error: Error) => {
          response.writeHead(502).end(error.message);
        });
      });
      server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      server.on("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server!.close(() => resolve());
    });
  await up();
  return { url: () => `http://127.0.0.1:${port}`, up, down, accepted, counts };
}
type Relay = Awaited<ReturnType<typeof relay>>;

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), "bench-sync-"));
  const persistTo = join(stateDir, "state");
  const stops: Array<() => Promise<void>> = [];
  try {
    await seedDatabase(persistTo, stateDir, "SELECT 1;");
    const worker = await startWorker({
      persistTo,
      stateDir,
      vars: { JWT_SECRET_KEY: "bench-sync-jwt-secret-that-is-long-enough-01", SYNC_SECRET },
    });
    stops.push(() => worker.stop());
    const edge = await relay(worker.url);
    stops.push(() => edge.down().catch(() => undefined));
    const env = {
      OTE_DB_PATH: join(stateDir, "origin.sqlite3"),
      OTE_URL: edge.url(),
      OTE_SECRET: SYNC_SECRET,
      OTE_HASHERS: "testproject.hashers.FastPBKDF2PasswordHasher",
      OTE_LOG_LEVEL: "CRITICAL",
    };
    await python(["manage.py", "migrate", "--noinput", "-v", "0"], env);
    const origin = await startDriver(env);
    stops.push(() => origin.stop());
    // The production worker: retries on the backoff schedule.
    const watch = spawn(PYTHON, ["manage.py", "org_token_edge_sync", "--watch"], {
      cwd: DJANGO_PROJECT,
      env: { ...process.env, ...env },
      stdio: "ignore",
      detached: true,
    });
    stops.push(() => killGroup(watch));
    console.log(`edge ${worker.url} behind ${edge.url()}; origin ${env.OTE_DB_PATH}`);

    const parts = new Set(flags.parts.split(","));
    if (parts.has("freshness")) await freshness(origin, edge, Number(flags.changes));
    if (parts.has("burst")) await burst(origin, edge, Number(flags.burst));
    if (parts.has("outage")) await outage(origin, edge, Number(flags.outage), persistTo, stateDir, env);
    if (parts.has("full"))
      await reconciliation(origin, env, Number(flags.users), Number(flags.orgs), Number(flags.members));
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const CHANGE = `result = {"version": RowVersion.objects.get(kind=kind, key=str(row.pk)).version, "at": time.time()}`;
interface Change {
  version: number;
  at: number;
}

async function freshness(origin: Driver, edge: Relay, changes: number) {
  const w = await origin.exec<{ membership: string }>(
    `with transaction.atomic():
    user = User.objects.create_user("fresh", password="fresh password 1")
    org = OrgAccount.objects.create(name="Fresh", owner=user)
    result = {"membership": str(Membership.objects.create(user=user, org=org, active=True).pk)}`,
  );
  await origin.settle();
  const login = await fetch(`${edge.url()}/api/org_token/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "fresh", password: "fresh password 1", org_name: "Fresh" }),
  });
  const { access } = (await login.json()) as { access: string };
  const status = async () => {
    const response = await fetch(`${edge.url()}/api/membership_status/Fresh/`, {
      headers: { Authorization: `Bearer ${access}` },
    });
    if (response.status !== 200) throw new Error(`membership_status ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { active: boolean }).active;
  };
  const observed: number[] = [];
  const made: Change[] = [];
  for (let i = 0; i < changes; i++) {
    const active = i % 2 === 1;
    const change = await origin.exec<Change>(
      `row = Membership.objects.get(pk=args["m"]); row.active = args["active"]; row.save(); kind = "membership"
${CHANGE}`,
      { m: w.membership, active },
    );
    while ((await status()) !== active) {
      if (now() - change.at > 30) throw new Error(`change ${i} not at the edge after 30 s`);
      await sleep(2);
    }
    observed.push(now() - change.at);
    made.push(change);
  }
  await origin.settle();
  console.log(`freshness, one change at a time (${changes} membership toggles):`);
  console.log(`  commit to effect (membership_status answers it): ${summary(observed)}`);
  console.log(`  commit to the edge's 200 for its delivery:       ${summary(latencies(edge, made))}`);
}

function latencies(edge: Relay, made: Change[]): number[] {
  return made.map((change) => {
    const accepted = edge.accepted.get(change.version);
    if (!accepted) throw new Error(`version ${change.version} was never accepted`);
    return accepted.at - change.at;
  });
}

async function burst(origin: Driver, edge: Relay, count: number) {
  await origin.exec(
    `with transaction.atomic():
    org = OrgAccount.objects.create(name="Burst")
    for i in range(50):
        Membership.objects.create(user=User.objects.create_user("burst%d" % i, password=None), org=org, active=True)`,
  );
  await origin.settle();
  const started = now();
  const made = await origin.exec<Change[]>(
    `members = list(Membership.objects.filter(org__name="Burst"))
users = list(User.objects.filter(username__startswith="burst"))
made = []
for i in range(args["count"]):
    if i % 2:
        row = members[i % len(members)]; row.active = not row.active; row.save(); kind = "membership"
    else:
        row = users[i % len(users)]; row.username = "burst%d_%d" % (row.pk, i); row.save(); kind = "user"
    ${CHANGE}
    made.append(result)
result = made`,
    { count },
  );
  const committed = now() - started;
  await origin.settle(60);
  const all = now() - started;
  console.log(
    `burst: ${count} changes committed back to back in ${ms(committed)} (one transaction each); all at the edge ${ms(all)} after the first`,
  );
  console.log(`  commit to the edge's 200: ${summary(latencies(edge, made))}`);
}

async function outage(
  origin: Driver,
  edge: Relay,
  seconds: number,
  persistTo: string,
  stateDir: string,
  env: NodeJS.ProcessEnv,
) {
  const user = await origin.exec<number>(`result = User.objects.create_user("outage", password=None).pk`);
  await origin.settle();
  const before = { ...edge.counts };
  const made: Change[] = [];
  const during: Change[] = [];
  let stop = false;
  let down = false;
  const stream = (async () => {
    for (let i = 0; !stop; i++) {
      const change = await origin.exec<Change>(
        `row = User.objects.get(pk=args["u"]); row.username = "outage_%d" % args["i"]; row.save(); kind = "user"
${CHANGE}`,
        { u: user, i },
      );
      made.push(change);
      if (down) during.push(change);
      await sleep(200);
    }
  })();
  await sleep(3_000);
  down = true;
  await edge.down();
  const wentDown = now();
  await sleep(seconds * 1000);
  down = false;
  await edge.up();
  const back = now();
  const last = during.at(-1)!;
  while (!edge.accepted.has(last.version)) {
    if (now() - back > 400) throw new Error("the backlog was not delivered within 400 s of the edge's return");
    await sleep(10);
  }
  const caughtUp = edge.accepted.get(last.version)!.at - back;
  await sleep(3_000);
  stop = true;
  await stream;
  await origin.settle(30);
  const lost = made.filter((change) => !edge.accepted.has(change.version)).length;
  const resent = made.filter((change) => (edge.accepted.get(change.version)?.times ?? 0) > 1).length;
  const applied = edge.counts.applied - before.applied;
  const stale = edge.counts.stale - before.stale;
  const status = JSON.parse(await python(["manage.py", "org_token_edge_sync", "--status", "--json"], env)) as {
    pending: number;
    failed: number;
  };
  const rows = JSON.parse(
    await wrangler(
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persistTo,
        "--json",
        "--command",
        `SELECT username FROM users_user WHERE id = ${user}`,
      ],
      stateDir,
    ),
  ) as Array<{ results: Array<{ username: string }> }>;
  const atEdge = rows[0]?.results[0]?.username;
  const atOrigin = await origin.exec<string>(`result = User.objects.get(pk=args["u"]).username`, { u: user });
  console.log(
    `catch-up: ${during.length} changes during a ${(back - wentDown).toFixed(0)} s outage (${made.length} in all, about 5 a second, ` +
      `before, during and after it); the last change of the outage at the edge ${ms(caughtUp)} after its return`,
  );
  console.log(
    `  lost ${lost}; sent again after an answer was cut ${resent} (stale at the edge: its version was kept); ` +
      `the edge applied ${applied} row changes, ${stale} stale, over ${edge.counts.deliveries - before.deliveries} deliveries; ` +
      `edge ${JSON.stringify(atEdge)} ${atEdge === atOrigin ? "=" : "!="} origin ${JSON.stringify(atOrigin)}; ` +
      `--status: pending ${status.pending}, failed ${status.failed}`,
  );
}

async function reconciliation(origin: Driver, env: NodeJS.ProcessEnv, users: number, orgs: number, members: number) {
  const made = now();
  await origin.exec(
    `from django.contrib.auth.hashers import make_password
password = make_password("bulk password")
first = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
User.objects.bulk_create([User(username="bulk%d" % i, password=password) for i in range(args["users"])], batch_size=5000)
user_ids = list(User.objects.filter(pk__gte=first).order_by("pk").values_list("pk", flat=True))
OrgAccount.objects.bulk_create([OrgAccount(name="BulkOrg%d" % i) for i in range(args["orgs"])], batch_size=5000)
org_ids = list(OrgAccount.objects.filter(name__startswith="BulkOrg").order_by("name").values_list("pk", flat=True))
Membership.objects.bulk_create(
    [Membership(user_id=user_ids[i % len(user_ids)], org_id=org_ids[(i % len(org_ids) + (i // len(user_ids)) * (len(org_ids) // 2)) % len(org_ids)], active=i % 3 != 0)
     for i in range(args["members"])],
    batch_size=5000,
)`,
    { users, orgs, members },
  );
  console.log(
    `full reconciliation: ${users} users, ${orgs} organizations, ${members} memberships made at the origin in ${(now() - made).toFixed(1)} s`,
  );
  // The origin's share: the same run with every delivery answered 200 at once, no network.
  const alone = await origin.exec<number>(
    `class Accept:
    def post(self, url, body, headers, timeout):
        return delivery.Answer(200, "{}")
started = time.time()
full.run(Sender(transport=Accept()))
result = time.time() - started`,
  );
  console.log(`  the origin alone (reading, signing; every delivery answered at once): ${alone.toFixed(1)} s`);
  for (const run of ["first (the edge lacks them)", "again (nothing to change)"]) {
    const started = now();
    const output = await python(["manage.py", "org_token_edge_sync", "--full"], env, 1_800_000);
    console.log(`  ${run}: ${(now() - started).toFixed(1)} s — ${output.trim().split("\n").at(-1)}`);
  }
}

await main();
