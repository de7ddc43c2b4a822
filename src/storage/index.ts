import type { Env } from "../env";
import type { LoginAttempts } from "./attempts";
import { D1LoginAttempts } from "./d1/attempts";
import { D1Members, type Members } from "./members";
import { D1KvProbe, type StorageProbe } from "./probe";
import { D1KvRevocations, type Background, type Revocations } from "./revocations";

export interface Stores {
  members: Members;
  revocations: Revocations;
  attempts: LoginAttempts;
  probe: StorageProbe;
}

/** The two bindings the stores need, whatever the host named them. */
export interface StorageBindings {
  db: D1Database;
  kv: KVNamespace;
}

export type StoresFactory = (env: Env, background: Background) => Stores;

/**
 * Per request: reads go through one D1 session, which may be served by a nearby read
 * replica; the consuming write goes to the primary, the only strongly consistent place.
 */
export function storesOver({ db, kv }: StorageBindings, background: Background): Stores {
  const session = db.withSession("first-unconstrained");
  return {
    members: new D1Members(session, db),
    revocations: new D1KvRevocations(db, session, kv, background),
    attempts: new D1LoginAttempts(db),
    probe: new D1KvProbe(db, kv),
  };
}

/** This repository's Worker: the stores over its own binding names. */
export const d1Stores: StoresFactory = (env, background) => storesOver({ db: env.DB, kv: env.BLACKLIST }, background);
