/**
 * This repository's Worker as a Hono app, for its tests and benchmarks: the factory over
 * the Worker's own names, with the library's seams (a clock, the stores, GitHub's fetch, the password work).
 */
import { buildApi, type Internals } from "../src/app";
import { storesOver } from "../src/storage";
import { type Env, workerApiOptions } from "./env";

export type AppOptions = Internals<Env>;
export type StoresFactory = NonNullable<AppOptions["stores"]>;

/** The stores over this Worker's own binding names. */
export const d1Stores: StoresFactory = (env) => storesOver({ db: env.DB, kv: env.BLACKLIST });

export function createApp(options: AppOptions = {}) {
  return buildApi(workerApiOptions, options).app;
}
