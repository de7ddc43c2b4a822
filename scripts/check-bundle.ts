/**
 * The Worker's bundle within budget: `wrangler deploy --dry-run` builds exactly what a deploy
 * would upload (no account, no ids needed), and its gzip size must stay under BUDGET_KIB
 * (Cloudflare counts a Worker's size compressed). `npm run check:bundle`; CI runs it too.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { collect } from "../src/cli/lib/process";
import { spawnWrangler } from "../src/cli/lib/project";

export const BUDGET_KIB = 48;

const outdir = mkdtempSync(join(tmpdir(), "bundle-"));
try {
  const child = spawnWrangler(["deploy", "--dry-run", "--outdir", outdir], { stdio: ["ignore", "pipe", "pipe"] });
  const { code, stdout, stderr } = await collect(child);
  if (code !== 0) {
    process.stderr.write(`${stdout}${stderr}\ncheck-bundle: wrangler deploy --dry-run failed (${code})\n`);
    process.exit(1);
  }
  const modules = readdirSync(outdir).filter((name) => /\.(m?js|wasm)$/.test(name));
  const bytes = Buffer.concat(modules.map((name) => readFileSync(join(outdir, name))));
  // zlib's default level, as wrangler measures its "gzip:" figure.
  const gzipKiB = gzipSync(bytes).byteLength / 1024;
  const rawKiB = bytes.byteLength / 1024;
  const verdict = gzipKiB <= BUDGET_KIB ? "within" : "OVER";
  console.log(
    `bundle: ${modules.join(", ")} ${rawKiB.toFixed(1)} KiB, gzip ${gzipKiB.toFixed(1)} KiB: ${verdict} the ${BUDGET_KIB} KiB budget`,
  );
  if (gzipKiB > BUDGET_KIB) process.exit(1);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
