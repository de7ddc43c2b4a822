/**
 * The Worker's startup (what Cloudflare limits to 1 s: parsing and running the bundle's
 * global scope, docs: Workers platform limits, "Worker startup time") against the bare Hono
 * Worker of `npm run bench` (scripts/bench/worker-bare.ts), each profiled by
 * `wrangler check startup` in a fresh local workerd, alternated, `runs` times each. The
 * difference per KiB of gzip is what a KiB of this code costs a cold start here; the bundle
 * budget (scripts/check-bundle.ts, BUDGET_KIB) is set from it.
 *
 * `npx tsx scripts/bench/startup.ts [runs]` (default 7). Local figures, on this machine's
 * CPU: Cloudflare's differ, the ratio between the two Workers less so.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { collect } from "../../src/cli/lib/process";
import { spawnWrangler } from "../../src/cli/lib/project";

const runs = Number(process.argv[2] ?? 7);
const dir = mkdtempSync(join(tmpdir(), "startup-"));

interface Profile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

async function wrangler(args: string[]): Promise<void> {
  const { code, stdout, stderr } = await collect(spawnWrangler(args, { stdio: ["ignore", "pipe", "pipe"] }));
  if (code !== 0) throw new Error(`wrangler ${args.join(" ")} failed (${code}):\n${stdout}${stderr}`);
}

/**
 * Parsing and running the module's global scope in a fresh Node process (V8, as workerd):
 * finer than the profile's 1 ms samples, and the same for every module.
 */
function evaluate(module: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(module)}); console.log(performance.now() - t);`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`importing ${module} failed: ${result.stderr}`);
  return Number(result.stdout.trim());
}

/** One fresh isolate's startup: the profile's window, and its time neither idle nor in GC. */
async function startup(bundle: string, run: number) {
  const outfile = join(dir, `profile-${run}.cpuprofile`);
  await wrangler(["check", "startup", "--worker", bundle, "--outfile", outfile]);
  const profile = JSON.parse(readFileSync(outfile, "utf8")) as Profile;
  const names = new Map(profile.nodes.map((node) => [node.id, node.callFrame.functionName]));
  let idle = 0;
  let gc = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (names.get(id) === "(idle)") idle += ms;
    if (names.get(id) === "(garbage collector)") gc += ms;
  });
  const window = (profile.endTime - profile.startTime) / 1000;
  return { window, busy: window - idle, code: window - idle - gc };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

try {
  // Both built by wrangler exactly as a deploy would upload them (the bare one with this
  // project's configuration, its bindings unused): the upload (`--outfile`, what
  // `check startup --worker` reads) and its modules (`--outdir`, gzip measured as
  // scripts/check-bundle.ts does).
  const built = async (name: string, entry: string[]) => {
    const outdir = join(dir, name);
    const bundle = join(dir, `${name}.bundle`);
    await wrangler(["deploy", ...entry, "--dry-run", "--outdir", outdir]);
    await wrangler(["deploy", ...entry, "--dry-run", "--outfile", bundle]);
    const modules = readdirSync(outdir).filter((file) => /\.(m?js|wasm)$/.test(file));
    const bytes = Buffer.concat(modules.map((file) => readFileSync(join(outdir, file))));
    return { bundle, module: join(outdir, modules[0]!), kib: gzipSync(bytes).byteLength / 1024 };
  };
  type Result = Awaited<ReturnType<typeof startup>>;
  const targets = [
    { name: "org-token-edge", ...(await built("ours", [])), results: [] as Result[], evaluated: [] as number[] },
    {
      name: "bare Hono",
      ...(await built("bare", [join(import.meta.dirname, "worker-bare.ts")])),
      results: [] as Result[],
      evaluated: [] as number[],
    },
  ];
  for (let run = 0; run < runs; run++) {
    for (const target of run % 2 === 0 ? targets : [...targets].reverse()) {
      target.results.push(await startup(target.bundle, run * 2 + targets.indexOf(target)));
      target.evaluated.push(evaluate(target.module));
    }
  }
  const summary = targets.map((target) => ({
    name: target.name,
    gzipKiB: Number(target.kib.toFixed(1)),
    windowMs: median(target.results.map((r) => r.window)),
    busyMs: median(target.results.map((r) => r.busy)),
    codeMs: median(target.results.map((r) => r.code)),
    evaluateMs: median(target.evaluated),
    evaluateRangeMs: [Math.min(...target.evaluated), Math.max(...target.evaluated)],
    busyRangeMs: [Math.min(...target.results.map((r) => r.busy)), Math.max(...target.results.map((r) => r.busy))],
  }));
  for (const s of summary) console.log(JSON.stringify(s));
  const [o, b] = summary as [(typeof summary)[0], (typeof summary)[0]];
  const line = (what: string, ours: number, bare: number) => {
    const perKiB = (ours - bare) / (o.gzipKiB - b.gzipKiB);
    // Linear in the code beyond the bare Worker: the size at which startup reaches 50 ms and 1 s.
    const at = (ms: number) => b.gzipKiB + (ms - bare) / perKiB;
    console.log(
      `${what}: ${ours.toFixed(1)} ms, bare ${bare.toFixed(1)} ms: ${(ours - bare).toFixed(1)} ms for ${(o.gzipKiB - b.gzipKiB).toFixed(1)} KiB gzip = ${perKiB.toFixed(3)} ms/KiB; 50 ms at ${at(50).toFixed(0)} KiB, 1 s at ${at(1000).toFixed(0)} KiB`,
    );
  };
  line(`import in Node (median of ${runs})`, o.evaluateMs, b.evaluateMs);
  line(`workerd startup profile, busy (median of ${runs})`, o.busyMs, b.busyMs);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
