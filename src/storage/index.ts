import type { Env } from "../env";
import type { LoginAttempts } from "./attempts";
import { D1LoginAttempts } from "./d1/attempts";
import { D1Members, type Members } from "./members";
import { D1KvRevocations, type Background, type Revocations } from "./revocations";

export interface Stores {
  members: Members;
  revocations: Revocations;
  attempts: LoginAttempts;
}

export type StoresFactory = (env: Env, background: Background) => Stores;

/**
 * Per request: reads go through one D1 session, which may be served by a nearby read
 * replica; the consuming write goes to the primary, the only strongly consistent place.
 */
export const d1Stores: StoresFactory = (env, background) => {
  const session = env.DB.withSession("first-unconstrained");
  return {
    members: new D1Members(session, env.DB),
    revocations: new D1KvRevocations(env.DB, session, env.BLACKLIST, background),
    attempts: new D1LoginAttempts(env.DB),
  };
};
