/**
 * Fault injection over the real bindings: a named storage step throws as an unreachable
 * D1 or KV would, every other call goes through to Miniflare's real D1 and KV.
 */

import type { StoresFactory } from "../../src/storage";
import { D1LoginAttempts } from "../../src/storage/d1/attempts";
import { D1Members } from "../../src/storage/d1/members";
import { D1Revocations } from "../../src/storage/d1/revocations";
import { D1SyncStore } from "../../src/storage/d1/sync";
import { D1KvProbe } from "../../src/storage/probe";

/** A step fails before it runs; with "+committed", its first call fails after it ran (a lost answer). */
export type Step = "kv.get" | "kv.put" | "replica.read" | "primary.batch" | "primary.run" | "primary.batch+committed";

function failing<T extends object>(target: T, prefix: string, broken: Set<string>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const name = `${prefix}.${String(property)}`;
        if (broken.has(name)) return Promise.reject(new Error(`injected failure: ${name}`));
        const result = value.apply(object, args);
        if (broken.has(`${name}+committed`)) {
          broken.delete(`${name}+committed`); // the connection is back for the next call
          return Promise.resolve(result).then(() =>
            Promise.reject(new Error(`injected failure after commit: ${name}`)),
          );
        }
        // Statements are built by prepare().bind(): keep watching what they return.
        if (property === "prepare" || property === "bind") return failing(result, prefix, broken);
        return result;
      };
    },
  });
}

/** Stores over the real bindings where the given steps fail. */
export function faultyStores(...steps: Step[]): StoresFactory {
  const broken = new Set<string>(
    steps.flatMap((step) => (step === "replica.read" ? ["replica.first", "replica.all", "replica.run"] : [step])),
  );
  return (env) => {
    const primary = failing(env.DB, "primary", broken);
    const replica = failing(env.DB.withSession("first-unconstrained"), "replica", broken);
    const kv = failing(env.BLACKLIST, "kv", broken);
    return {
      members: new D1Members(() => replica, primary),
      revocations: new D1Revocations(primary),
      attempts: new D1LoginAttempts(primary),
      probe: new D1KvProbe(primary, kv),
      sync: new D1SyncStore(primary),
    };
  };
}
