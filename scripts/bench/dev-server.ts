/**
 * One bench target: wrangler's dev server (`unstable_startWorker`, what `wrangler dev` runs)
 * for one Worker module, in a process of its own, printing its URL once it is ready.
 *
 * The devtools inspector is off unless asked for. A deployed Worker has none, and under
 * `wrangler dev` it relays every console line from the runtime to an inspector proxy Worker
 * that parses it and keeps it for a devtools window that never opens: locally that costs a
 * bare Hono Worker that logs one line a request 44-48% of its throughput (two runs), a cost
 * production does not pay (README, Performance).
 *
 * argv[2]: JSON { config, main, persist, vars, inspector }. The ports are wrangler's choice,
 * taken as it starts (a port picked beforehand can be taken by another server meanwhile);
 * the URL it prints is the one to use.
 */
import { unstable_startWorker } from "wrangler";

interface Options {
  config: string;
  main: string;
  persist: string;
  vars: Record<string, string>;
  inspector: boolean;
}

const options = JSON.parse(process.argv[2]!) as Options;
const worker = await unstable_startWorker({
  config: options.config,
  entrypoint: options.main,
  bindings: Object.fromEntries(
    Object.entries(options.vars).map(([name, value]) => [name, { type: "plain_text", value }]),
  ),
  dev: {
    server: { hostname: "127.0.0.1" },
    inspector: options.inspector ? { hostname: "127.0.0.1" } : false,
    persist: options.persist,
    logLevel: "error",
    watch: false,
  },
} as Parameters<typeof unstable_startWorker>[0]);
await worker.ready;
console.log(`ready ${(await worker.url).href}`);
const stop = () => void worker.dispose().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
