/**
 * `npm run deploy [-- wrangler deploy options]`: refuse what cannot be deployed (placeholder
 * ids, the placeholder domain, routes without ORIGIN_URL), then `wrangler deploy`.
 */

import { CONFIG_PATH, loadWrangler, spawnWrangler } from "../src/cli/lib/project";
import { deployProblems } from "./deploy-check";

interface Config {
  d1_databases: { binding: string; database_id?: string }[];
  kv_namespaces: { binding: string; id?: string }[];
  routes?: (string | { pattern: string })[];
  vars: Record<string, unknown>;
}

const config: Config = loadWrangler().unstable_readConfig({ config: CONFIG_PATH });
const problems = deployProblems({
  d1Databases: config.d1_databases.map((db) => ({ binding: db.binding, databaseId: db.database_id })),
  kvNamespaces: config.kv_namespaces.map((kv) => ({ binding: kv.binding, id: kv.id })),
  routes: (config.routes ?? []).map((route) => (typeof route === "string" ? route : route.pattern)),
  vars: config.vars,
});
if (problems.length > 0) {
  process.stderr.write(
    `deploy: not deploying, wrangler.toml is not ready:\n${problems.map((p) => `  - ${p}`).join("\n")}\n`,
  );
  process.stderr.write(
    "See README, Deploy, and docs/deploy.md. (`wrangler deploy --dry-run` works without any of this.)\n",
  );
  process.exit(1);
}
const child = spawnWrangler(["deploy", ...process.argv.slice(2)], { stdio: "inherit" });
child.on("close", (code) => process.exit(code ?? 1));
