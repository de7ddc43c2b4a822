/**
 * `npm run build:cli`: the admin CLI bundled into one file, dist/cli/admin.js, the package's
 * `org-token-admin` bin. Its own code and the parts of src/ it uses (configuration, token
 * issuing, password hashing) are inlined; packages (wrangler, jose, hono) stay imports,
 * resolved from the installing project. The entry's `#!/usr/bin/env node` line is kept.
 */
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ROOT } from "../src/cli/lib/project";

export const CLI_OUTFILE = join(ROOT, "dist", "cli", "admin.js");

export async function buildCli(outfile = CLI_OUTFILE): Promise<string> {
  await build({
    entryPoints: [join(ROOT, "src", "cli", "cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`Built ${await buildCli()}\n`);
}
