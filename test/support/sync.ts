/** Test helpers for the origin sync: signed deliveries as the origin sends them (docs/sync.md). */

import { secretBytes, sign, signingKey } from "../../src/sync/signature";
import type { Env } from "../../worker/env";
import { type App, call } from "./harness";

export const SYNC = "/api/org_token/sync/";
export const SYNC_SECRET = "sync-secret-that-is-long-enough-0123456789";
export const SYNC_ENV: Partial<Env> = { SYNC_SECRET };

let deliveries = 0;
export function deliveryId(): string {
  deliveries += 1;
  return `msg_${deliveries}_${Math.random().toString(36).slice(2, 10)}`;
}

export interface DeliverOptions {
  id?: string;
  /** Unix seconds; default the clock's now. */
  timestamp?: number;
  /** Each secret adds one v1 signature. */
  secrets?: string[];
  signature?: string | null;
  env?: Partial<Env>;
  contentType?: string;
  raw?: string | Uint8Array;
}

export async function signatureOf(secret: string, id: string, timestamp: number, body: Uint8Array) {
  return sign(await signingKey(secretBytes(secret)), id, timestamp, body);
}

/** One delivery, signed; `nowMs` is the app's clock (the timestamp's default). */
export async function deliver(worker: App, nowMs: number, body: unknown, options: DeliverOptions = {}) {
  const id = options.id ?? deliveryId();
  const timestamp = options.timestamp ?? Math.floor(nowMs / 1000);
  const raw = options.raw ?? JSON.stringify(body);
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  const headers: Record<string, string> = {
    "Content-Type": options.contentType ?? "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
  };
  if (options.signature !== null) {
    headers["webhook-signature"] =
      options.signature ??
      (await Promise.all((options.secrets ?? [SYNC_SECRET]).map((s) => signatureOf(s, id, timestamp, bytes)))).join(
        " ",
      );
  }
  return call(worker, SYNC, { method: "POST", headers, body: bytes }, { ...SYNC_ENV, ...options.env });
}

let versions = 1_000;
/** A version greater than every one before it in the file. */
export function nextVersion(): number {
  versions += 1;
  return versions;
}

export const userRecord = <K extends number | string>(
  /** The origin's primary key: an integer, or a UUID (a user model keyed by one). */
  key: K,
  fields: {
    username: string;
    password?: string | null;
    is_active?: boolean;
    simplejwt_id?: string | null;
    claims?: Record<string, unknown> | null;
  },
  extra: { version?: number; password_changed?: boolean } = {},
) => ({
  kind: "user",
  key,
  version: extra.version ?? nextVersion(),
  fields: { password: null, is_active: true, ...fields },
  password_changed: extra.password_changed ?? false,
});

export const orgRecord = (key: string, name: string, version = nextVersion()) => ({
  kind: "organization",
  key,
  version,
  fields: { name },
});

export const membershipRecord = (
  key: string,
  fields: { user: number | null; org: string | null; active: boolean },
  version = nextVersion(),
) => ({ kind: "membership", key, version, fields });

export const deleted = (kind: string, key: number | string, version = nextVersion()) => ({
  kind,
  key,
  version,
  deleted: true,
});
