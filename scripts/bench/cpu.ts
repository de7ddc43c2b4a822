/**
 * CPU per refresh in this Node process, without storage: the real app (body parsing,
 * verification, signing, the route's decisions, JSON) over in-memory stores that answer at
 * once. What is left is the Worker's own work, the part no storage tier can take away.
 */
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type Env, workerConfigInput } from "../../src/env";
import { issueLoginPair } from "../../src/tokens/issue";
import { memoryStores } from "./memory";

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

export interface CpuResult {
  refreshes: number; // per round
  /** CPU per refresh, one figure a round: user + system, all threads, ms. */
  roundsMs: number[];
  /** The median round. */
  cpuMs: number;
}

/**
 * `rounds` rounds of `refreshes` refreshes, in one app as a long-lived isolate runs it:
 * every token minted first, then a warm-up (JIT, and the minting's garbage collected),
 * then the rounds. Each round's figure is its CPU over its refreshes; the median round
 * is the result (a shared machine disturbs single rounds).
 */
export async function cpuPerRefresh(refreshes: number, rounds = 9): Promise<CpuResult> {
  // The stores answer from memory; these stand-ins only pass the factory's binding check.
  const unused = () => {
    throw new Error("the in-process bench never reaches a binding");
  };
  const env = {
    JWT_SECRET_KEY: "bench-secret-that-is-long-enough-0123456789",
    DB: { prepare: unused } as unknown as D1Database,
    BLACKLIST: { get: unused } as unknown as KVNamespace,
  } as Env;
  const stores = memoryStores();
  const app = createApp({ stores: () => stores });
  const config = await loadConfig(workerConfigInput(env));
  const subject = { userId: 1, userName: "bench", orgName: "BenchOrg" };
  const warmUp = 3000;
  const tokens: string[] = [];
  for (let i = 0; i < refreshes * rounds + warmUp; i++) {
    tokens.push((await issueLoginPair(config, subject, Date.now())).refresh);
  }
  const refresh = async (token: string) => {
    const response = await app.fetch(
      new Request("http://bench.local/api/org_token/refresh/", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh: token }),
      }),
      env,
      ctx,
    );
    if (response.status !== 200) throw new Error(`in-process refresh answered ${response.status}`);
    await response.arrayBuffer();
  };
  // The request log line is built as deployed, then kept here instead of written to this
  // process's stdout: a terminal's or pipe's writes are Node's cost, not the Worker's (a
  // Worker's console goes to an in-memory trace). It must be there, once per refresh.
  let lines = 0;
  const info = console.info;
  console.info = (line: string) => {
    if (line.includes('"event":"request"')) lines++;
  };
  const roundsMs: number[] = [];
  try {
    let next = 0;
    while (next < warmUp) await refresh(tokens[next++]!);
    for (let round = 0; round < rounds; round++) {
      const cpu = process.cpuUsage();
      for (let i = 0; i < refreshes; i++) await refresh(tokens[next++]!);
      const used = process.cpuUsage(cpu);
      roundsMs.push((used.user + used.system) / 1000 / refreshes);
    }
  } finally {
    console.info = info;
  }
  if (lines !== tokens.length) throw new Error(`${lines} request log lines, expected one a refresh`);
  const sorted = [...roundsMs].sort((a, b) => a - b);
  return { refreshes, roundsMs, cpuMs: sorted[Math.floor(sorted.length / 2)]! };
}
