/**
 * DRF's content negotiation on simplejwt's views and the guard's refusals (docs/contract.md
 * "What the four views share"): Accept and `?format=` choose the renderer before anything else,
 * `indent` indents, every answer says `Vary: Accept` and `Allow`. The expected bytes are the
 * stock project's (examples/simplejwt-project, DRF 3.14, default renderers), measured.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { orgTokenApi, requireSimpleJwtToken, type SimpleJwtTokenVariables } from "../../src/api";
import { VIA } from "../../src/http/forward";
import { negotiate } from "../../src/http/negotiation";
import { type Env, workerApiOptions } from "../../worker/env";
import { call, env, quickApp, unique } from "../support/harness";
import { mintSj, PATHS, seedUser, V522 } from "../support/simplejwt";

const NO_ACCOUNT = '{"detail":"No active account found with the given credentials"}';
const NO_ACCOUNT_4 = '{\n    "detail": "No active account found with the given credentials"\n}';
const NOT_ACCEPTABLE = '{"detail":"Could not satisfy the request Accept header."}';

function obtain(accept: string | undefined, query = "") {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (accept !== undefined) headers.Accept = accept;
  return call(
    quickApp(),
    `${PATHS.obtain}${query}`,
    { method: "POST", headers, body: JSON.stringify({ username: unique("nobody"), password: "x" }) },
    V522,
  );
}

async function expectAnswer(response: Response, status: number, body: string) {
  expect(response.status).toBe(status);
  expect(await response.text()).toBe(body);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(response.headers.get("Vary")?.split(/,\s*/)).toContain("Accept");
  expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
}

describe("the views: which Accept headers get JSON", () => {
  it.each([
    ["none", undefined],
    ["*/*", "*/*"],
    ["application/json", "application/json"],
    ["application/json; charset=utf-8", "application/json; charset=utf-8"],
    ["APPLICATION/JSON", "APPLICATION/JSON"],
    ["application/*", "application/*"],
    ["a q=0 entry (DRF reads no q)", "application/json;q=0"],
    ["*/*;q=0", "*/*;q=0"],
    ["JSON listed after HTML of lower q", "text/html;q=0.5, application/json"],
    ["HTML and JSON at one precedence: the renderer order decides", "text/html, application/json"],
    ["XML, then anything", "application/xml, */*;q=0.1"],
    ["indent=0 (none)", "application/json; indent=0"],
    ["indent=-1 (0: none)", "application/json; indent=-1"],
    ["indent=abc (not an int)", "application/json; indent=abc"],
  ])("%s: compact JSON, Vary: Accept, Allow", async (_name, accept) => {
    const response = await obtain(accept);
    await expectAnswer(response, 401, NO_ACCOUNT);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it.each([
    ["application/json; indent=4", NO_ACCOUNT_4],
    ["application/json;indent=4", NO_ACCOUNT_4],
    ["indent above 8 is 8", '{\n        "detail": "No active account found with the given credentials"\n}'],
    ["application/json; q=0.5; indent=2", '{\n  "detail": "No active account found with the given credentials"\n}'],
    ["*/*; indent=4", NO_ACCOUNT_4],
  ])("%s: indented as DRF's JSONRenderer", async (accept, body) => {
    const header = accept === "indent above 8 is 8" ? "application/json; indent=40" : accept;
    await expectAnswer(await obtain(header), 401, body);
  });

  it("every kind of answer is indented: field errors, the token pipeline, OPTIONS", async () => {
    const fields = await call(
      quickApp(),
      PATHS.obtain,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json; indent=4" },
        body: "{}",
      },
      V522,
    );
    await expectAnswer(
      fields,
      400,
      '{\n    "username": [\n        "This field is required."\n    ],\n    "password": [\n        "This field is required."\n    ]\n}',
    );
    const refresh = await call(
      quickApp(),
      PATHS.refresh,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json; indent=4" },
        body: JSON.stringify({ refresh: "x" }),
      },
      V522,
    );
    await expectAnswer(
      refresh,
      401,
      '{\n    "detail": "Token is invalid or expired",\n    "code": "token_not_valid"\n}',
    );
    const options = await call(
      quickApp(),
      PATHS.obtain,
      { method: "OPTIONS", headers: { Accept: "application/json; indent=2" } },
      V522,
    );
    expect(options.status).toBe(200);
    expect((await options.text()).startsWith('{\n  "name": "Token Obtain Pair",\n  "description": ')).toBe(true);
  });

  it("a success is indented too", async () => {
    const user = await seedUser();
    const token = await mintSj({ user_id: user.userId });
    const refreshed = await call(
      quickApp(),
      PATHS.refresh,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json; indent=2" },
        body: JSON.stringify({ refresh: token }),
      },
      V522,
    );
    expect(refreshed.status).toBe(200);
    expect(await refreshed.text()).toMatch(/^\{\n {2}"access": "[\w.-]+"\n\}$/);
  });
});

describe("the views: the 406 and the format's 404, before anything else", () => {
  it.each([
    ["application/xml", "application/xml"],
    ["malformed", "garbage"],
    ["empty", ""],
    ["a lone comma", ","],
    ["HTML only (the browsable API, which the edge does not render; a POST)", "text/html"],
    ["text/* (the browsable API; a POST)", "text/*"],
  ])("%s: 406, no WWW-Authenticate", async (_name, accept) => {
    const response = await obtain(accept);
    await expectAnswer(response, 406, NOT_ACCEPTABLE);
    expect(response.headers.get("WWW-Authenticate")).toBeNull();
  });

  it("the 406 comes before the method's 405 and the body's 415", async () => {
    const get = await call(quickApp(), PATHS.obtain, { headers: { Accept: "application/xml" } }, V522);
    await expectAnswer(get, 406, NOT_ACCEPTABLE);
    const options = await call(
      quickApp(),
      PATHS.obtain,
      { method: "OPTIONS", headers: { Accept: "application/xml" } },
      V522,
    );
    await expectAnswer(options, 406, NOT_ACCEPTABLE);
    const plain = await call(
      quickApp(),
      PATHS.obtain,
      { method: "POST", headers: { "Content-Type": "text/plain", Accept: "application/xml" }, body: "x" },
      V522,
    );
    await expectAnswer(plain, 406, NOT_ACCEPTABLE);
  });

  it("?format= overrides (URL_FORMAT_OVERRIDE): json narrows to JSON, an unknown one is 404, api the browsable API", async () => {
    await expectAnswer(await obtain(undefined, "?format=json"), 401, NO_ACCOUNT);
    await expectAnswer(await obtain("application/xml", "?format=json"), 406, NOT_ACCEPTABLE);
    await expectAnswer(await obtain(undefined, "?format=xml"), 404, '{"detail":"Not found."}');
    await expectAnswer(await obtain(undefined, "?format=api"), 406, NOT_ACCEPTABLE);
    await expectAnswer(await obtain("application/xml", "?format="), 406, NOT_ACCEPTABLE);
    await expectAnswer(await obtain(undefined, "?format=xml&format=json"), 401, NO_ACCOUNT);
  });
});

describe("the browsable API: the origin's page for a request without a body, else the 406", () => {
  const html = () => {
    const seen: Request[] = [];
    const outbound = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return new Response("<html>browsable</html>", {
        status: 405,
        headers: { "Content-Type": "text/html; charset=utf-8", Vary: "Accept, Cookie", Allow: "POST, OPTIONS" },
      });
    }) as typeof fetch;
    return { seen, outbound };
  };
  const withOrigin = { ...V522, ORIGIN_URL: "http://origin.internal" };

  it("GET and OPTIONS preferring HTML (or ?format=api) with ORIGIN_URL: the origin's page as it came", async () => {
    const stub = html();
    const get = await call(
      quickApp({ outbound: stub.outbound }),
      PATHS.obtain,
      { headers: { Accept: "text/html" } },
      withOrigin,
    );
    expect(get.status).toBe(405);
    expect(await get.text()).toBe("<html>browsable</html>");
    expect(get.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    const options = await call(
      quickApp({ outbound: stub.outbound }),
      `${PATHS.refresh}?format=api`,
      { method: "OPTIONS" },
      withOrigin,
    );
    expect(options.status).toBe(405);
    expect(stub.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET http://origin.internal${PATHS.obtain}`,
      `OPTIONS http://origin.internal${PATHS.refresh}?format=api`,
    ]);
  });

  it("a GET preferring HTML that came back through the edge (ORIGIN_URL pointing here): 508, as every forward", async () => {
    const stub = html();
    const response = await call(
      quickApp({ outbound: stub.outbound }),
      PATHS.obtain,
      { headers: { Accept: "text/html", Via: VIA } },
      withOrigin,
    );
    expect(response.status).toBe(508);
    expect(stub.seen).toHaveLength(0);
  });

  it("a POST preferring HTML is the 406 even with ORIGIN_URL: never past the throttle or the ledger", async () => {
    const stub = html();
    const response = await call(
      quickApp({ outbound: stub.outbound }),
      PATHS.refresh,
      { method: "POST", headers: { "Content-Type": "application/json", Accept: "text/html" }, body: '{"refresh":"x"}' },
      withOrigin,
    );
    await expectAnswer(response, 406, NOT_ACCEPTABLE);
    expect(stub.seen).toHaveLength(0);
  });

  it("without ORIGIN_URL, a GET preferring HTML is the 406", async () => {
    await expectAnswer(
      await call(quickApp(), PATHS.obtain, { headers: { Accept: "text/html" } }, V522),
      406,
      NOT_ACCEPTABLE,
    );
  });
});

describe("negotiate()", () => {
  it("quoted parameters and parameters without a value, as Django's parse_header", () => {
    expect(negotiate('application/json; indent="3"', null)).toEqual({ renderer: "json", indent: 3 });
    expect(negotiate("application/json; indent", null)).toEqual({ renderer: "json", indent: undefined });
    expect(negotiate("application/json; indent=+2", null)).toEqual({ renderer: "json", indent: 2 });
    expect(negotiate("text/html", null)).toEqual({ renderer: "browsable" });
  });
});

describe("the guard's refusals are DRF's responses too", () => {
  function guardedHost() {
    const tokens = orgTokenApi(workerApiOptions);
    const host = new Hono<{ Bindings: Env; Variables: SimpleJwtTokenVariables }>();
    host.get("/private", requireSimpleJwtToken(tokens), (c) => c.json({ userId: c.var.simpleJwtToken.userId }));
    return host;
  }
  const guarded = (headers: Record<string, string>) =>
    guardedHost().request("/private", { headers }, { ...env, ...V522 });

  it("indented as asked, with Vary: Accept", async () => {
    const response = await guarded({ Accept: "application/json; indent=2" });
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('{\n  "detail": "Authentication credentials were not provided."\n}');
    expect(response.headers.get("Vary")).toBe("Accept");
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it("an Accept header no renderer takes: 406 instead of the 401", async () => {
    const response = await guarded({ Accept: "application/xml" });
    expect(response.status).toBe(406);
    expect(await response.text()).toBe(NOT_ACCEPTABLE);
    expect(response.headers.get("Vary")).toBe("Accept");
  });

  it("a request let through is the host's to render, whatever it accepts", async () => {
    const user = await seedUser();
    const access = await mintSj({ user_id: user.userId }, { type: "access" });
    const response = await guarded({ Accept: "application/xml", Authorization: `Bearer ${access}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ userId: user.userId });
    expect(response.headers.get("Vary")).toBeNull();
  });
});

describe("a login the origin checked: its answer as it came", () => {
  it("not re-rendered: the origin's own bytes and headers", async () => {
    const { env: dbEnv } = await import("cloudflare:workers");
    const userName = unique("fwn");
    await dbEnv.DB.prepare("INSERT INTO users_user (id, username, password, is_active) VALUES (?1, ?2, ?3, 1)")
      .bind(800_000 + Math.floor(Math.random() * 1000), userName, "argon2$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA")
      .run();
    const outbound = (async () =>
      new Response('{"refresh":"r","access":"a"}', {
        headers: { "Content-Type": "application/json", Vary: "Accept, Cookie", Allow: "POST, OPTIONS" },
      })) as typeof fetch;
    const response = await call(
      quickApp({ outbound }),
      PATHS.obtain,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json; indent=4" },
        body: JSON.stringify({ username: userName, password: "pw" }),
      },
      { ...V522, ORIGIN_URL: "http://origin.internal" },
    );
    expect(await response.text()).toBe('{"refresh":"r","access":"a"}');
    expect(response.headers.get("Vary")).toBe("Accept, Cookie, Origin");
  });
});
