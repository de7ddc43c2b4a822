import type { Context } from "hono";
import { type Problem, ProblemError, render } from "../errors";
import { log } from "../log";
import { ConfigError } from "../settings";
import { StorageUnavailable } from "../storage/errors";

/** How long a client waits before retrying once storage failed (the 503's Retry-After, seconds). */
const STORAGE_RETRY_AFTER = 1;

/** The ConfigErrors already logged: the request log and the error handler both map one. */
const LOGGED = new WeakSet<ConfigError>();

/**
 * The contract's problem for an error thrown while answering, the one place errors become
 * answers: a ProblemError's own; storage's own failure (StorageUnavailable, already logged
 * as storage_error) the 503 storage_unavailable; a ConfigError (logged, naming the setting or
 * binding) the 500 misconfigured; anything else undefined (a bug: the 500).
 */
export function problemOf(error: unknown): Problem | undefined {
  if (error instanceof ProblemError) return error.problem;
  if (error instanceof StorageUnavailable) return { kind: "storage_unavailable", retryAfter: STORAGE_RETRY_AFTER };
  // A setting or binding found wrong: logged by name once (the request log asks too), the 500.
  if (error instanceof ConfigError) {
    if (!LOGGED.has(error)) log("error", "config_error", { message: error.message });
    LOGGED.add(error);
    return { kind: "misconfigured" };
  }
  return undefined;
}

/** A Problem as the contract's response: the API's error handler and requireOrgToken() answer with it. */
export function problemResponse(c: Context, problem: Problem): Response {
  const { status, body, headers } = render(problem);
  return c.json(body, status as 400, headers);
}
