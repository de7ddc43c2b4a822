/**
 * Logins the origin checks (docs/contract.md "Passwords the origin checks"): a user whose stored
 * hash the edge does not verify is logged in by the origin's own view, the request forwarded
 * and its answer returned; the origin is a stand-in behind the Worker's outbound fetch.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { VIA } from "../../src/http/forward";
import { storedScheme } from "../../src/passwords";
import type { Env } from "../../worker/env";
import { call, claimsOf, quickApp, unique } from "../support/harness";
import { mintSj, PASSWORD, PATHS, sjEnv, V522 } from "../support/simplejwt";

const ORIGIN_URL = "http://origin.internal:8000";
const NO_ACCOUNT = JSON.stringify({ detail: "No active account found with the given credentials" });
const ARGON2 = "argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$cGFzc3dvcmRoYXNo";
const BCRYPT_SHA256 = "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu1234567890123456789012345678901";

interface Seen {
  request: Request;
  body: Uint8Array;
}

/** An origin answering `answer` (or failing as `fail` says), recording what it was sent. */
function origin(answer: () => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const outbound = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push({ request, body: new Uint8Array(await request.arrayBuffer()) });
    return answer();
  }) as typeof fetch;
  return { seen, outbound };
}

const originJson = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", Vary: "Accept", "X-Frame-Options": "DENY", ...headers },
  });

let ids = 700_000;
async function seedHashed(passwordHash: string | null, active = true) {
  ids += 1 + Math.floor(Math.random() * 50);
  const userName = unique("fw");
  await env.DB.prepare("INSERT INTO users_user (id, username, password, is_active) VALUES (?1, ?2, ?3, ?4)")
    .bind(ids, userName, passwordHash, active ? 1 : 0)
    .run();
  return { userId: ids, userName };
}

const withOrigin = (overrides: Partial<Env> = {}) => sjEnv({ ORIGIN_URL, ...overrides });

function post(
  target: ReturnType<typeof quickApp>,
  path: string,
  body: string,
  envOverrides: Partial<Env>,
  headers: Record<string, string> = {},
) {
  return call(
    target,
    path,
    { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body },
    envOverrides,
  );
}

describe("which stored hashes the origin checks", () => {
  it("pbkdf2_sha256 here; `!…` and none unusable; every other algorithm the origin's", () => {
    expect(storedScheme("pbkdf2_sha256$600000$salt$hash")).toBe("pbkdf2_sha256");
    expect(storedScheme("!unusable")).toBe("unusable");
    expect(storedScheme(null)).toBe("unusable");
    for (const hash of [
      ARGON2,
      BCRYPT_SHA256,
      "bcrypt$$2b$12$x",
      "scrypt$16384$salt$8$1$hash",
      "pbkdf2_sha1$260000$salt$hash",
      "md5$salt$hash",
      "5f4dcc3b5aa765d61d8327deb882cf99", // unsalted_md5
      "",
    ]) {
      expect(storedScheme(hash), hash).toBe("origin");
    }
  });
});

describe("obtain: a hash only the origin checks", () => {
  it("is forwarded with the client's exact bytes, method, path and a proxy's headers; the origin's answer comes back unchanged", async () => {
    const user = await seedHashed(ARGON2);
    const tokens = { refresh: "r.r.r", access: "a.a.a" };
    const stub = origin(() => originJson(200, tokens, { "X-Origin": "yes" }));
    // Spacing and key order of the client's own: the origin gets these bytes, not a re-encoding.
    const body = `{ "password" : "${PASSWORD}",  "username":"${user.userName}" }`;
    const response = await post(quickApp({ outbound: stub.outbound }), `${PATHS.obtain}?next=1`, body, withOrigin(), {
      "CF-Connecting-IP": "203.0.113.9",
      "X-Forwarded-For": "10.0.0.1",
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(JSON.stringify(tokens));
    expect(response.headers.get("X-Origin")).toBe("yes");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    expect(stub.seen).toHaveLength(1);
    const [{ request, body: sent }] = stub.seen as [Seen];
    expect(request.method).toBe("POST");
    expect(request.url).toBe(`${ORIGIN_URL}${PATHS.obtain}?next=1`);
    expect(new TextDecoder().decode(sent)).toBe(body);
    expect(request.headers.get("Content-Type")).toBe("application/json");
    expect(request.headers.get("X-Forwarded-For")).toBe("203.0.113.9");
    expect(request.headers.get("X-Forwarded-Host")).toBe("ps.test");
    expect(request.headers.get("Via")).toBe(VIA);
  });

  it("a path without its trailing slash goes to the view's own spelling (Django's APPEND_SLASH would redirect a POST), its query kept", async () => {
    const user = await seedHashed(ARGON2);
    const stub = origin(() => originJson(200, { refresh: "r", access: "a" }));
    for (const path of [`${PATHS.obtain.replace(/\/$/, "")}?next=1`, "/api/org_token?next=1"]) {
      const body = JSON.stringify({ username: user.userName, password: PASSWORD, org_name: "Any" });
      const response = await post(quickApp({ outbound: stub.outbound }), path, body, withOrigin());
      expect(response.status).toBe(200);
    }
    expect(stub.seen.map((seen) => seen.request.url)).toEqual([
      `${ORIGIN_URL}${PATHS.obtain}?next=1`,
      `${ORIGIN_URL}/api/org_token/?next=1`,
    ]);
  });

  it("a form body goes as sent; a multipart body as the form of the fields the edge read", async () => {
    const user = await seedHashed(BCRYPT_SHA256);
    const stub = origin(() => originJson(401, { detail: "x" }));
    const form = `username=${user.userName}&password=a%20b&extra=1`;
    await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, form, withOrigin(), {
      "Content-Type": "application/x-www-form-urlencoded",
    });
    expect(new TextDecoder().decode(stub.seen[0]!.body)).toBe(form);
    const multipart = new FormData();
    multipart.set("username", user.userName);
    multipart.set("password", "p&ss word");
    const built = new Request("http://x/", { method: "POST", body: multipart });
    await call(
      quickApp({ outbound: stub.outbound }),
      PATHS.obtain,
      {
        method: "POST",
        headers: { "Content-Type": built.headers.get("Content-Type")! },
        body: new Uint8Array(await built.arrayBuffer()),
      },
      withOrigin(),
    );
    expect(stub.seen[1]!.request.headers.get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(new TextDecoder().decode(stub.seen[1]!.body)).toBe(`username=${user.userName}&password=p%26ss+word`);
  });

  it("a multipart part Django would decode otherwise (base64 transfer encoding) is not sent on as bytes: the origin checks the username the throttle counted", async () => {
    const user = await seedHashed(BCRYPT_SHA256);
    const stub = origin(() => originJson(401, { detail: "x" }));
    // Django decodes this part to another user's name; workerd reads it as the text it is.
    const other = btoa("someone-else");
    const boundary = "b0undary";
    const raw =
      `--${boundary}\r\nContent-Disposition: form-data; name="username"\r\nContent-Transfer-Encoding: base64\r\n\r\n${other}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\nx\r\n--${boundary}--\r\n`;
    await env.DB.prepare("UPDATE users_user SET username = ?1 WHERE id = ?2").bind(other, user.userId).run();
    await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, raw, withOrigin(), {
      "Content-Type": `multipart/form-data; boundary=${boundary}`,
    });
    expect(new TextDecoder().decode(stub.seen[0]!.body)).toBe(`username=${encodeURIComponent(other)}&password=x`);
  });

  it.each([
    ["bcrypt_sha256", BCRYPT_SHA256],
    ["bcrypt", "bcrypt$$2b$12$abc"],
    ["scrypt", "scrypt$16384$salt$8$1$hash"],
    ["pbkdf2_sha1", "pbkdf2_sha1$260000$salt$hash"],
    ["unsalted_md5", "5f4dcc3b5aa765d61d8327deb882cf99"],
  ])("%s: the origin's 401 is the answer, its headers too", async (_name, hash) => {
    const user = await seedHashed(hash);
    const stub = origin(() =>
      originJson(401, JSON.parse(NO_ACCOUNT), { "WWW-Authenticate": 'Bearer realm="api"', "X-Origin": "1" }),
    );
    const body = JSON.stringify({ username: user.userName, password: "wrong" });
    const response = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, body, withOrigin());
    expect(response.status).toBe(401);
    expect(await response.text()).toBe(NO_ACCOUNT);
    expect(response.headers.get("X-Origin")).toBe("1");
    expect(stub.seen).toHaveLength(1);
  });

  it("an inactive user with such a hash: the origin decides (Django checks the password, then is_active)", async () => {
    const user = await seedHashed(ARGON2, false);
    const stub = origin(() => originJson(401, JSON.parse(NO_ACCOUNT), { "X-Origin": "1" }));
    const body = JSON.stringify({ username: user.userName, password: PASSWORD });
    const response = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, body, withOrigin());
    expect(response.status).toBe(401);
    expect(response.headers.get("X-Origin")).toBe("1");
    expect(stub.seen).toHaveLength(1);
  });

  it.each([
    ["an unusable password (`!…`)", "!kA3bunusable"],
    ["no password", null],
    ["a pbkdf2_sha256 hash", "pbkdf2_sha256$1000$salt$d3Jvbmc="],
  ])("%s: answered here as before, never forwarded", async (_name, hash) => {
    const user = await seedHashed(hash);
    const stub = origin(() => originJson(200, {}));
    const body = JSON.stringify({ username: user.userName, password: PASSWORD });
    const response = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, body, withOrigin());
    expect(response.status).toBe(401);
    expect(await response.text()).toBe(NO_ACCOUNT);
    expect(stub.seen).toHaveLength(0);
  });

  it("an unknown user: answered here, never forwarded", async () => {
    const stub = origin(() => originJson(200, {}));
    const body = JSON.stringify({ username: unique("nobody"), password: PASSWORD });
    const response = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, body, withOrigin());
    expect(response.status).toBe(401);
    expect(stub.seen).toHaveLength(0);
  });

  it("field errors are the edge's 400 before any user is looked up", async () => {
    const stub = origin(() => originJson(200, {}));
    const response = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, "{}", withOrigin());
    expect(response.status).toBe(400);
    expect(stub.seen).toHaveLength(0);
  });
});

describe("obtain forwarded: the origin away", () => {
  const body = (userName: string) => JSON.stringify({ username: userName, password: PASSWORD });

  it("ORIGIN_URL unset: 502, the origin not configured, and a config_error line", async () => {
    const user = await seedHashed(ARGON2);
    const stub = origin(() => originJson(200, {}));
    const response = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, body(user.userName), V522);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ detail: "The origin server is not configured." });
    expect(stub.seen).toHaveLength(0);
  });

  it("unreachable: 502", async () => {
    const user = await seedHashed(ARGON2);
    const outbound = (async () => {
      throw new TypeError("connect ECONNREFUSED");
    }) as typeof fetch;
    const response = await post(quickApp({ outbound }), PATHS.obtain, body(user.userName), withOrigin());
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ detail: "The origin server could not be reached." });
  });

  it("no answer within ORIGIN_TIMEOUT: 504", async () => {
    const user = await seedHashed(ARGON2);
    // Answers only when the edge gives up (its signal aborts).
    const outbound = ((input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        const signal = (input instanceof Request ? input.signal : init?.signal) ?? undefined;
        signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      })) as typeof fetch;
    const response = await post(
      quickApp({ outbound }),
      PATHS.obtain,
      body(user.userName),
      withOrigin({ ORIGIN_TIMEOUT: "0.05" }),
    );
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ detail: "The origin server did not answer in time." });
  });

  it("a login that comes back through the edge (ORIGIN_URL pointing here): 508, not forwarded again", async () => {
    const user = await seedHashed(ARGON2);
    const stub = origin(() => originJson(200, {}));
    const response = await post(
      quickApp({ outbound: stub.outbound }),
      PATHS.obtain,
      body(user.userName),
      withOrigin(),
      {
        Via: VIA,
      },
    );
    expect(response.status).toBe(508);
    expect(stub.seen).toHaveLength(0);
  });
});

describe("obtain forwarded: the throttle", () => {
  const attempt = (target: ReturnType<typeof quickApp>, userName: string, limit = "1") =>
    post(
      target,
      PATHS.obtain,
      JSON.stringify({ username: userName, password: "pw" }),
      withOrigin({ LOGIN_PAIR_FAILURE_LIMIT: limit }),
      { "CF-Connecting-IP": "198.51.100.7" },
    );

  it("the origin's 401 counts as a failure: past the limit, the edge's 429 and the origin not asked", async () => {
    const user = await seedHashed(ARGON2);
    const stub = origin(() => originJson(401, JSON.parse(NO_ACCOUNT)));
    const target = quickApp({ outbound: stub.outbound });
    expect((await attempt(target, user.userName)).status).toBe(401);
    const throttled = await attempt(target, user.userName);
    expect(throttled.status).toBe(429);
    expect(stub.seen).toHaveLength(1);
  });

  it("the origin's 200 is no failure and clears the pair; its 502 checked nothing", async () => {
    const user = await seedHashed(ARGON2);
    let status = 200;
    const stub = origin(() => originJson(status, status === 200 ? { refresh: "r", access: "a" } : { detail: "x" }));
    const target = quickApp({ outbound: stub.outbound });
    expect((await attempt(target, user.userName)).status).toBe(200);
    expect((await attempt(target, user.userName)).status).toBe(200);
    status = 502;
    expect((await attempt(target, user.userName)).status).toBe(502);
    expect((await attempt(target, user.userName)).status).toBe(502);
    status = 401;
    expect((await attempt(target, user.userName)).status).toBe(401);
    expect((await attempt(target, user.userName)).status).toBe(429);
    expect(stub.seen).toHaveLength(5);
  });
});

describe("obtain forwarded: a 403 from in front of simplejwt's view", () => {
  it("checked no password: it neither clears the pair's failures nor counts as one", async () => {
    const user = await seedHashed(ARGON2);
    const statuses = [401, 403, 401];
    const stub = origin(() => originJson(statuses.shift() ?? 401, { detail: "x" }));
    const target = quickApp({ outbound: stub.outbound });
    const attempt = () =>
      post(
        target,
        PATHS.obtain,
        JSON.stringify({ username: user.userName, password: "pw" }),
        withOrigin({ LOGIN_PAIR_FAILURE_LIMIT: "2" }),
        { "CF-Connecting-IP": "198.51.100.8" },
      );
    expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(403);
    expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(429); // two failures: the 403 cleared nothing
    expect(stub.seen).toHaveLength(3);
  });
});

describe("obtain forwarded: CORS stays the edge's", () => {
  it("the origin's Access-Control-* headers are dropped; an allowed Origin gets the edge's", async () => {
    const user = await seedHashed(ARGON2);
    const stub = origin(() =>
      originJson(
        200,
        { refresh: "r", access: "a" },
        { "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true" },
      ),
    );
    const body = JSON.stringify({ username: user.userName, password: PASSWORD });
    const envs = withOrigin({ CORS_ALLOWED_ORIGINS: "https://app.example.org" });
    const allowed = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, body, envs, {
      Origin: "https://app.example.org",
    });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ refresh: "r", access: "a" });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.org");
    expect(allowed.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    const other = await post(quickApp({ outbound: stub.outbound }), PATHS.obtain, body, envs, {
      Origin: "https://evil.example",
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("the org-token login: the same rule (ps-web's own view at the origin)", () => {
  it("a hash only the origin checks: forwarded to /api/org_token/, its answer returned", async () => {
    const user = await seedHashed(ARGON2);
    const pair = { exp: "2026-01-01T00:00:00UTC", access_lifetime: "86400.0", refresh_lifetime: "2592000.0" };
    const stub = origin(() => originJson(200, pair));
    const body = JSON.stringify({ username: user.userName, password: PASSWORD, org_name: "SomeOrg" });
    const response = await post(quickApp({ outbound: stub.outbound }), "/api/org_token/", body, { ORIGIN_URL });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(pair);
    expect(stub.seen[0]!.request.url).toBe(`${ORIGIN_URL}/api/org_token/`);
    expect(new TextDecoder().decode(stub.seen[0]!.body)).toBe(body);
  });

  it("an unusable password: the edge's 401, not forwarded", async () => {
    const user = await seedHashed("!unusable");
    const stub = origin(() => originJson(200, {}));
    const body = JSON.stringify({ username: user.userName, password: PASSWORD, org_name: "SomeOrg" });
    const response = await post(quickApp({ outbound: stub.outbound }), "/api/org_token/", body, { ORIGIN_URL });
    expect(response.status).toBe(401);
    expect(stub.seen).toHaveLength(0);
  });
});

describe("the origin's tokens from a forwarded login refresh at the edge", () => {
  it.each([
    ["rotation off", V522, false],
    [
      "rotation on, blacklist after it",
      sjEnv({ SIMPLE_JWT_VERSION: "5.5.1", ROTATE_REFRESH_TOKENS: "true", BLACKLIST_AFTER_ROTATION: "true" }),
      true,
    ],
  ])("%s", async (_name, envs, rotates) => {
    const user = await seedHashed(ARGON2);
    const version = envs.SIMPLE_JWT_VERSION;
    const userId = version === "5.5.1" ? String(user.userId) : user.userId;
    // What the origin's TokenObtainPairView issues: no fam, no iat_ms.
    const refresh = await mintSj({ user_id: userId });
    const stub = origin(() => originJson(200, { refresh, access: "a.a.a" }));
    const target = quickApp({ outbound: stub.outbound });
    const login = await post(target, PATHS.obtain, JSON.stringify({ username: user.userName, password: PASSWORD }), {
      ...envs,
      ORIGIN_URL,
    });
    const tokens = await login.json<{ refresh: string }>();
    expect(tokens.refresh).toBe(refresh);
    const first = await post(target, PATHS.refresh, JSON.stringify({ refresh }), envs);
    expect(first.status).toBe(200);
    const answered = await first.json<{ access: string; refresh?: string }>();
    expect(claimsOf(answered.access)).toMatchObject({ token_type: "access", user_id: userId });
    expect(answered.refresh !== undefined).toBe(rotates);
    const again = await post(target, PATHS.refresh, JSON.stringify({ refresh }), envs);
    expect(again.status).toBe(rotates ? 401 : 200);
  });
});
