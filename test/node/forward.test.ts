/**
 * ORIGIN_URL end to end: `wrangler dev` serving the Worker in front of a stand-in origin (a
 * node:http server on loopback). Paths the API does not own reach the origin unchanged —
 * method, query, headers, a large body streamed through (the origin sees its first bytes
 * before the client has sent the rest), redirects handed back — and the API's own paths never
 * reach it.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORWARDED_PATHS, REFUSED_SPELLINGS } from "../support/spellings";
import { type LocalWorker, startWorker } from "./support/local-worker";

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  sha256: string;
}

const seen: Seen[] = [];
let firstChunk: () => void = () => undefined;
let origin: Server;
let originUrl: string;
let worker: LocalWorker;
let stateDir: string;

beforeAll(async () => {
  origin = createServer((request, response) => {
    const hash = createHash("sha256");
    let bytes = 0;
    request.on("data", (chunk: Buffer) => {
      if (bytes === 0) firstChunk();
      bytes += chunk.length;
      hash.update(chunk);
    });
    request.on("end", () => {
      if (request.url === "/hang/") return; // never answers: the edge's ORIGIN_TIMEOUT must
      const entry = {
        method: request.method!,
        url: request.url!,
        headers: request.headers,
        bytes,
        sha256: hash.digest("hex"),
      };
      seen.push(entry);
      if (request.url === "/slow-body/") {
        // Headers at once, the rest after ORIGIN_TIMEOUT: the timeout is for starting to answer.
        response.writeHead(200, { "Content-Type": "text/plain" });
        response.write("first ");
        setTimeout(() => response.end("last"), 11_000).unref();
        return;
      }
      if (request.url === "/internal-redirect/") {
        response
          .writeHead(302, {
            Location: `${originUrl}/accounts/login/?next=/x`,
            Connection: "X-Internal",
            "X-Internal": "secret",
            "Proxy-Authenticate": "Basic",
          })
          .end();
        return;
      }
      if (request.url === "/old/") {
        response.writeHead(302, { Location: "/new/", "Content-Type": "text/html" }).end("moved");
        return;
      }
      response.writeHead(201, { "Content-Type": "application/json", "X-Origin": "django" }).end(JSON.stringify(entry));
    });
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  stateDir = mkdtempSync(join(tmpdir(), "forward-test-"));
  worker = await startWorker({
    persistTo: join(stateDir, "state"),
    stateDir,
    vars: {
      JWT_SECRET_KEY: "forward-test-secret-that-is-long-enough-0123",
      ORIGIN_URL: originUrl,
      // Short, so the hanging origin's test is bounded; long enough for the 12 MiB body's round trip.
      ORIGIN_TIMEOUT: "10",
    },
  });
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => origin?.close(resolve));
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("forwarding to ORIGIN_URL", () => {
  it("a path the API does not own reaches the origin with its method, query and headers", async () => {
    const response = await fetch(`${worker.url}/api/users/?page=2&q=a%20b&q=c`, {
      method: "PATCH",
      headers: {
        Authorization: "Bearer some-access-token",
        "Content-Type": "application/json",
        Cookie: "sessionid=abc",
      },
      body: JSON.stringify({ name: "x" }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("X-Origin")).toBe("django");
    const entry = (await response.json()) as Seen;
    expect(entry.method).toBe("PATCH");
    expect(entry.url).toBe("/api/users/?page=2&q=a%20b&q=c");
    expect(entry.headers.authorization).toBe("Bearer some-access-token");
    expect(entry.headers.cookie).toBe("sessionid=abc");
    expect(entry.headers["content-type"]).toBe("application/json");
    expect(entry.headers.host).toBe(new URL(originUrl).host);
    // The public name: wrangler dev presents requests under the first route's host, as production does.
    expect(entry.headers["x-forwarded-host"]).toMatch(/^(ps\.example\.org|127\.0\.0\.1:\d+)$/);
    expect(entry.bytes).toBe(JSON.stringify({ name: "x" }).length);
    // Its log line says where it went, and holds neither the query nor the credentials.
    const logged = worker
      .output()
      .split("\n")
      .filter((line) => line.includes('"outcome":"forwarded"'));
    expect(logged.some((line) => line.includes('"route":"(origin)"') && line.includes('"status":201'))).toBe(true);
    for (const line of logged) expect(line).not.toMatch(/some-access-token|sessionid|page=2/);
  });

  it("a large body streams through: the origin has bytes before the client has sent them all", async () => {
    const chunk = new Uint8Array(256 * 1024).map((_, i) => i % 251);
    const chunks = 48; // 12 MiB
    const expected = createHash("sha256");
    for (let i = 0; i < chunks; i += 1) expected.update(chunk);
    const originHasBytes = new Promise<void>((resolve) => (firstChunk = resolve));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // After the first quarter, hold the rest back until the origin has received something:
        // a Worker that buffered the whole body would never get there.
        if (sent === chunks / 4) {
          const guard = new Promise((_, reject) =>
            setTimeout(() => reject(new Error("the origin got nothing while the body was incomplete")), 30_000).unref(),
          );
          await Promise.race([originHasBytes, guard]);
        }
        if (sent === chunks) return controller.close();
        controller.enqueue(chunk);
        sent += 1;
      },
    });
    const response = await fetch(`${worker.url}/upload/?name=big.bin`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(201);
    const entry = (await response.json()) as Seen;
    expect(entry.url).toBe("/upload/?name=big.bin");
    expect(entry.bytes).toBe(chunk.length * chunks);
    expect(entry.sha256).toBe(expected.digest("hex"));
  });

  it("a body of known length arrives with its Content-Length, not chunked", async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024, 7);
    const response = await fetch(`${worker.url}/upload/`, { method: "PUT", body: payload });
    const entry = (await response.json()) as Seen;
    expect(entry.headers["content-length"]).toBe(String(payload.length));
    expect(entry.headers["transfer-encoding"]).toBeUndefined();
    expect(entry.bytes).toBe(payload.length);
  });

  it("a redirect is handed back to the client, not followed", async () => {
    const response = await fetch(`${worker.url}/old/`, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("/new/");
    expect(await response.text()).toBe("moved");
    expect(seen.some((entry) => entry.url === "/new/")).toBe(false);
  });

  it("the API's own paths never reach the origin", async () => {
    const before = seen.length;
    const refresh = await fetch(`${worker.url}/api/org_token/refresh/?x=1`, { method: "POST" });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toEqual({ refresh: ["This field is required."] });
    const logout = await fetch(`${worker.url}/api/token/blacklist`, { method: "GET" });
    expect(logout.status).toBe(405);
    const status = await fetch(`${worker.url}/api/membership_status/SomeOrg/`);
    expect(status.status).toBe(400);
    const login = await fetch(`${worker.url}/api/org_token/`, {
      method: "OPTIONS",
      headers: { Origin: "https://x.example", "Access-Control-Request-Method": "POST" },
    });
    expect(login.status).toBe(204);
    expect(seen.length).toBe(before);
  });

  it(`none of ${REFUSED_SPELLINGS.length} spellings of the API's paths reaches the origin; other paths arrive unchanged`, async () => {
    const before = seen.length;
    for (const spelling of REFUSED_SPELLINGS) {
      const response = await fetch(`${worker.url}${spelling}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh: "x", username: "u", password: "p", org_name: "o" }),
      });
      expect(response.status, spelling).toBe(404);
      expect(await response.json(), spelling).toEqual({
        detail: "The requested resource was not found on this server.",
      });
    }
    expect(seen.slice(before).map((entry) => entry.url)).toEqual([]);
    for (const path of FORWARDED_PATHS) {
      const response = await fetch(`${worker.url}${path}`);
      expect(response.status, path).toBe(201);
      expect(((await response.json()) as Seen).url, path).toBe(path);
    }
  });

  it("hop-by-hop headers stop at the edge both ways; the client's address claims do not reach the origin", async () => {
    const { status, headers, body } = await new Promise<{
      status: number;
      headers: IncomingHttpHeaders;
      body: string;
    }>((resolve, reject) => {
      const url = new URL(`${worker.url}/api/headers/`);
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: {
            Connection: "keep-alive, X-Hop",
            "X-Hop": "1",
            "Keep-Alive": "timeout=5",
            "Proxy-Authorization": "Basic abc",
            "X-Forwarded-For": "10.9.9.9",
            "True-Client-IP": "10.9.9.8",
            "X-Real-IP": "10.9.9.7",
            Forwarded: "for=10.9.9.6",
            "X-Forwarded-Host": "evil.example",
            "X-End-To-End": "kept",
          },
        },
        (response) => {
          let text = "";
          response.on("data", (chunk) => (text += chunk));
          response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body: text }));
        },
      );
      request.on("error", reject);
      request.end();
    });
    expect(status).toBe(201);
    const entry = JSON.parse(body) as Seen;
    // The runtime drops Connection itself before the Worker runs (so X-Hop, which it named,
    // cannot be recognised here; the workerd test covers a Connection the Worker does see).
    for (const name of ["connection", "keep-alive", "proxy-authorization", "true-client-ip", "forwarded"])
      expect(entry.headers[name], name).toBeUndefined();
    expect(entry.headers["x-end-to-end"]).toBe("kept");
    expect(entry.headers["x-forwarded-for"]).not.toMatch(/10\.9\.9/);
    expect(entry.headers["x-real-ip"]).not.toMatch(/10\.9\.9/);
    expect(entry.headers["x-forwarded-host"]).not.toBe("evil.example");
    expect(headers["x-origin"]).toBe("django");

    const redirect = await fetch(`${worker.url}/internal-redirect/`, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get("Location")!;
    expect(location.startsWith(originUrl)).toBe(false);
    expect(location).toMatch(/^http:\/\/[^/]+\/accounts\/login\/\?next=\/x$/);
    expect(redirect.headers.get("X-Internal")).toBeNull();
    expect(redirect.headers.get("Proxy-Authenticate")).toBeNull();
  });

  it("an origin that never answers is a JSON 504 after ORIGIN_TIMEOUT, not a held request", async () => {
    const started = Date.now();
    const response = await fetch(`${worker.url}/hang/`, { signal: AbortSignal.timeout(40_000) });
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ detail: "The origin server did not answer in time." });
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 45_000);

  it("a body still streaming after ORIGIN_TIMEOUT is not cut: the timeout ends at the origin's headers", async () => {
    const started = Date.now();
    const response = await fetch(`${worker.url}/slow-body/`, { signal: AbortSignal.timeout(40_000) });
    expect(response.status).toBe(200);
    const text = await response.text().catch((error: unknown) => {
      // A wrangler dev reload ends every streaming response: say so if one did (the harness
      // serves a snapshot of the project so that edits in the work tree cannot cause one).
      const reloaded = worker.output().includes("Reloading local server") ? " by a wrangler dev reload" : "";
      throw new Error(`the body was cut after ${Date.now() - started} ms${reloaded}`, { cause: error });
    });
    expect(text).toBe("first last");
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000); // it did outlast ORIGIN_TIMEOUT
  }, 45_000);

  it("an origin that does not answer is a 502, last because it stops the origin", async () => {
    await new Promise((resolve) => origin.close(resolve));
    const response = await fetch(`${worker.url}/api/users/`);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ detail: "The origin server could not be reached." });
  });
});
