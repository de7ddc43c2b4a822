/**
 * The example host (examples/host) in workerd, under its own wrangler.toml and binding
 * names: a client's day through it, its own routes untouched, and the API mounted in each
 * of the three ways (middleware, fetch, handles()) at the root and under /auth.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env as workerEnv } from "cloudflare:workers";
import { Hono } from "hono";
import { mount } from "hono/mount";
import { SignJWT } from "jose";
import { type OrgTokenApi, orgTokenApi } from "org-token-edge";
import { afterEach, describe, expect, it, vi } from "vitest";
import vectors from "../../../test/fixtures/simplejwt.json";
import host, { type Env, tokens } from "../src/index";

const env = workerEnv as unknown as Env;
const ORIGIN = "http://host.test";
const BROWSER = "https://app.example";

interface Handler {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

/** One request through a handler, its background work (KV writes) waited for. */
async function call(handler: Handler, path: string, init: RequestInit = {}, overrides: Partial<Env> = {}) {
  const ctx = createExecutionContext();
  const response = await handler.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});
const bearer = (access: string): RequestInit => ({ headers: { Authorization: `Bearer ${access}` } });

let counter = 0;
/** A user (with Django's hash of the vectors' password) who is an active member of a new organization. */
async function seed() {
  counter += 1;
  const userName = `user${counter}_${crypto.randomUUID().slice(0, 8)}`;
  const orgName = `Org${counter}_${crypto.randomUUID().slice(0, 8)}`;
  const user = await env.TOKENS_DB.prepare("INSERT INTO users_user (username, password) VALUES (?1, ?2) RETURNING id")
    .bind(userName, vectors.django_password_hashes.pbkdf2_sha256_600000)
    .first<{ id: number }>();
  const org = await env.TOKENS_DB.prepare("INSERT INTO users_orgaccount (name) VALUES (?1) RETURNING id")
    .bind(orgName)
    .first<{ id: number }>();
  await env.TOKENS_DB.prepare("INSERT INTO users_membership (user_id, org_id, active) VALUES (?1, ?2, 1)")
    .bind(user!.id, org!.id)
    .run();
  const setActive = (active: boolean) =>
    env.TOKENS_DB.prepare("UPDATE users_membership SET active = ?3 WHERE user_id = ?1 AND org_id = ?2")
      .bind(user!.id, org!.id, active ? 1 : 0)
      .run();
  return { userId: user!.id, userName, orgName, setActive };
}

/** A refresh or access token as the API signs them, without a login's password hashing. */
async function mint(s: { userId: number; userName: string; orgName: string }, type: "refresh" | "access" = "refresh") {
  const iat = Math.floor(Date.now() / 1000);
  const payload = {
    token_type: type,
    exp: iat + 3600,
    iat,
    jti: crypto.randomUUID().replaceAll("-", ""),
    user_id: s.userId,
    org_name: s.orgName,
    user_name: s.userName,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(env.TOKENS_SECRET));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a client's day through the host", () => {
  it("log in, membership status, the host's guarded route, refresh, log out, refused", async () => {
    const s = await seed();
    const password = vectors.django_password_hashes.password;
    const login = await call(host, "/api/org_token/", post({ username: s.userName, password, org_name: s.orgName }));
    expect(login.status).toBe(200);
    const pair = await login.json<{ access: string; refresh: string }>();

    const status = await call(host, `/api/membership_status/${s.orgName}/`, bearer(pair.access));
    expect(await status.json()).toEqual({ active: true });

    const report = await call(host, `/api/other/${s.orgName}/report/`, bearer(pair.access));
    expect(report.status).toBe(200);
    expect(await report.json()).toEqual({ report: `for ${s.userName} of ${s.orgName}` });

    const refreshed = await call(host, "/api/org_token/refresh", post({ refresh: pair.refresh }));
    expect(refreshed.status).toBe(200);
    const next = await refreshed.json<{ access: string; refresh: string }>();
    expect(next.refresh).not.toBe(pair.refresh);

    expect(await (await call(host, "/api/token/blacklist/", post({ refresh: next.refresh }))).json()).toEqual({});
    const refused = await call(host, "/api/org_token/refresh/", post({ refresh: next.refresh }));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
  });

  it("the guarded host route answers the contract's errors, and reads the membership on every request", async () => {
    const s = await seed();
    const access = await mint(s, "access");
    const path = `/api/other/${s.orgName}/report/`;

    const none = await call(host, path);
    expect(none.status).toBe(400);
    expect(await none.json()).toEqual({
      status: "FAILED",
      error_msg: "No token is provided in the header or the header is missing",
    });

    const refresh = await call(host, path, bearer(await mint(s, "refresh")));
    expect(refresh.status).toBe(403);
    // simplejwt's authentication, as at membership status: InvalidToken with its messages.
    expect(await refresh.json()).toEqual({
      detail: "Given token not valid for any token type",
      code: "token_not_valid",
      messages: [{ token_class: "JWTAccessToken", token_type: "access", message: "Token has wrong type" }],
    });

    const otherOrg = await call(host, `/api/other/SomeOtherOrg/report/`, bearer(access));
    expect(otherOrg.status).toBe(400);
    expect(await otherOrg.json()).toEqual({ status: "FAILED", error_msg: "Token with wrong organization" });

    await s.setActive(false);
    const inactive = await call(host, path, bearer(access));
    expect(inactive.status).toBe(403);
    expect(await inactive.json()).toEqual({ detail: `${s.userName} is NOT an active Member of ${s.orgName}` });
    await s.setActive(true);
    expect((await call(host, path, bearer(access))).status).toBe(200);
  });

  it("the host's cron purges the API's expired ledger rows in the host's database", async () => {
    const jti = crypto.randomUUID().replaceAll("-", "");
    await env.TOKENS_DB.prepare(
      "INSERT INTO token_ledger (jti, family, reason, used_at, expires_at) VALUES (?1, ?1, 'rotated', 0, 1)",
    )
      .bind(jti)
      .run();
    const ctx = createExecutionContext();
    await host.scheduled(createScheduledController({ cron: "*/30 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await env.TOKENS_DB.prepare("SELECT 1 FROM token_ledger WHERE jti = ?1").bind(jti).first()).toBeNull();
  });
});

describe("the host's own routes are untouched", () => {
  it.each(["/health", "/api/other/"])(
    "%s: the host's answer, no CORS headers, even for a configured origin",
    async (path) => {
      const overrides = { TOKENS_CORS: BROWSER };
      const response = await call(host, path, { headers: { Origin: BROWSER } }, overrides);
      expect(response.status).toBe(200);
      expect(response.headers.get("Vary")).toBeNull();
      for (const [name] of response.headers) expect(name.startsWith("access-control-")).toBe(false);

      const preflight = await call(
        host,
        path,
        { method: "OPTIONS", headers: { Origin: BROWSER, "Access-Control-Request-Method": "GET" } },
        overrides,
      );
      expect(preflight.status).not.toBe(204); // the host has no OPTIONS route: Hono's 404, not the API's preflight
      expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    },
  );

  it("without the token secret (or with a bad setting) the host's routes answer; the API's are a 500 naming the setting", async () => {
    const errors = vi.spyOn(console, "error");
    for (const overrides of [{ TOKENS_SECRET: undefined }, { TOKENS_ACCESS_LIFETIME: "soon" }] as Partial<Env>[]) {
      expect((await call(host, "/health", {}, overrides)).status).toBe(200);
      expect(await (await call(host, "/api/other/", {}, overrides)).json()).toEqual({ other: true });
      const api = await call(host, "/api/org_token/refresh/", post({ refresh: "x" }), overrides);
      expect(api.status).toBe(500);
    }
    const messages = errors.mock.calls
      .map(([line]) => JSON.parse(String(line)))
      .filter((entry) => entry.event === "config_error")
      .map((entry) => entry.message);
    expect(messages).toEqual([
      "TOKENS_SECRET is not set",
      "TOKENS_ACCESS_LIFETIME must be a number of seconds from 1 to 315360000",
    ]);
  });

  it("without the host's D1 binding: the API's paths are a 500 whose log names TOKENS_DB; the host's still answer", async () => {
    const errors = vi.spyOn(console, "error");
    const overrides = { TOKENS_DB: undefined } as unknown as Partial<Env>;
    expect((await call(host, "/api/org_token/refresh/", post({ refresh: "x" }), overrides)).status).toBe(500);
    expect((await call(host, "/health", {}, overrides)).status).toBe(200);
    expect(errors.mock.calls.flat().join("\n")).toContain("TOKENS_DB (the D1 database binding) is not bound");
  });

  it("an encoded spelling of an API path is refused by the API (its JSON 404), not left to the host's routes", async () => {
    expect(tokens.handles(new Request(`${ORIGIN}/api/org_token%2Frefresh%2F`))).toBe(true);
    const response = await call(host, "/api/org_token%2Frefresh%2F", post({ refresh: "x" }));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "The requested resource was not found on this server." });
    // A plain host path with an escape stays the host's.
    expect(tokens.handles(new Request(`${ORIGIN}/api/other%2Fthing/`))).toBe(false);
  });

  it("paths the API does not know are the host's (its plain 404), with or without a trailing slash for the API's", async () => {
    const unknown = await call(host, "/api/org_token/refreshh/", post({}));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe("404 Not Found"); // Hono's, not the API's JSON
    for (const path of ["/api/org_token/", "/api/org_token"]) {
      const response = await call(host, path);
      expect(response.status).toBe(405); // the API's, with DRF's Allow header
      expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
    }
  });
});

/** The same API under /auth, with the host's names (a second instance: another base path). */
const authTokens: OrgTokenApi<Env> = orgTokenApi<Env>({
  bindings: (e) => ({ db: e.TOKENS_DB, kv: e.TOKENS_KV, secret: e.TOKENS_SECRET }),
  basePath: "/auth",
});

function hostWith(mountApi: (app: Hono<{ Bindings: Env }>) => void): Handler {
  const app = new Hono<{ Bindings: Env }>();
  app.get("/health", (c) => c.json({ ok: true }));
  mountApi(app);
  app.get("/other/", (c) => c.json({ other: true })); // after the API (not under /auth: hono/mount takes all of /auth/*)
  return app;
}

const styles: [string, Handler][] = [
  ["middleware on a Hono host", hostWith((app) => app.use(authTokens.middleware))],
  [
    "fetch through hono/mount",
    hostWith((app) => app.all("/auth/*", mount(authTokens.fetch, { replaceRequest: false }))),
  ],
  [
    "handles() in a plain-fetch host",
    {
      fetch(request, e, ctx) {
        if (authTokens.handles(request)) return authTokens.fetch(request, e, ctx);
        const { pathname } = new URL(request.url);
        if (pathname === "/health") return Response.json({ ok: true });
        if (pathname === "/other/") return Response.json({ other: true });
        return new Response("host 404", { status: 404 });
      },
    },
  ],
];

describe.each(styles)("mounted under /auth: %s", (_name, handler) => {
  it("the API answers under /auth, with or without the trailing slash, and its OpenAPI servers say /auth", async () => {
    const s = await seed();
    for (const path of ["/auth/api/org_token/refresh/", "/auth/api/org_token/refresh"]) {
      const response = await call(handler, path, post({ refresh: await mint(s) }));
      expect(response.status).toBe(200);
      expect(await response.json()).toHaveProperty("access");
    }
    const doc = await (await call(handler, "/auth/api/schema/")).json<{ servers: { url: string }[]; paths: object }>();
    expect(doc.servers).toEqual([{ url: `${ORIGIN}/auth` }]);
    expect(Object.keys(doc.paths)).toContain("/api/org_token/refresh/");
  });

  it("the host keeps its own paths, before and after the API, and the unprefixed paths are not the API's", async () => {
    expect(await (await call(handler, "/health")).json()).toEqual({ ok: true });
    expect(await (await call(handler, "/other/")).json()).toEqual({ other: true });
    const bare = await call(handler, "/api/org_token/refresh/", post({ refresh: "x" }));
    expect(bare.status).toBe(404);
  });

  it("an encoded spelling of an API path is the API's refusal (its JSON 404), never handed to the host", async () => {
    for (const path of [
      "/auth/api/org_token%2Frefresh%2F",
      "/auth/api/org_token/refresh%252F",
      "/auth/api//org_token/",
    ]) {
      const response = await call(handler, path, post({ refresh: "x" }));
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toEqual({ detail: "The requested resource was not found on this server." });
    }
  });
});

describe("standalone: tokens.fetch as a Worker's whole fetch handler", () => {
  it("answers the API and the contract's JSON 404 for everything else", async () => {
    const s = await seed();
    const standalone: Handler = { fetch: tokens.fetch };
    expect((await call(standalone, "/api/org_token/refresh/", post({ refresh: await mint(s) }))).status).toBe(200);
    const other = await call(standalone, "/health");
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ detail: "The requested resource was not found on this server." });
    const doc = await (await call(standalone, "/api/schema")).json<{ servers: { url: string }[] }>();
    expect(doc.servers).toEqual([{ url: ORIGIN }]);
  });

  it("handles() is by path: the API's paths with or without the slash, nothing else", () => {
    const request = (path: string) => new Request(`${ORIGIN}${path}`);
    for (const path of [
      "/api/org_token/",
      "/api/org_token",
      "/api/membership_status/Org/",
      "/api/schema",
      "/api/token/blacklist/",
    ]) {
      expect(tokens.handles(request(path)), path).toBe(true);
    }
    for (const path of [
      "/",
      "/health",
      "/api/",
      "/api/org_token/x/",
      "/api/membership_status/",
      "/api/membership_status/a/b/",
    ]) {
      expect(tokens.handles(request(path)), path).toBe(false);
    }
    expect(authTokens.handles(request("/auth/api/org_token/"))).toBe(true);
    expect(authTokens.handles(request("/api/org_token/"))).toBe(false);
  });
});
