/**
 * One bench target: wrangler's dev server (`unstable_startWorker`, what `wrangler dev` runs)
 * for one Worker module, in a process of its own, printing its URL once it is ready.
 *
 * The devtools inspector is off unless asked for. A deployed Worker has none, and under
 * `wrangler dev` it relays every console line from the runtime to an inspector proxy Worker
 * that parses it and keeps it for a devtools window that never opens: locally that costs a
 * bare Hono Worker that logs one line a request about 45% of its throughput, a cost
 * production does not pay (README, Performance).
 *
 * argv[2]: JSON { config, main, port, persist, vars, inspectorPort? }.
 */
import { unstable_startWorker } from "wrangler";

interface Options {
  config: string;
  main: string;
  port: number;
  persist: string;
  vars: Record<string, string>;
  inspectorPort?: number;
}

const options = JSON.parse(process.argv[2]!) as Options;
const worker = await unstable_startWorker({
  config: options.config,
  entrypoint: options.main,
  bindings: Object.fromEntries(
    Object.entries(options.vars).map(([name, value]) => [name, { type: "plain_text", value }]),
  ),
  dev: {
    server: { hostname: "127.0.0.1", port: options.port },
    inspector: options.inspectorPort === undefined ? false : { hostname: "127.0.0.1", port: options.inspectorPort },
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
