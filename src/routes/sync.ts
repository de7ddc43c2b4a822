/** POST /api/org_token/sync/: the origin sync's receiver, docs/sync.md's answer table top to bottom. */
import type { Context } from "hono";
import { ConfigError } from "../config";
import { fail } from "../errors";
import { readBytes } from "../http/body";
import { endUserSessionsAtEdge } from "../http/session-ends";
import { log } from "../log";
import { type Delivery, parseDelivery, RecordError } from "../sync/records";
import { verifySignature } from "../sync/signature";
import type { AppEnv } from "../types";

/** A delivery's body: at most 500 records, well within this. */
export const MAX_SYNC_BODY_BYTES = 1024 * 1024;

function malformed(detail: string, record?: number) {
  return fail(record === undefined ? { kind: "sync_malformed", detail } : { kind: "sync_malformed", detail, record });
}

function parse(bytes: Uint8Array, contentType: string): Delivery {
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") throw fail({ kind: "unsupported_media_type", mediaType: contentType.trim() });
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw malformed("malformed JSON");
  }
  try {
    return parseDelivery(body);
  } catch (error) {
    if (error instanceof RecordError) throw malformed(error.detail, error.index);
    throw error;
  }
}

export async function sync(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  // 500: no (or a weak) SYNC_SECRET; only this route depends on it.
  if ("error" in config.sync) throw new ConfigError(config.sync.error); // logged and answered by http/problem.ts
  // 413: the raw bytes are what is signed.
  const bytes = await readBytes(c.req.raw, MAX_SYNC_BODY_BYTES);
  const nowMs = clock();
  const nowSeconds = Math.floor(nowMs / 1000);
  // 401: bad, missing or expired signature, before anything of the body is believed.
  const signature = await verifySignature(c.req.raw.headers, bytes, config.sync.keys, nowSeconds);
  if (!signature.ok)
    throw fail({ kind: signature.reason === "timestamp" ? "sync_stale_timestamp" : "sync_bad_signature" });
  // 415, 400: not JSON, malformed, unknown kind, bad field (the record named).
  const delivery = parse(bytes, c.req.header("Content-Type") ?? "");
  // 200 duplicate, 409 run or conflict, 400 reference (the record named), 503: the store's one batch.
  const outcome = await stores.sync.apply(delivery, {
    id: signature.id,
    nowMs,
    revokeOnPasswordChange: config.sync.revokeOnPasswordChange,
  });
  switch (outcome.kind) {
    case "duplicate":
      return c.json({ applied: 0, stale: 0, duplicate: true });
    case "not_open_run":
      throw fail({
        kind: "sync_conflict",
        detail: outcome.open === undefined ? "No full run is open" : "Not the open full run",
      });
    case "incomplete_run":
      throw fail({
        kind: "sync_conflict",
        detail: `The run saw ${outcome.seen} of the ${outcome.sent} ${outcome.rowKind} rows it sent; nothing removed`,
      });
    case "missing_reference":
      throw malformed("reference to a row the edge lacks", outcome.record?.index);
    case "conflict":
      throw fail(
        outcome.record === undefined
          ? { kind: "sync_conflict", detail: outcome.detail }
          : { kind: "sync_conflict", detail: outcome.detail, record: outcome.record.index },
      );
    case "applied": {
      // Security events: the users whose sessions this delivery ended, for the KV blacklist.
      endUserSessionsAtEdge(c, outcome.endedSessions);
      log("info", "sync_applied", {
        delivery: signature.id,
        applied: outcome.applied,
        stale: outcome.stale,
        ended_sessions: outcome.endedSessions.length,
        phase: delivery.full?.phase,
      });
      const body: Record<string, unknown> = { applied: outcome.applied, stale: outcome.stale, duplicate: false };
      if (outcome.removed !== undefined) body.removed = outcome.removed;
      return c.json(body);
    }
  }
}
