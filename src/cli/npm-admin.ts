/**
 * Administration of org-token-edge's users, organizations and memberships, for whoever runs
 * the service: `npm run admin -- <command>` (see --help). Works on the local database that
 * `npm start` uses, or with --remote on the deployed one. The commands are in src/cli/.
 */
import * as nodeModule from "node:module";
import { CONFIG_PATH } from "./lib/project";
import { processIo, runAdmin } from "./main";

// wrangler is a 15 MB bundle; caching its compiled code saves a good part of every start.
nodeModule.enableCompileCache?.();

runAdmin(
  process.argv.slice(2),
  processIo("npm run admin --", () => CONFIG_PATH),
).then((status) => {
  process.exitCode = status;
});
