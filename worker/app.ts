/**
 * This repository's Worker as a Hono app, for its tests and benchmarks: the factory over
 * the Worker's own names, with the library's seams (a clock, the stores) to fill.
 */
import { buildApi, type Internals } from "../src/app";
import type { Clock } from "../src/clock";
import { type Background, type Stores, storesOver } from "../src/storage";
import { type Env, workerApiOptions } from "./env";

export type StoresFactory = (env: Env, background: Background) => Stores;

export interface AppOptions {
  clock?: Clock;
  /** The stores of a request, from the Worker's env: in memory, recorded, faulty... */
  stores?: StoresFactory;
  /** The fetch that reaches GitHub: a stand-in in tests. */
  outbound?: typeof fetch;
}

/** The stores over this Worker's own binding names. */
export const d1Stores: StoresFactory = (env) => storesOver({ db: env.DB, kv: env.BLACKLIST });

export function createApp({ clock, stores, outbound }: AppOptions = {}) {
  const internals: Internals<Env> = { clock, outbound };
  if (stores) internals.stores = (env, _bindings, background) => stores(env, background);
  return buildApi(workerApiOptions, internals).app;
}
