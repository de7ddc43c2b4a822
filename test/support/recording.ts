/**
 * Call recording over the real bindings: every D1 and KV call that goes to storage is
 * recorded with when it started and when it answered (in one order of events), so a test
 * can count the calls and the stages a request waits on in series.
 */
import type { Env } from "../../worker/env";

export interface RecordedCall {
  name: string; // "d1.batch", "session.first", "kv.get", ...
  start: number;
  end?: number;
  /** For a batch: how many statements it sends. */
  statements?: number;
}

export function recorder() {
  let tick = 0;
  const calls: RecordedCall[] = [];

  function wrap<T extends object>(target: T, prefix: string): T {
    return new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const result = value.apply(object, args);
          if (property === "withSession") {
            calls.push({ name: `${prefix}.withSession`, start: tick++, end: tick++ });
            return wrap(result, "session");
          }
          // Statements are built by prepare().bind(): keep watching what they return.
          if (property === "prepare" || property === "bind") return wrap(result, prefix);
          if (!(result instanceof Promise)) return result;
          const call: RecordedCall = { name: `${prefix}.${String(property)}`, start: tick++ };
          if (property === "batch") call.statements = (args[0] as unknown[]).length;
          calls.push(call);
          return result.then(
            (answer: unknown) => {
              call.end = tick++;
              return answer;
            },
            (error: unknown) => {
              call.end = tick++;
              throw error;
            },
          );
        };
      },
    });
  }

  return {
    calls,
    /** The env with its D1 and KV bindings recorded. */
    env: (env: Env): Env => ({ ...env, DB: wrap(env.DB, "d1"), BLACKLIST: wrap(env.BLACKLIST, "kv") }),
    names: () => calls.filter((c) => !c.name.endsWith(".withSession")).map((c) => c.name),
    /** The longest chain of calls each started after the previous one answered: the serial stages. */
    stages(): number {
      const timed = calls.filter((c) => !c.name.endsWith(".withSession")).sort((a, b) => a.start - b.start);
      const depth: number[] = [];
      timed.forEach((call, i) => {
        depth[i] = 1 + Math.max(0, ...timed.slice(0, i).map((before, j) => (before.end! < call.start ? depth[j]! : 0)));
      });
      return Math.max(0, ...depth);
    },
    reset() {
      calls.length = 0;
    },
  };
}
