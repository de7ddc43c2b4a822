import type { Env as WorkerEnv } from "../../worker/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_SCHEMA: string[];
      /** PROPERTY_SEED from the environment of `npm test`, or "" for the default seed. */
      TEST_PROPERTY_SEED?: string;
    }
  }
}

declare global {
  namespace Cloudflare {
    // So `exports.default` from "cloudflare:workers" is typed as the Worker's own entry.
    interface GlobalProps {
      mainModule: typeof import("../../worker/index");
    }
  }
}
