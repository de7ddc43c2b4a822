/** The types every route and middleware shares: Hono's context environment for this app. */
import type { Clock } from "./clock";
import type { Config } from "./config";
import type { RequestNote } from "./log";
import type { PasswordWork } from "./passwords/work";
import type { Background, Stores } from "./storage";

/** Where forwarded requests go (ORIGIN_URL), and how long the origin has to start answering (ORIGIN_TIMEOUT). */
export interface OriginTarget {
  url: URL;
  timeoutMs: number;
}

export interface AppEnv {
  // The host's env, whatever its names: routes read only what the factory resolved from it.
  Bindings: object;
  /** requestNote: what the request log line says beyond status and time (src/log.ts). */
  /** background: work after the response (ExecutionContext.waitUntil, where the host has one). */
  /** route: the API route pattern the request's path belongs to, matched once; undefined: not the API's. */
  Variables: {
    config: Config;
    clock: Clock;
    stores: Stores;
    background: Background;
    requestNote: RequestNote;
    route: string | undefined;
    /** Outbound fetch (GitHub, for the GitHub login; the origin, for a login it checks): the runtime's, or a test's stand-in. */
    outbound: typeof fetch;
    /**
     * ORIGIN_URL and ORIGIN_TIMEOUT, read when first asked (a bad ORIGIN_URL is the 500 then,
     * never on a path that does not need the origin): undefined when unset.
     */
    origin: () => OriginTarget | undefined;
    /** The password login's hashing at PASSWORD_ITERATIONS (600000 by default), or a test's lower count (src/passwords/work.ts). */
    passwords: PasswordWork;
  };
}
