/**
 * CPU per refresh in this Node process, without storage: the real app (body parsing,
 * verification, signing, the route's decisions, JSON) over in-memory stores that answer at
 * once. What is left is the Worker's own work, the part no storage tier can take away.
 *
 * Each round is followed by one of the bare Hono app of ./worker-bare.ts answering the same
 * requests: its CPU moves with the machine (a shared VM runs faster and slower by the
 * minute), so the ratio of the two is the figure that holds from run to run.
 *
 * Each round also times simplejwt's refresh (./simplejwt.ts: rotating and spending), the same
 * app with that view configured, between the two: its CPU and its ratio to the bare request.
 * And the org-token refresh under each asymmetric ALGORITHM of ASYMMETRIC (SIGNING_KEY a key
 * made for the run): fewer refreshes a round, as each signs twice with the private key.
 */

import { loadConfig } from "../../src/config";
import { issueLoginPair } from "../../src/tokens/issue";
import { createApp } from "../../worker/app";
import { type Env, workerConfigInput } from "../../worker/env";
import { memoryStores } from "./memory";
import { mintSimpleJwtRefresh, SJ_REFRESH, SJ_VARS } from "./simplejwt";
import bare from "./worker-bare";

/** The asymmetric algorithms measured beside HS256, each with a key Web Crypto makes for the run. */
export const ASYMMETRIC = [
  {
    algorithm: "RS256",
    params: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
  },
  { algorithm: "ES256", params: { name: "ECDSA", namedCurve: "P-256" } },
] as const;

/** A new private key of the algorithm, as the PKCS#8 PEM SIGNING_KEY takes. */
async function signingKeyPem(params: (typeof ASYMMETRIC)[number]["params"]): Promise<string> {
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", pair.privateKey)).toString("base64");
  return `-----BEGIN PRIVATE KEY-----\n${der.replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`;
}

export interface AlgorithmCpu {
  algorithm: string;
  refreshes: number;
  roundsMs: number[];
  ms: number;
  /** Its CPU per refresh over the bare request's in the same round, the median. */
  ratio: number;
}

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

export interface CpuResult {
  refreshes: number; // per round
  /** CPU per refresh, one figure a round: user + system, all threads, ms. */
  roundsMs: number[];
  /** The median round. */
  cpuMs: number;
  /** The bare app's CPU per request in the round after each, ms; and its median. */
  bareRoundsMs: number[];
  bareMs: number;
  /** The median of the rounds' ratios: refresh CPU over the bare request's. */
  ratio: number;
  /** The same for simplejwt's refresh: CPU per refresh in each round, its median, its ratio to the bare request. */
  simplejwtRoundsMs: number[];
  simplejwtMs: number;
  simplejwtRatio: number;
  /** The org-token refresh under each asymmetric ALGORITHM, in the same rounds. */
  asymmetric: AlgorithmCpu[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

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
  // Another env object: the app reads its settings once per env object.
  const sjEnv: Env = { ...env, ...SJ_VARS };
  const stores = memoryStores();
  const app = createApp({ stores: () => stores });
  const config = await loadConfig(workerConfigInput(env));
  const sjConfig = await loadConfig(workerConfigInput(sjEnv));
  const subject = { userId: 1, userName: "bench", orgName: "BenchOrg" };
  const warmUp = 3000;
  const tokens: string[] = [];
  for (let i = 0; i < refreshes * rounds + warmUp; i++) {
    tokens.push((await issueLoginPair(config, subject, Date.now())).refresh);
  }
  const sjTokens: string[] = [];
  for (let i = 0; i < refreshes * rounds + warmUp; i++) sjTokens.push(await mintSimpleJwtRefresh(sjConfig));
  const asymmetricRefreshes = Math.max(50, Math.round(refreshes / 10));
  const asymmetric = await Promise.all(
    ASYMMETRIC.map(async ({ algorithm, params }) => {
      const keyEnv: Env = { ...env, ALGORITHM: algorithm, SIGNING_KEY: await signingKeyPem(params) };
      const keyConfig = await loadConfig(workerConfigInput(keyEnv));
      const list: string[] = [];
      for (let i = 0; i < asymmetricRefreshes * (rounds + 1); i++) {
        list.push((await issueLoginPair(keyConfig, subject, Date.now())).refresh);
      }
      return { algorithm, env: keyEnv, tokens: list, roundsMs: [] as number[] };
    }),
  );
  const request = (token: string, path = "/api/org_token/refresh/") =>
    new Request(`http://bench.local${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh: token }),
    });
  const refresh = async (token: string) => {
    const response = await app.fetch(request(token), env, ctx);
    if (response.status !== 200) throw new Error(`in-process refresh answered ${response.status}`);
    await response.arrayBuffer();
  };
  const keyRefresh = (keyEnv: Env) => async (token: string) => {
    const response = await app.fetch(request(token), keyEnv, ctx);
    if (response.status !== 200) throw new Error(`in-process ${keyEnv.ALGORITHM} refresh answered ${response.status}`);
    await response.arrayBuffer();
  };
  const sjRefresh = async (token: string) => {
    const response = await app.fetch(request(token, SJ_REFRESH), sjEnv, ctx);
    if (response.status !== 200) throw new Error(`in-process simplejwt refresh answered ${response.status}`);
    await response.arrayBuffer();
  };
  const bareRequest = async (token: string) => {
    const response = await bare.fetch(request(token), env, ctx);
    if (response.status !== 200) throw new Error(`the bare app answered ${response.status}`);
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
  const bareRoundsMs: number[] = [];
  const sjRoundsMs: number[] = [];
  const cpuOf = async (work: (token: string) => Promise<void>, from: number, list = tokens, count = refreshes) => {
    const cpu = process.cpuUsage();
    for (let i = 0; i < count; i++) await work(list[from + i]!);
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / count;
  };
  try {
    let next = 0;
    for (let i = 0; i < warmUp; i++) await sjRefresh(sjTokens[i]!);
    while (next < warmUp) await refresh(tokens[next++]!);
    for (let i = 0; i < warmUp; i++) await bareRequest(tokens[i]!);
    for (const keys of asymmetric) await cpuOf(keyRefresh(keys.env), 0, keys.tokens, asymmetricRefreshes);
    for (let round = 0; round < rounds; round++) {
      roundsMs.push(await cpuOf(refresh, next));
      sjRoundsMs.push(await cpuOf(sjRefresh, next, sjTokens));
      for (const keys of asymmetric) {
        const from = (round + 1) * asymmetricRefreshes;
        keys.roundsMs.push(await cpuOf(keyRefresh(keys.env), from, keys.tokens, asymmetricRefreshes));
      }
      bareRoundsMs.push(await cpuOf(bareRequest, next));
      next += refreshes;
    }
  } finally {
    console.info = info;
  }
  const keyTokens = asymmetric.reduce((sum, keys) => sum + keys.tokens.length, 0);
  if (lines !== tokens.length + sjTokens.length + keyTokens)
    throw new Error(`${lines} request log lines, expected one a refresh`);
  return {
    refreshes,
    roundsMs,
    cpuMs: median(roundsMs),
    bareRoundsMs,
    bareMs: median(bareRoundsMs),
    ratio: median(roundsMs.map((ms, i) => ms / bareRoundsMs[i]!)),
    simplejwtRoundsMs: sjRoundsMs,
    simplejwtMs: median(sjRoundsMs),
    simplejwtRatio: median(sjRoundsMs.map((ms, i) => ms / bareRoundsMs[i]!)),
    asymmetric: asymmetric.map((keys) => ({
      algorithm: keys.algorithm,
      refreshes: asymmetricRefreshes,
      roundsMs: keys.roundsMs,
      ms: median(keys.roundsMs),
      ratio: median(keys.roundsMs.map((ms, i) => ms / bareRoundsMs[i]!)),
    })),
  };
}
