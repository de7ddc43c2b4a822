#!/usr/bin/env node
/**
 * `org-token-admin`, the admin CLI as a host Worker's project runs it (bundled to
 * dist/cli/admin.js): the database is a D1 binding of the wrangler configuration found from
 * the current directory, or of --config, chosen with --binding.
 */
import * as nodeModule from "node:module";
import { findConfig } from "./lib/project";
import { processIo, runAdmin } from "./main";

// wrangler is a 15 MB bundle; caching its compiled code saves a good part of every start.
nodeModule.enableCompileCache?.();

runAdmin(
  process.argv.slice(2),
  processIo("org-token-admin", () => findConfig()),
).then((status) => {
  process.exitCode = status;
});
