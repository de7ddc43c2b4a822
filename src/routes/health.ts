/**
 * GET /api/org_token/health/: can the Worker reach D1 and KV? 200 {"status": "ok"}, or 503
 * naming the failed checks, never their error text. Under the token API's own prefix, which
 * the Worker's route already owns and the origin serves nothing else under, so it cannot
 * shadow one of the origin's paths.
 */
import type { Context } from "hono";
import { fail } from "../errors";
import { noteRequest } from "../log";
import type { AppEnv } from "../types";

export const HEALTH_PATH = "/api/org_token/health/";

export async function health(c: Context<AppEnv>) {
  const result = await c.var.stores.probe.check();
  const failed = (["d1", "kv"] as const).filter((store) => !result[store]);
  if (failed.length > 0) throw fail({ kind: "unhealthy", failed });
  noteRequest(c, { outcome: "healthy" });
  return c.json({ status: "ok" }, 200, { "Cache-Control": "no-store" });
}
