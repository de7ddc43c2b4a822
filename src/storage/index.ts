import type { Env } from "../env";
import type { LoginAttempts } from "./attempts";
import { D1LoginAttempts } from "./d1/attempts";
import { D1Members } from "./d1/members";
import { D1Revocations } from "./d1/revocations";
import { D1SyncStore } from "./d1/sync";
import type { Members } from "./members";
import { D1KvProbe, type StorageProbe } from "./probe";
import type { Revocations } from "./revocations";
import type { SyncStore } from "./sync";

export interface Stores {
  members: Members;
  revocations: Revocations;
  attempts: LoginAttempts;
  probe: StorageProbe;
  sync: SyncStore;
}

/** The two bindings the stores need, whatever the host named them. */
export interface StorageBindings {
  db: D1Database;
  kv: KVNamespace;
}

/** Where work that must not delay or fail the response goes (ExecutionContext.waitUntil). */
export type Background = (work: Promise<unknown>) => void;

export type StoresFactory = (env: Env, background: Background) => Stores;

/**
 * Per request. Refresh and logout decide on the primary, the only strongly consistent
 * place, in one batch. Login and membership status read through a D1 session, which may be
 * served by a nearby read replica; it is opened on the first such read, never otherwise.
 */
export function storesOver({ db, kv }: StorageBindings): Stores {
  let session: D1DatabaseSession | undefined;
  const replica = () => (session ??= db.withSession("first-unconstrained"));
  return {
    members: new D1Members(replica, db),
    revocations: new D1Revocations(db),
    attempts: new D1LoginAttempts(db),
    probe: new D1KvProbe(db, kv),
    sync: new D1SyncStore(db),
  };
}

/** This repository's Worker: the stores over its own binding names. */
export const d1Stores: StoresFactory = (env) => storesOver({ db: env.DB, kv: env.BLACKLIST });
