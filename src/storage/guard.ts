import { unavailable } from "./errors";

/** Run a storage call; any failure of D1 or KV is logged and thrown as StorageUnavailable, its cause kept. */
export async function guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw unavailable(operation, error);
  }
}
