/** A client's whole day, as the SlideRule Python client lives it. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type App, BASE, claimsOf, env, manualClock, QUICK_HASH, quickApp, seed, vectors } from "../support/harness";

const PASSWORD = vectors.django_password_hashes.password;
type Fetch = (request: Request) => Promise<Response>;

function client(fetch: Fetch) {
  const send = async (path: string, init: RequestInit) => {
    const response = await fetch(new Request(`${BASE}${path}`, init));
    return { status: response.status, body: await response.json<Record<string, any>>() };
  };
  const json = (body: unknown, access?: string) => ({
    method: "POST",
    headers: { "Content-Type": "application/json", ...(access ? { Authorization: `Bearer ${access}` } : {}) },
    body: JSON.stringify(body),
  });
  return {
    login: (username: string, password: string, org_name: string) =>
      send("/api/org_token/", json({ username, password, org_name })),
    status: (org: string, access: string) =>
      send(`/api/membership_status/${org}/`, { headers: { Authorization: `Bearer ${access}` } }),
    // The Python client sends its (possibly expired) access token along with the refresh.
    refresh: (refresh: string, access: string) => send("/api/org_token/refresh/", json({ refresh }, access)),
    logout: (refresh: string) => send("/api/token/blacklist/", json({ refresh })),
  };
}

/** `passwordHash`: the seed's, at the count of the app's password work. */
async function day(c: ReturnType<typeof client>, advance: (seconds: number) => void, passwordHash: string) {
  const s = await seed({ passwordHash });
  const login = await c.login(s.userName, PASSWORD, s.orgName);
  expect(login.status).toBe(200);
  expect(await c.status(s.orgName, login.body.access)).toEqual({ status: 200, body: { active: true } });

  let { access, refresh } = login.body;
  for (let i = 0; i < 2; i++) {
    advance(86400 + 60); // the access token has expired by now
    const next = await c.refresh(refresh, access);
    expect(next.status).toBe(200);
    expect(next.body.refresh).not.toBe(refresh);
    ({ access, refresh } = next.body);
  }
  expect(await c.status(s.orgName, access)).toEqual({ status: 200, body: { active: true } });

  expect(await c.logout(refresh)).toEqual({ status: 200, body: {} });
  expect(await c.refresh(refresh, access)).toEqual({
    status: 403,
    body: { detail: "Token is blacklisted", code: "token_not_valid" },
  });
  return { first: login.body.refresh, last: refresh };
}

describe("a client's whole day", () => {
  it("log in, membership, refresh twice with an expired access token in Authorization, log out, refused", async () => {
    const clock = manualClock();
    const target: App = quickApp({ clock }); // the test password work: this day is not about the hash
    const fetch: Fetch = async (request) => {
      const ctx = createExecutionContext();
      const response = await target.fetch(request, env, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const { first, last } = await day(client(fetch), (seconds) => clock.advance(seconds), QUICK_HASH);
    expect(claimsOf(last).fam).toBe(claimsOf(first).jti);
  });

  it("the same day through the deployed Worker's own fetch handler", async () => {
    // The deployed Worker has no seams: its own password work, Django 4.2's 600000 iterations.
    await day(
      client((request) => exports.default.fetch(request)),
      () => undefined,
      vectors.django_password_hashes.pbkdf2_sha256_600000,
    );
  });
});
