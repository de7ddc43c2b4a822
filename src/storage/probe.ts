/** The health route's checks: is D1's primary answering, is KV answering. No data is read. */

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
    private readonly onFailure: (store: "d1" | "kv", error: unknown) => void,
  ) {}

  async check() {
    const [d1, kv] = await Promise.allSettled([this.primary.prepare("SELECT 1").run(), this.kv.get(PROBE_KEY)]);
    if (d1.status === "rejected") this.onFailure("d1", d1.reason);
    if (kv.status === "rejected") this.onFailure("kv", kv.reason);
    return { d1: d1.status === "fulfilled", kv: kv.status === "fulfilled" };
  }
}
