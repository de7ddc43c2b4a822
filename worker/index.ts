/** This repository's Worker: the API at the root, under today's binding and variable names. */
import { orgTokenApi } from "../src/api";
import { log } from "../src/log";
import { type Env, workerApiOptions } from "./env";

const tokens = orgTokenApi<Env>(workerApiOptions);

export default {
  fetch: (request, env, ctx) => tokens.fetch(request, env, ctx),
  /** Cron Trigger: forget ledger rows whose tokens have expired. */
  async scheduled(controller, env, _ctx) {
    const removed = await tokens.purgeExpired(env, controller.scheduledTime);
    log("info", "ledger_purged", { ...removed });
  },
} satisfies ExportedHandler<Env>;
