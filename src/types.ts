/** The types every route and middleware shares: Hono's context environment for this app. */
import type { Clock } from "./clock";
import type { Config } from "./config";
import type { Env } from "./env";
import type { RequestNote } from "./log";
import type { Stores } from "./storage";

export interface AppEnv {
  Bindings: Env;
  /** requestNote: what the request log line says beyond status and time (src/log.ts). */
  Variables: { config: Config; clock: Clock; stores: Stores; requestNote: RequestNote };
}
