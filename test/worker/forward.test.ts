/**
 * Forwarding, inside workerd: the request built for the origin, which paths are the API's,
 * and what the app does without ORIGIN_URL, with a bad one, and with a loop. The round trip
 * through a real origin server (streamed bodies, redirects) is test/node/forward.test.ts.
 */
import { describe, expect, it } from "vitest";
import { forwardedRequest, isForwardingLoop, VIA } from "../../src/http/forward";
import { routeMatcher } from "../../src/http/route-match";
import { ROUTES } from "../../src/routes/table";
import { app, call } from "../support/harness";

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
      "/api/org_token//",
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
