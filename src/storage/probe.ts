/** The health route's checks: is D1's primary answering, is KV answering. No user data is read. */
import { log } from "../log";

export interface StorageProbe {
  /** Which stores answered a trivial request; a failure's text stays in the log. */
  check(): Promise<{ d1: boolean; kv: boolean }>;
}

/**
 * A KV key the probe itself keeps written: a read that finds it has come back from KV's
 * storage with a value, not from a path that answers every absent key alike. Where it is
 * missing (the first check, or a day after the last write), the probe writes it before
 * answering: a failed write fails the check. At most one write per colo a day or so.
 */
export const PROBE_KEY = "health:probe";
const PROBE_TTL = 24 * 3600;

export class D1KvProbe implements StorageProbe {
  constructor(
    private readonly primary: D1Database,
    private readonly kv: KVNamespace,
  ) {}

  async check() {
    const [d1, kv] = await Promise.allSettled([this.primary.prepare("SELECT 1").run(), this.kvAnswers()]);
    // The cause goes to the log only; the route names the store and nothing more.
    if (d1.status === "rejected") log("error", "health_check_failed", { store: "d1", error: String(d1.reason) });
    if (kv.status === "rejected") log("error", "health_check_failed", { store: "kv", error: String(kv.reason) });
    return { d1: d1.status === "fulfilled", kv: kv.status === "fulfilled" };
  }

  private async kvAnswers(): Promise<void> {
    if ((await this.kv.get(PROBE_KEY)) !== null) return;
    await this.kv.put(PROBE_KEY, "ok", { expirationTtl: PROBE_TTL });
  }
}
