/**
 * Production-like latency over the real local bindings: each D1 or KV call first does its
 * real work (local SQLite, local KV), then waits the delay of the tier it would reach when
 * deployed. What each tier costs, and why these defaults, is in docs/exactly-once.md.
 */
import type { Env } from "../../worker/env";

export interface Delays {
  /** A KV read served from the location's cache. */
  kvHit: number;
  /** A KV read that misses the cache (a key read for the first time: every `jti:` key) or a write. */
  kvMiss: number;
  /** A D1 query through a Sessions API session, answered by a nearby read replica. */
  replica: number;
  /** A D1 query or batch on the database itself: the primary, in one region. */
  primary: number;
}

export const DEFAULT_DELAYS: Delays = { kvHit: 2, kvMiss: 30, replica: 10, primary: 80 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const QUERIES = new Set(["first", "all", "run", "raw", "batch", "exec"]);

/**
 * The calls that reached each binding (a D1 query or batch, a KV read or write): each one a
 * round trip when deployed. A path's count over its requests is its round trips per request
 * (calls made side by side count each; test/worker/round-trips.test.ts times the stages).
 */
export interface Calls {
  d1: number;
  kv: number;
}

/** Every query method of a D1 database, session or statement waits `ms` after answering. */
function delayedD1<T extends object>(target: T, ms: number, replica: number, calls?: Calls): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = value.apply(object, args);
        if (property === "withSession") return delayedD1(result, replica, replica, calls);
        if (property === "prepare" || property === "bind") return delayedD1(result, ms, replica, calls);
        if (QUERIES.has(String(property))) {
          if (calls) calls.d1++;
          return Promise.resolve(result).then(async (answer) => {
            await sleep(ms);
            return answer;
          });
        }
        return result;
      };
    },
  });
}

function delayedKv(kv: KVNamespace, delays: Delays, calls?: Calls): KVNamespace {
  return new Proxy(kv, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (calls) calls.kv++;
        const answer = await value.apply(object, args);
        // A bulk get (a Map: the ended-sessions check, the same few keys a session reads
        // again and again, absent ones included, under cacheTtl) counts as served from the
        // location's cache: its steady state. Its first read in a location is a miss.
        const hit =
          property === "get" || property === "getWithMetadata"
            ? answer instanceof Map || (answer !== null && (answer as { value?: unknown }).value !== null)
            : false;
        await sleep(hit ? delays.kvHit : delays.kvMiss);
        return answer;
      };
    },
  });
}

/** `env` with delayed D1 and KV; `calls`, if given, counts the calls that reach them. */
export function delayedEnv(env: Env, delays: Delays, calls?: Calls): Env {
  return {
    ...env,
    DB: delayedD1(env.DB, delays.primary, delays.replica, calls),
    BLACKLIST: delayedKv(env.BLACKLIST, delays, calls),
  };
}
