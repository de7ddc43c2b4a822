/**
 * The GitHub login end to end: `wrangler dev` with GITHUB_API_URL pointing at a loopback
 * stand-in for GitHub (a node:http server answering GET /user), over a local D1 filled by
 * `admin import-django` from a dumpdata file holding the user, the organization, the
 * membership and the allauth social accounts (a GitHub one, and another provider's, skipped).
 * A GitHub user logs in, refreshes, logs out, and is refused afterwards; a token GitHub no
 * longer knows is refused at login. The account is matched by GitHub's id (the imported uid),
 * not the login extra_data holds. The admin CLI creates the database (its migrations) as
 * an operator's first import does.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAdmin } from "./support/admin";
import { type LocalWorker, startWorker } from "./support/local-worker";

const ORG = "GitHubOrg";
const ORG_UUID = "0b8f5a9e-3c1d-4e2f-9a7b-6c5d4e3f2a1b";
const USERNAME = "testsocialuser";
const LOGIN = "devtester-sliderule";
const GITHUB_ID = 4242; // the social account's uid
const TOKEN = `gho_${randomBytes(18).toString("hex")}`;

interface GitHubUser {
  login: string;
  id: number;
}

/** GitHub's GET /user for the tokens it knows; every request's headers, kept. */
function fakeGitHub(
  known: Map<string, GitHubUser>,
): Promise<{ url: string; asked: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const asked: IncomingHttpHeaders[] = [];
  const server: Server = createServer((request, response) => {
    asked.push(request.headers);
    const token = (request.headers.authorization ?? "").replace(/^token /, "");
    const user = known.get(token);
    if (request.method !== "GET" || request.url !== "/user") {
      response.writeHead(404, { "Content-Type": "application/json" }).end('{"message":"Not Found"}');
    } else if (user === undefined) {
      response.writeHead(401, { "Content-Type": "application/json" }).end('{"message":"Bad credentials"}');
    } else {
      response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ ...user, type: "User" }));
    }
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        asked,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

describe("GitHub login under wrangler dev", { timeout: 180_000 }, () => {
  let stateDir: string;
  let worker: LocalWorker | undefined;
  let github: Awaited<ReturnType<typeof fakeGitHub>> | undefined;
  const known = new Map<string, GitHubUser>([[TOKEN, { login: LOGIN, id: GITHUB_ID }]]);

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "github-login-"));
    const persistTo = join(stateDir, "state");

    const dump = join(stateDir, "dump.json");
    writeFileSync(
      dump,
      JSON.stringify([
        { model: "users.user", pk: 31, fields: { username: USERNAME, password: "!unusable", is_active: true } },
        { model: "users.orgaccount", pk: ORG_UUID, fields: { name: ORG } },
        {
          model: "users.membership",
          pk: "5e0c3a7d-1b2f-4c6e-8d9a-0f1e2d3c4b5a",
          fields: { user: 31, org: ORG_UUID, active: true },
        },
        {
          model: "socialaccount.socialaccount",
          pk: 7,
          fields: {
            user: 31,
            provider: "github",
            uid: String(GITHUB_ID),
            last_login: "2026-11-01T10:00:00Z",
            date_joined: "2026-01-01T10:00:00Z",
            extra_data: { login: LOGIN, id: GITHUB_ID, access_token: "gho_stored_by_allauth" },
          },
        },
        {
          model: "socialaccount.socialaccount",
          pk: 8,
          fields: { user: 31, provider: "google", uid: "g-1", extra_data: {} },
        },
      ]),
    );
    const imported = await spawnAdmin(["--persist-to", persistTo, "import-django", dump, "--json"]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      users: { created: 1 },
      memberships: { created: 1 },
      socialAccounts: { created: 1 },
      skipped: [{ model: "socialaccount.socialaccount", pk: "8", reason: 'provider "google" is not served here' }],
    });
    github = await fakeGitHub(known);
    worker = await startWorker({
      persistTo,
      stateDir,
      vars: { JWT_SECRET_KEY: randomBytes(36).toString("base64url"), GITHUB_API_URL: github.url },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await github?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown) =>
    fetch(`${worker!.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });

  it("logs in with a GitHub token, refreshes, logs out, and is refused afterwards", async () => {
    const login = await post("/api/org_token_github/", { access_token: TOKEN, org_name: ORG });
    expect(login.status).toBe(200);
    const pair = (await login.json()) as Record<string, string>;
    const claims = JSON.parse(Buffer.from(pair.refresh!.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ token_type: "refresh", user_id: 31, user_name: USERNAME, org_name: ORG });
    expect(github!.asked.at(-1)).toMatchObject({
      authorization: `token ${TOKEN}`,
      accept: "application/vnd.github+json",
      "user-agent": expect.stringContaining("org-token-edge"),
    });

    const refreshed = await post("/api/org_token/refresh/", { refresh: pair.refresh });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Record<string, string>;

    const status = await fetch(`${worker!.url}/api/membership_status/${ORG}/`, {
      headers: { Authorization: `Bearer ${next.access}` },
    });
    expect(await status.json()).toEqual({ active: true });

    const logout = await post("/api/token/blacklist/", { refresh: next.refresh });
    expect(logout.status).toBe(200);
    const after = await post("/api/org_token/refresh/", { refresh: next.refresh });
    expect(after.status).toBe(403);
    expect(await after.json()).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });

    // The token revoked at GitHub: the next login is refused with the origin's body.
    known.delete(TOKEN);
    const refused = await post("/api/org_token_github/", { access_token: TOKEN, org_name: ORG });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      status: "FAILED",
      error_msg: "Permission Denied: No Social account found that matches login field of given token",
    });
    // And the GitHub token is in none of wrangler's output (the Worker's log lines included).
    expect(worker!.output()).not.toContain(TOKEN);
  });

  it("matches GitHub's id, not the stored login: a freed login name is refused, the renamed account logs in", async () => {
    const squatter = `gho_${randomBytes(18).toString("hex")}`;
    const renamed = `gho_${randomBytes(18).toString("hex")}`;
    known.set(squatter, { login: LOGIN, id: 98765432 }); // extra_data still says LOGIN
    known.set(renamed, { login: `${LOGIN}-renamed`, id: GITHUB_ID });

    const refused = await post("/api/org_token_github/", { access_token: squatter, org_name: ORG });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      status: "FAILED",
      error_msg: "Permission Denied: No Social account found that matches login field of given token",
    });

    const login = await post("/api/org_token_github/", { access_token: renamed, org_name: ORG });
    expect(login.status).toBe(200);
    const pair = (await login.json()) as Record<string, string>;
    const claims = JSON.parse(Buffer.from(pair.refresh!.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ user_id: 31, user_name: USERNAME, org_name: ORG });
  });
});
