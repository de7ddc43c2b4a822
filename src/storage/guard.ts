import { storageUnavailable } from "../errors";
import { log } from "../log";

/** Run a storage call; any failure of D1 or KV becomes the contract's 503, with its cause kept. */
export async function guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    log("error", "storage_error", { operation, error: String(error) });
    throw storageUnavailable(error);
  }
}
