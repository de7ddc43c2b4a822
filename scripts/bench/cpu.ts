/**
 * CPU per refresh in this Node process, without storage: the real app (body parsing,
 * verification, signing, the route's decisions, JSON) over in-memory stores that answer at
 * once. What is left is the Worker's own work, the part no storage tier can take away.
 */
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type Env, workerConfigInput } from "../../src/env";
import type { Stores } from "../../src/storage";
import type { Members } from "../../src/storage/members";
import type { Revocations, Verdict } from "../../src/storage/revocations";
import { issueLoginPair } from "../../src/tokens/issue";

function memoryStores(): Stores {
  const ledger = new Map<string, number>();
  const members: Members = {
    standing: async () => ({ kind: "active_member" }),
    credentials: async () => undefined,
    setPasswordHash: async () => undefined,
  };
  const decide = async (jti: string, usedAtMs: number): Promise<Verdict> => {
    const used = ledger.get(jti);
    if (used !== undefined) {
      return {
        won: false,
        revocation: { kind: "rotated", usedAtMs: used },
        revokedFamily: false,
        standing: { kind: "active_member" },
      };
    }
    ledger.set(jti, usedAtMs);
    return { won: true, revocation: undefined, revokedFamily: false, standing: { kind: "active_member" } };
  };
  const revocations: Revocations = {
    redeem: (token, attempt) => decide(token.jti, attempt.usedAtMs),
    logout: (token, attempt) => decide(token.jti, attempt.usedAtMs),
    purgeExpired: async () => ({ tokens: 0, families: 0 }),
  };
  return {
    members,
    revocations,
    attempts: {
      take: async () => [],
      refund: async () => undefined,
      reset: async () => undefined,
      purge: async () => 0,
    },
    probe: { check: async () => ({ d1: true, kv: true }) },
  };
}

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

export interface CpuResult {
  refreshes: number;
  cpuMs: number; // per refresh: user + system, all threads
  wallMs: number; // per refresh
}

export async function cpuPerRefresh(refreshes: number): Promise<CpuResult> {
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
  const warmUp = 1000;
  const tokens = await Promise.all(
    Array.from({ length: refreshes + warmUp }, async () => (await issueLoginPair(config, subject, Date.now())).refresh),
  );
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
  for (const token of tokens.slice(refreshes)) await refresh(token);
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (const token of tokens.slice(0, refreshes)) await refresh(token);
  const used = process.cpuUsage(cpu);
  return {
    refreshes,
    cpuMs: (used.user + used.system) / 1000 / refreshes,
    wallMs: (performance.now() - wall) / refreshes,
  };
}
