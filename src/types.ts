/** The types every route and middleware shares: Hono's context environment for this app. */
import type { Clock } from "./clock";
import type { Config } from "./config";
import type { Stores } from "./storage";

export interface AppEnv {
  // The host's env, whatever its names: routes read only what the factory resolved from it.
  Bindings: object;
  Variables: { config: Config; clock: Clock; stores: Stores };
}
