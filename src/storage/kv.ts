/** KV writes as every store here makes them: a TTL KV accepts, and a failure that is only logged. */

const MIN_TTL = 60; // seconds: KV refuses a shorter expirationTtl
// KV takes a 32-bit TTL; D1 holds the truth wherever a KV copy may lapse first.
const MAX_TTL = 366 * 24 * 3600;

/** Seconds to keep an entry, clamped to what KV accepts. */
function kvTtl(seconds: number): number {
  return Math.min(MAX_TTL, Math.max(MIN_TTL, Math.ceil(seconds)));
}

/** A write whose loss costs speed or precision, never correctness: it must not fail a request. */
export function putQuietly(kv: KVNamespace, key: string, value: string, ttlSeconds: number): Promise<void> {
  return kv.put(key, value, { expirationTtl: kvTtl(ttlSeconds) }).catch((error: unknown) => {
    console.error(JSON.stringify({ event: "kv_put_failed", key: key.split(":")[0], error: String(error) }));
  });
}
