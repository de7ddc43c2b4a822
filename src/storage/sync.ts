/**
 * The origin sync's store (docs/sync.md, "Applying"): the interface the sync route applies a
 * delivery through (D1's is in ./d1/sync.ts). One call per delivery, all or nothing.
 */
import type { Delivery, Kind, SyncRecord } from "../sync/records";

export type Removed = Record<"user" | "organization" | "membership" | "social_account", number>;

export type SyncOutcome =
  | { kind: "duplicate" }
  | {
      kind: "applied";
      applied: number;
      stale: number;
      /** Users whose sessions this delivery ended, with their sessions_revoked_at (unix ms) after it: for the KV blacklist. */
      endedSessions: { id: number; revokedAtMs: number }[];
      /** At a full run's end: what was removed for not being seen by the run. */
      removed?: Removed;
    }
  /** A full run's page or end that is not the open run: nothing written. */
  | { kind: "not_open_run"; open: string | undefined }
  /** A run's end whose run saw fewer rows of a kind than it says it sent (a page lost): nothing removed. */
  | { kind: "incomplete_run"; rowKind: Kind; seen: number; sent: number }
  /** A membership or social account naming a row the edge lacks after the delivery: nothing written. */
  | { kind: "missing_reference"; record: SyncRecord | undefined }
  /** Two records of the delivery that would hold one unique value (a username, a name, a GitHub uid): nothing written. */
  | { kind: "conflict"; record: SyncRecord | undefined; detail: string };

export interface ApplyOptions {
  /** The delivery's webhook-id. */
  id: string;
  /** Unix ms, the edge's clock: sessions_revoked_at of ended sessions (at least), the delivery's record. */
  nowMs: number;
  revokeOnPasswordChange: boolean;
}

export interface SyncStore {
  apply(delivery: Delivery, options: ApplyOptions): Promise<SyncOutcome>;
}
