import { createApp } from "./app";
import { systemClock } from "./clock";
import type { Env } from "./env";
import { d1Stores } from "./storage";

const app = createApp();

export default {
  fetch: app.fetch,
  /** Cron Trigger: forget ledger rows whose tokens have expired. */
  async scheduled(controller, env, ctx) {
    const { revocations } = d1Stores(env, (work) => ctx.waitUntil(work));
    const removed = await revocations.purgeExpired(controller.scheduledTime ?? systemClock());
    console.log(JSON.stringify({ event: "ledger_purged", ...removed }));
  },
} satisfies ExportedHandler<Env>;
