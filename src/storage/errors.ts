/**
 * Storage's own failure, in storage's words: which operation, and why (the cause). What a
 * caller answers for it (the API's 503 storage_unavailable, src/http/problem.ts) is the
 * caller's business: openauth's storage interface knows nothing of HTTP, and neither does this.
 */
import { log } from "../log";

/** A storage call that failed: D1 or KV unreachable, timed out or erroring. */
export class StorageUnavailable extends Error {
  override readonly name = "StorageUnavailable";
  constructor(
    /** The store's operation, as its log line names it (`members.standing`, `sync.apply`, …). */
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation} failed`, { cause });
  }
}

/** The failure, logged (`storage_error`, with its operation and cause) and made storage's error. */
export function unavailable(operation: string, error: unknown): StorageUnavailable {
  log("error", "storage_error", { operation, error: String(error) });
  return new StorageUnavailable(operation, error);
}
