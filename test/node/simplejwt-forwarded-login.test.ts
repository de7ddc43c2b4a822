/**
 * Logins the origin checks, end to end (docs/contract.md "Passwords the origin checks"): the
 * stock project (examples/simplejwt-project) with bcrypt_sha256 and argon2 among its hashers,
 * one user of each, and the edge configured from it (`org_token_edge_config --with-secrets`,
 * `org_token_edge_sync --full`) with ORIGIN_URL pointing at it. The edge cannot check those
 * hashes: it forwards the login, returns the origin's tokens or its 401, and then refreshes the
 * origin's tokens itself. One origin and one edge process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalWorker, seedDatabase, startWorker } from "./support/local-worker";
import { decode, edgeVarsFromOrigin, exampleEnv, manage, type Origin, startOrigin } from "./support/simplejwt";

const SIGNING_KEY = "forwarded-login-signing-key-that-is-long-enough-0123";
const SYNC_SECRET = "forwarded-login-sync-secret-that-is-long-enough-0123";
const PASSWORD = "carol's password 3";
const HASHERS = [
  "oracle_hashers.QuickPBKDF2PasswordHasher",
  "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
  "django.contrib.auth.hashers.Argon2PasswordHasher",
].join(",");
const OBTAIN = "/api/token/";
const REFRESH = "/api/token/refresh/";

function post(url: string, path: string, body: unknown) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("a user whose hash only the origin checks logs in at the edge", () => {
  let dir: string;
  let origin: Origin | undefined;
  let edge: LocalWorker | undefined;
  const hashes: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "simplejwt-forwarded-login-"));
    const env = exampleEnv({
      DJANGO_SQLITE_PATH: join(dir, "origin.sqlite3"),
      DJANGO_SECRET_KEY: SIGNING_KEY,
      ORG_TOKEN_EDGE_SECRET: SYNC_SECRET,
      ORG_TOKEN_EDGE_DELIVER_ON_COMMIT: "0",
      DJANGO_PASSWORD_HASHERS: HASHERS,
    });
    await manage(["migrate", "--noinput", "-v", "0"], env);
    Object.assign(
      hashes,
      JSON.parse(
        await manage(
          [
            "shell",
            "-c",
            `import json
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
out = {}
for name, hasher in (("carol", "bcrypt_sha256"), ("dave", "argon2")):
    user = User.objects.create_user(name)
    user.password = make_password(${JSON.stringify(PASSWORD)}, hasher=hasher)
    user.save()
    out[name] = user.password
print(json.dumps(out))`,
          ],
          env,
        ),
      ),
    );
    origin = await startOrigin(env);
    const stateDir = join(dir, "edge");
    const { vars } = await edgeVarsFromOrigin(env);
    const persistTo = join(stateDir, "state");
    await seedDatabase(persistTo, stateDir, "SELECT 1;");
    edge = await startWorker({ persistTo, stateDir, vars: { ...vars, ORIGIN_URL: origin.url } });
    await manage(["org_token_edge_sync", "--full"], { ...env, ORG_TOKEN_EDGE_URL: edge.url });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([edge?.stop(), origin?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the users' hashes are bcrypt_sha256 and argon2 (the origin's, synced as they are)", () => {
    expect(hashes.carol).toMatch(/^bcrypt_sha256\$/);
    expect(hashes.dave).toMatch(/^argon2\$/);
  });

  it.each(["carol", "dave"])("%s: the origin's tokens through the edge, which then refreshes them", async (name) => {
    const login = await post(edge!.url, OBTAIN, { username: name, password: PASSWORD });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as { refresh: string; access: string };
    expect(Object.keys(tokens)).toEqual(["refresh", "access"]);
    const refresh = decode(tokens.refresh)!;
    expect(refresh.signedWith(SIGNING_KEY)).toBe(true);
    // simplejwt's own token: none of the claims the edge adds to the tokens it issues.
    expect(refresh.payload).not.toHaveProperty("fam");
    expect(refresh.payload).not.toHaveProperty("iat_ms");

    const refreshed = await post(edge!.url, REFRESH, { refresh: tokens.refresh });
    expect(refreshed.status).toBe(200);
    const access = decode(((await refreshed.json()) as { access: string }).access)!;
    expect(access.payload).toMatchObject({ token_type: "access", user_id: refresh.payload.user_id });
    // The edge's own access token (its family claim) from the origin's refresh token.
    expect(access.payload).toHaveProperty("fam");
  });

  it("a wrong password: the origin's 401, as the origin answers it directly", async () => {
    const [atEdge, atOrigin] = await Promise.all([
      post(edge!.url, OBTAIN, { username: "dave", password: "not it" }),
      post(origin!.url, OBTAIN, { username: "dave", password: "not it" }),
    ]);
    expect(atEdge.status).toBe(401);
    expect(await atEdge.text()).toBe(await atOrigin.text());
    expect(atEdge.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
    expect(atEdge.headers.get("Vary")).toContain("Accept");
  });

  // The same processes, for DRF's content negotiation on the edge's own answers (its views).
  it.each([
    ["none", undefined],
    ["application/json; indent=4", "application/json; indent=4"],
    ["*/*; indent=40", "*/*; indent=40"],
    ["application/xml", "application/xml"],
    ["malformed", "garbage"],
    ["a q=0 entry", "application/json;q=0"],
  ])("Accept %s: the edge's answer is the origin's, byte for byte", async (_name, accept) => {
    const send = (url: string, path: string, query = "") =>
      fetch(`${url}${path}${query}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(accept === undefined ? {} : { Accept: accept }) },
        body: JSON.stringify({ username: "nobody", password: "x" }),
      });
    for (const [path, query] of [
      [OBTAIN, ""],
      [REFRESH, ""],
      [OBTAIN, "?format=xml"],
    ] as const) {
      const [atEdge, atOrigin] = await Promise.all([send(edge!.url, path, query), send(origin!.url, path, query)]);
      const what = `${path}${query}`;
      expect(atEdge.status, what).toBe(atOrigin.status);
      expect(await atEdge.text(), what).toBe(await atOrigin.text());
      for (const header of ["Content-Type", "WWW-Authenticate", "Allow"])
        expect(atEdge.headers.get(header), `${what} ${header}`).toBe(atOrigin.headers.get(header));
      expect(atEdge.headers.get("Vary")?.split(", ")[0], what).toBe(atOrigin.headers.get("Vary"));
    }
  });

  it("a GET preferring HTML: the origin's browsable page, through the edge", async () => {
    const get = (url: string) => fetch(`${url}${OBTAIN}`, { headers: { Accept: "text/html" } });
    const [atEdge, atOrigin] = await Promise.all([get(edge!.url), get(origin!.url)]);
    expect(atEdge.status).toBe(405);
    expect(atOrigin.status).toBe(405);
    expect(atEdge.headers.get("Content-Type")).toBe(atOrigin.headers.get("Content-Type"));
    expect(await atEdge.text()).toContain("Token Obtain Pair");
    await atOrigin.body?.cancel();
  });
});
