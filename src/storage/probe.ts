/** The health route's checks: is D1's primary answering, is KV answering. No data is read. */
import { log } from "../log";

export interface StorageProbe {
  /** Which stores answered a trivial request; a failure's text stays in the log. */
  check(): Promise<{ d1: boolean; kv: boolean }>;
}

/** A KV key nothing writes: reading it costs one get and returns nothing. */
const PROBE_KEY = "health:probe";

export class D1KvProbe implements StorageProbe {
  constructor(
    private readonly primary: D1Database,
    private readonly kv: KVNamespace,
  ) {}

  async check() {
    const [d1, kv] = await Promise.allSettled([this.primary.prepare("SELECT 1").run(), this.kv.get(PROBE_KEY)]);
    // The cause goes to the log only; the route names the store and nothing more.
    if (d1.status === "rejected") log("error", "health_check_failed", { store: "d1", error: String(d1.reason) });
    if (kv.status === "rejected") log("error", "health_check_failed", { store: "kv", error: String(kv.reason) });
    return { d1: d1.status === "fulfilled", kv: kv.status === "fulfilled" };
  }
}
