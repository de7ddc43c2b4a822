import type { Env } from "../env";
import { KvLoginAttempts, type LoginAttempts } from "./attempts";
import { D1Members } from "./d1/members";
import { D1Revocations } from "./d1/revocations";
import type { Members } from "./members";
import type { Revocations } from "./revocations";

export interface Stores {
  members: Members;
  revocations: Revocations;
  attempts: LoginAttempts;
}

/** Where work that must not delay or fail the response goes (ExecutionContext.waitUntil). */
export type Background = (work: Promise<unknown>) => void;

export type StoresFactory = (env: Env, background: Background) => Stores;

/**
 * Per request. Refresh and logout decide on the primary, the only strongly consistent
 * place, in one batch. Login and membership status read through a D1 session, which may be
 * served by a nearby read replica; it is opened on the first such read, never otherwise.
 */
export const d1Stores: StoresFactory = (env) => {
  let session: D1DatabaseSession | undefined;
  const replica = () => (session ??= env.DB.withSession("first-unconstrained"));
  return {
    members: new D1Members(replica, env.DB),
    revocations: new D1Revocations(env.DB),
    attempts: new KvLoginAttempts(env.BLACKLIST),
  };
};
