/**
 * Forwarding, inside workerd: the request built for the origin, which paths are the API's,
 * and what the app does without ORIGIN_URL, with a bad one, and with a loop. The round trip
 * through a real origin server (streamed bodies, redirects) is test/node/forward.test.ts.
 */

import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { buildApi } from "../../src/app";
import { forwardedRequest, isForwardingLoop, returnedResponse, VIA } from "../../src/http/forward";
import { loadOriginTimeout } from "../../src/http/origin-settings";
import { normalizePath, ownedPrefixes, pathOwner, routeMatcher } from "../../src/http/route-match";
import { ROUTES } from "../../src/routes/table";
import { workerApiOptions } from "../../worker/env";
import { app, call, env } from "../support/harness";
import { FORWARDED_PATHS, REFUSED_SPELLINGS } from "../support/spellings";

const ORIGIN = new URL("https://origin.example.org");
const NOT_FOUND = { detail: "The requested resource was not found on this server." };

describe("the request sent to the origin", () => {
  it("keeps method, path, query, headers and the body stream; Host is the origin's", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("a=1&b=2"));
        controller.close();
      },
    });
    const incoming = new Request("https://ps.example.org/api/other/thing/?x=1&y=%20z#frag", {
      method: "PUT",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: "Bearer abc",
        Cookie: "sessionid=s",
      },
      body,
      // @ts-expect-error: workerd's RequestInit takes duplex for streamed bodies
      duplex: "half",
    });
    const out = forwardedRequest(incoming, ORIGIN);
    expect(out.url).toBe("https://origin.example.org/api/other/thing/?x=1&y=%20z");
    expect(out.method).toBe("PUT");
    expect(out.redirect).toBe("manual");
    expect(out.headers.get("Authorization")).toBe("Bearer abc");
    expect(out.headers.get("Cookie")).toBe("sessionid=s");
    expect(out.headers.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(out.headers.get("Host")).toBeNull();
    expect(out.headers.get("X-Forwarded-Host")).toBe("ps.example.org");
    expect(out.headers.get("X-Forwarded-Proto")).toBe("https");
    expect(out.headers.get("Via")).toBe(VIA);
    expect(await out.text()).toBe("a=1&b=2");
  });

  it("a path that looks like another host stays a path on the origin", () => {
    const out = forwardedRequest(new Request("https://ps.example.org//evil.example/x?q"), ORIGIN);
    expect(new URL(out.url).host).toBe("origin.example.org");
    expect(new URL(out.url).pathname).toBe("//evil.example/x");
  });

  it("a request that already went through the forwarding is a loop", () => {
    expect(isForwardingLoop(new Request("https://a/", { headers: { Via: `1.1 proxy, ${VIA}` } }))).toBe(true);
    expect(isForwardingLoop(new Request("https://a/", { headers: { Via: "1.1 proxy" } }))).toBe(false);
  });
});

describe("the API's own paths", () => {
  const route = routeMatcher([...ROUTES.map((r) => r.path), "/api/schema/"]);
  const owns = (path: string) => route(path) !== undefined;

  it("every route path, with and without its trailing slash, is the API's", () => {
    for (const path of [
      "/api/org_token/",
      "/api/org_token",
      "/api/org_token/refresh/",
      "/api/org_token/refresh",
      "/api/token/blacklist/",
      "/api/token/blacklist",
      "/api/membership_status/SomeOrg/",
      "/api/membership_status/Some%20Org",
      "/api/schema/",
      "/api/org_t%6Fken/", // the router decodes escapes, so this is the login path too
    ]) {
      expect(owns(path), path).toBe(true);
    }
  });

  it("neighbours the route patterns also cover are not", () => {
    for (const path of [
      "/",
      "/api/",
      "/api/org_tokens/",
      "/api/org_token/refresh/extra/",
      "/api/token/",
      "/api/token/blacklist/x/",
      "/api/membership_status/",
      "/api/membership_status/a/b/",
    ]) {
      expect(owns(path), path).toBe(false);
    }
  });
});

describe("the app", () => {
  it("without ORIGIN_URL, a path the API does not own is the contract's 404", async () => {
    const response = await call(app(), "/api/users/?page=2", {}, { ORIGIN_URL: "" });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(NOT_FOUND);
  });

  it("a bad ORIGIN_URL is a 500 naming the variable", async () => {
    for (const value of ["not a url", "ftp://origin.example.org", "https://origin.example.org/prefix"]) {
      const response = await call(app(), "/anything", {}, { ORIGIN_URL: value });
      expect(response.status).toBe(500);
    }
  });

  it("a bad ORIGIN_URL does not take the API's own paths down: they never ask for the origin", async () => {
    const response = await call(app(), "/api/org_token/refresh/", { method: "POST" }, { ORIGIN_URL: "not a url" });
    expect(response.status).toBe(400);
  });

  it("a request that comes back through the forwarding is refused, not forwarded again", async () => {
    const response = await call(app(), "/api/users/", { headers: { Via: VIA } }, { ORIGIN_URL: "http://127.0.0.1:9" });
    expect(response.status).toBe(508);
    expect(await response.json()).toEqual({ detail: "ORIGIN_URL leads back to this service." });
  });

  it("with ORIGIN_URL, the API's own paths are still answered here", async () => {
    // Nothing listens on port 9: a request forwarded there would be a 502, never these.
    const env = { ORIGIN_URL: "http://127.0.0.1:9" };
    const refresh = await call(app(), "/api/org_token/refresh/", { method: "POST" }, env);
    expect(refresh.status).toBe(400);
    const wrongMethod = await call(app(), "/api/token/blacklist", { method: "GET" }, env);
    expect(wrongMethod.status).toBe(405);
    const status = await call(app(), "/api/membership_status/Org/", {}, env);
    expect(await status.json()).toMatchObject({ status: "FAILED" });
  });
});

const API_PATHS = [...ROUTES.map((r) => r.path), "/api/schema/"];

describe("spellings of the API's paths", () => {
  const owner = pathOwner(API_PATHS);

  it("the normalized path decodes until stable, maps \\ to /, merges slashes and resolves dot segments", () => {
    expect(normalizePath("/api/org_token%25252Frefresh%2F")).toBe("/api/org_token/refresh/");
    expect(normalizePath("/api%5Corg_token//x/%2e%2e/refresh")).toBe("/api/org_token/refresh");
    expect(normalizePath("/a/b/..")).toBe("/a/");
    expect(normalizePath("/%zz/")).toBe("/%zz/");
  });

  it("the owned prefixes come from the route table, so a route added there is owned too", () => {
    expect(ownedPrefixes(API_PATHS).sort()).toEqual(
      [
        "/api/membership_status",
        "/api/org_token",
        "/api/org_token_github",
        "/api/schema",
        "/api/token/blacklist",
      ].sort(),
    );
    const grown = pathOwner([...API_PATHS, "/api/org_token_github/"]);
    expect(grown("/api/org_token_github/")).toEqual({ route: "/api/org_token_github/" });
    expect(grown("/api/org_token_github%2F")).toEqual({ refused: true });
    expect(grown("/api/org_token_githubx/")).toBeUndefined();
  });

  it("with simplejwt's views at /api/token/…, their spellings are refused too and their neighbours forwarded", () => {
    const sj = pathOwner([...API_PATHS, "/api/token/", "/api/token/refresh/", "/api/token/verify/"]);
    for (const spelling of [
      "/api/token%2F",
      "/api%2Ftoken/",
      "/api/token/refresh%2F",
      "/api/token%252Frefresh%252F",
      "/api/token//verify/",
      "//api/token/",
      "/api/token/x/..%2Frefresh/",
      "/api/token/verify/%2e%2e%2frefresh/",
      "/api/token%5Cverify%5C",
    ]) {
      const pathname = new URL(`https://edge.example.org${spelling}`).pathname;
      expect(sj(pathname), spelling).toEqual({ refused: true });
    }
    expect(sj("/api/token/")).toEqual({ route: "/api/token/" });
    // An unreserved letter percent-encoded is the same path (RFC 3986 6.2.2.2): served, never forwarded.
    expect(sj("/api/%74oken/refresh/")).toEqual({ route: "/api/token/refresh/" });
    // A %2e%2e segment is a dot segment to the URL parser itself: the Worker sees the plain path.
    expect(sj(new URL("https://edge.example.org/api/token/verify/%2e%2e/refresh/").pathname)).toEqual({
      route: "/api/token/refresh/",
    });
    expect(sj("/api/tokens/")).toBeUndefined();
    expect(sj("/api/token/other/")).toBeUndefined();
  });

  it(`${REFUSED_SPELLINGS.length} spellings are refused, not routed and not left to the origin`, () => {
    expect(REFUSED_SPELLINGS.length).toBeGreaterThanOrEqual(30);
    for (const spelling of REFUSED_SPELLINGS) {
      const pathname = new URL(`https://edge.example.org${spelling}`).pathname;
      expect(owner(pathname), spelling).toEqual({ refused: true });
    }
  });

  it("other origin paths are not the API's", () => {
    for (const path of FORWARDED_PATHS) expect(owner(path), path).toBeUndefined();
  });

  it("the app answers each refused spelling with the contract's 404 and forwards none", async () => {
    // A request marked as already forwarded is a 508 exactly when it would be forwarded: the
    // mark tells which paths reach the forwarding step, without a network round trip.
    const env = { ORIGIN_URL: "http://127.0.0.1:9" };
    const marked = { headers: { Via: VIA } };
    for (const spelling of REFUSED_SPELLINGS) {
      const response = await call(app(), spelling, { method: "POST", body: "{}", ...marked }, env);
      expect(response.status, spelling).toBe(404);
      expect(await response.json(), spelling).toEqual(NOT_FOUND);
    }
    for (const path of FORWARDED_PATHS) {
      const response = await call(app(), path, marked, env);
      expect(response.status, path).toBe(508);
      await response.body?.cancel();
    }
  });
});

describe("a proxy's headers", () => {
  it("hop-by-hop headers, and every header Connection names, stop at the edge on the way in", () => {
    const incoming = new Request("https://ps.example.org/api/other/", {
      headers: {
        Connection: "keep-alive, X-Secret-Hop, Content-Length",
        "X-Secret-Hop": "1",
        "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic abc",
        "Proxy-Connection": "keep-alive",
        TE: "trailers",
        Trailer: "X-T",
        Upgrade: "h2c",
        "X-End-To-End": "kept",
      },
    });
    const out = forwardedRequest(incoming, ORIGIN);
    for (const name of [
      "Connection",
      "X-Secret-Hop",
      "Keep-Alive",
      "Proxy-Authorization",
      "Proxy-Connection",
      "TE",
      "Trailer",
      "Upgrade",
    ]) {
      expect(out.headers.get(name), name).toBeNull();
    }
    expect(out.headers.get("X-End-To-End")).toBe("kept");
  });

  it("the client's address is CF-Connecting-IP's; its own address, host and scheme claims are dropped", () => {
    const incoming = new Request("https://ps.example.org/api/other/", {
      headers: {
        "CF-Connecting-IP": "203.0.113.7",
        "X-Forwarded-For": "10.0.0.1, 10.0.0.2",
        "True-Client-IP": "10.0.0.3",
        "X-Real-IP": "10.0.0.4",
        Forwarded: "for=10.0.0.5;host=evil.example;proto=http",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Port": "80",
        "X-Client-IP": "10.0.0.6",
      },
    });
    const out = forwardedRequest(incoming, ORIGIN);
    expect(out.headers.get("X-Forwarded-For")).toBe("203.0.113.7");
    expect(out.headers.get("X-Real-IP")).toBe("203.0.113.7");
    expect(out.headers.get("X-Forwarded-Host")).toBe("ps.example.org");
    expect(out.headers.get("X-Forwarded-Proto")).toBe("https");
    for (const name of ["True-Client-IP", "Forwarded", "X-Forwarded-Port", "X-Client-IP"])
      expect(out.headers.get(name), name).toBeNull();
    // Without an address the edge trusts, the origin gets none rather than the client's claim.
    const bare = forwardedRequest(
      new Request("https://ps.example.org/x", { headers: { "X-Forwarded-For": "10.0.0.1" } }),
      ORIGIN,
    );
    expect(bare.headers.get("X-Forwarded-For")).toBeNull();
  });

  it("on the way back: hop-by-hop headers dropped, Location and Content-Location naming the origin said with the public host", () => {
    const fromOrigin = new Response("moved", {
      status: 302,
      headers: {
        Location: "https://origin.example.org/accounts/login/?next=/x",
        "Content-Location": "https://origin.example.org/a",
        Connection: "X-Internal",
        "X-Internal": "secret",
        "Proxy-Authenticate": "Basic",
        "Keep-Alive": "timeout=5",
        "Set-Cookie": "sessionid=s; Path=/",
      },
    });
    const out = returnedResponse(fromOrigin, ORIGIN, "https://ps.example.org");
    expect(out.status).toBe(302);
    expect(out.headers.get("Location")).toBe("https://ps.example.org/accounts/login/?next=/x");
    expect(out.headers.get("Content-Location")).toBe("https://ps.example.org/a");
    for (const name of ["Connection", "X-Internal", "Proxy-Authenticate", "Keep-Alive"])
      expect(out.headers.get(name), name).toBeNull();
    expect(out.headers.get("Set-Cookie")).toBe("sessionid=s; Path=/");
    const elsewhere = returnedResponse(
      new Response(null, { status: 302, headers: { Location: "https://github.com/login" } }),
      ORIGIN,
      "https://ps.example.org",
    );
    expect(elsewhere.headers.get("Location")).toBe("https://github.com/login");
    const relative = returnedResponse(
      new Response(null, { status: 302, headers: { Location: "/new/" } }),
      ORIGIN,
      "https://ps.example.org",
    );
    expect(relative.headers.get("Location")).toBe("/new/");
  });

  it("the Via loop guard sees this Worker's mark in any case or spacing", () => {
    for (const via of [
      "1.1 ORG-TOKEN-EDGE",
      "1.1   org-token-edge",
      "proxy,1.1\torg-token-edge ",
      "1.0 a, 1.1 Org-Token-Edge",
    ])
      expect(isForwardingLoop(new Request("https://a/", { headers: { Via: via } })), via).toBe(true);
    expect(isForwardingLoop(new Request("https://a/", { headers: { Via: "1.1 org-token-edge-2" } }))).toBe(false);
  });

  it("a WebSocket upgrade is refused on purpose (400 in the contract's shape), never forwarded", async () => {
    const response = await call(
      app(),
      "/ws/",
      { headers: { Upgrade: "websocket", Connection: "Upgrade" } },
      { ORIGIN_URL: "http://127.0.0.1:9" },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: "Protocol upgrades (WebSocket) are not forwarded." });
  });

  it("ORIGIN_TIMEOUT: default 30 s, fractions allowed, a bad value a 500 naming it", async () => {
    expect(loadOriginTimeout(undefined)).toBe(30_000);
    expect(loadOriginTimeout("0.25")).toBe(250);
    for (const bad of ["0", "-1", "abc", "301", "1e3"])
      expect(() => loadOriginTimeout(bad), bad).toThrow(/ORIGIN_TIMEOUT/);
    const response = await call(
      app(),
      "/api/other/",
      {},
      { ORIGIN_URL: "http://127.0.0.1:9", ORIGIN_TIMEOUT: "never" },
    );
    expect(response.status).toBe(500);
  });
});

describe("a mounted host", () => {
  const api = buildApi(workerApiOptions);
  const host = new Hono<{ Bindings: typeof env }>();
  host.use(api.middleware);
  host.all("*", (c) => c.text("the host's"));

  it("handles() and middleware take refused spellings too: the host is never handed one", async () => {
    for (const spelling of REFUSED_SPELLINGS) {
      const request = new Request(`https://ps.example.org${spelling}`, { method: "POST" });
      expect(api.handles(request), spelling).toBe(true);
      const response = await host.fetch(request, env);
      expect(response.status, spelling).toBe(404);
      expect(await response.json(), spelling).toEqual(NOT_FOUND);
    }
    for (const path of FORWARDED_PATHS) {
      const request = new Request(`https://ps.example.org${path}`);
      expect(api.handles(request), path).toBe(false);
      expect(await (await host.fetch(request, env)).text(), path).toBe("the host's");
    }
  });
});
