/**
 * Issue 25: requireSimpleJwtToken(), a host's guard for simplejwt's access tokens, answering
 * as JWTAuthentication does on a DRF view with IsAuthenticated (every refusal 401 with the
 * realm), each row of docs/contract.md's section in 5.2.2's and 5.5.1's words; a session
 * ended at the edge (logout, sessions_revoked_at) refused as blacklisted.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { orgTokenApi, requireSimpleJwtToken, type SimpleJwtTokenVariables } from "../../src/api";
import type { Env } from "../../worker/env";
import { workerApiOptions } from "../../worker/env";
import { claimsOf, env, postJson, quickApp } from "../support/harness";
import { mintSj, obtain, PATHS, seedUser, sjEnv, V522, V551 } from "../support/simplejwt";

const NOT_PROVIDED = { detail: "Authentication credentials were not provided." };
const BAD_HEADER = {
  detail: "Authorization header must contain two space-delimited values",
  code: "bad_authorization_header",
};
const NO_USER_ID = { detail: "Token contained no recognizable user identification", code: "token_not_valid" };
const USER_NOT_FOUND = { detail: "User not found", code: "user_not_found" };
const USER_INACTIVE = { detail: "User is inactive", code: "user_inactive" };
const notValid = (message: string) => ({
  detail: "Given token not valid for any token type",
  code: "token_not_valid",
  messages: [{ token_class: "AccessToken", token_type: "access", message }],
});

/** A host with one route behind the guard (through the package's entry point). */
function guardedHost() {
  const tokens = orgTokenApi(workerApiOptions);
  const host = new Hono<{ Bindings: Env; Variables: SimpleJwtTokenVariables }>();
  host.get("/private", requireSimpleJwtToken(tokens), (c) => c.json(c.var.simpleJwtToken));
  return host;
}

async function guarded(headers: Record<string, string>, envOverrides: Partial<Env> = V522) {
  const response = await guardedHost().request("/private", { headers }, { ...env, ...envOverrides });
  return {
    status: response.status,
    text: await response.text(),
    realm: response.headers.get("WWW-Authenticate"),
    type: response.headers.get("Content-Type"),
  };
}

/** The 401 as DRF renders it: compact JSON, the realm of the first AUTH_HEADER_TYPES. */
async function expectRefused(
  headers: Record<string, string>,
  body: unknown,
  envOverrides: Partial<Env> = V522,
  realm = 'Bearer realm="api"',
) {
  const answer = await guarded(headers, envOverrides);
  expect(answer).toEqual({ status: 401, text: JSON.stringify(body), realm, type: "application/json" });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** An active user's access token from the obtain view, under these settings. */
async function accessOf(envOverrides: Partial<Env> = V522) {
  const user = await seedUser();
  const pair = await obtain(quickApp(), user.userName, envOverrides);
  return { ...user, ...pair };
}

describe("the header: get_header, get_raw_token", () => {
  it("none, empty, whitespace, another type or a lower-case one: not provided", async () => {
    const { access } = await accessOf();
    await expectRefused({}, NOT_PROVIDED);
    for (const value of ["", "   ", `bearer ${access}`, `Basic ${access}`, `Wrong ${access}`, `JWT ${access}`]) {
      await expectRefused({ Authorization: value }, NOT_PROVIDED);
    }
  });

  it("a Bearer header of one or three parts: bad_authorization_header", async () => {
    await expectRefused({ Authorization: "Bearer" }, BAD_HEADER);
    await expectRefused({ Authorization: "Bearer one two" }, BAD_HEADER);
  });

  it("split on any whitespace: a tab and trailing spaces pass", async () => {
    const { access, userId } = await accessOf();
    const answer = await guarded({ Authorization: `Bearer\t${access}  ` });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).userId).toBe(userId);
  });

  it("AUTH_HEADER_TYPES: each is accepted, case-sensitive; the first names the realm", async () => {
    const settings = sjEnv({ AUTH_HEADER_TYPES: "JWT,Bearer" });
    const { access } = await accessOf(settings);
    expect((await guarded({ Authorization: `Bearer ${access}` }, settings)).status).toBe(200);
    expect((await guarded({ Authorization: `JWT ${access}` }, settings)).status).toBe(200);
    await expectRefused({}, NOT_PROVIDED, settings, 'JWT realm="api"');
    const jwtOnly = sjEnv({ AUTH_HEADER_TYPES: "JWT" });
    await expectRefused(bearer(access), NOT_PROVIDED, jwtOnly, 'JWT realm="api"');
    await expectRefused({ Authorization: "JWT a b" }, BAD_HEADER, jwtOnly, 'JWT realm="api"');
  });

  it("AUTH_HEADER_NAME: HTTP_X_ACCESS_TOKEN is the X-Access-Token header, and Authorization is ignored", async () => {
    const settings = sjEnv({ AUTH_HEADER_NAME: "HTTP_X_ACCESS_TOKEN" });
    const { access } = await accessOf(settings);
    expect((await guarded({ "X-Access-Token": `Bearer ${access}` }, settings)).status).toBe(200);
    await expectRefused(bearer(access), NOT_PROVIDED, settings);
    // WSGI files Content-Type as CONTENT_TYPE: HTTP_CONTENT_TYPE names nothing.
    const contentType = sjEnv({ AUTH_HEADER_NAME: "HTTP_CONTENT_TYPE" });
    await expectRefused({ "Content-Type": `Bearer ${access}` }, NOT_PROVIDED, contentType);
  });
});

describe("the token: get_validated_token (AccessToken), in the version's words", () => {
  const cases: [string, () => Promise<string>, string, string][] = [
    ["not a JWT", async () => "garbage", "Token is invalid or expired", "Token is invalid"],
    [
      "signed with another key",
      () => mintSj({ user_id: 1 }, { type: "access", secret: "another-secret-that-is-long-enough-0123456789" }),
      "Token is invalid or expired",
      "Token is invalid",
    ],
    [
      "expired",
      () => mintSj({ user_id: 1 }, { type: "access", lifetime: 300, nowMs: Date.now() - 600_000 }),
      "Token is invalid or expired",
      "Token is expired",
    ],
    [
      "no exp",
      () => mintSj({ user_id: 1, exp: undefined }, { type: "access" }),
      "Token has no 'exp' claim",
      "Token has no 'exp' claim",
    ],
    ["no jti", () => mintSj({ user_id: 1, jti: undefined }, { type: "access" }), "Token has no id", "Token has no id"],
    [
      "no token_type",
      () => mintSj({ user_id: 1, token_type: undefined }, { type: "access" }),
      "Token has no type",
      "Token has no type",
    ],
    ["a refresh token", () => mintSj({ user_id: 1 }), "Token has wrong type", "Token has wrong type"],
  ];
  it.each(cases)("%s: 5.2.2 and 5.5.1", async (_name, token, old, current) => {
    const raw = await token();
    await expectRefused(bearer(raw), notValid(old), V522);
    await expectRefused(bearer(raw), notValid(current), V551);
  });

  it("the obtain view's refresh token is the wrong type", async () => {
    const { refresh } = await accessOf();
    await expectRefused(bearer(refresh), notValid("Token has wrong type"));
  });
});

describe("the user: get_user", () => {
  it("no user id claim: no recognizable user identification", async () => {
    await expectRefused(bearer(await mintSj({}, { type: "access" })), NO_USER_ID);
  });

  it("no such user, a null id: User not found", async () => {
    await expectRefused(bearer(await mintSj({ user_id: 987_654_321 }, { type: "access" })), USER_NOT_FOUND);
    await expectRefused(bearer(await mintSj({ user_id: null }, { type: "access" })), USER_NOT_FOUND, V551);
  });

  it("an inactive user: User is inactive", async () => {
    const user = await seedUser({ active: false });
    await expectRefused(bearer(await mintSj({ user_id: user.userId }, { type: "access" })), USER_INACTIVE);
  });

  it("an active user: the route runs with the verified token (5.5.1's string id; the origin's own token)", async () => {
    const { access, userId } = await accessOf(V551);
    const answer = await guarded(bearer(access), V551);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ userId, claims: claimsOf(access) });
    expect(claimsOf(access).user_id).toBe(String(userId));
    // A token the origin signed (no fam, no iat_ms), an integer id.
    const origin = await mintSj({ user_id: userId }, { type: "access", lifetime: 300 });
    expect((await guarded(bearer(origin), V522)).status).toBe(200);
  });

  it("a refreshed access token passes too", async () => {
    const { refresh, userId } = await accessOf();
    const response = await postJson(quickApp(), PATHS.refresh, { refresh }, V522);
    const { access } = await response.json<{ access: string }>();
    expect(JSON.parse((await guarded(bearer(access))).text).userId).toBe(userId);
  });
});

describe("ended at the edge: Token is blacklisted", () => {
  it("a logged-out session's access token: refused by KV, and by D1's record without KV", async () => {
    for (const settings of [V522, V551]) {
      const { access, refresh } = await accessOf(settings);
      expect((await guarded(bearer(access), settings)).status).toBe(200);
      expect((await postJson(quickApp(), PATHS.blacklist, { refresh }, settings)).status).toBe(200);
      await expectRefused(bearer(access), notValid("Token is blacklisted"), settings);
      // The KV entry gone (or not yet seen): D1's logout row ends the family still.
      await env.BLACKLIST.delete(`ended:family:${claimsOf(access).fam}`);
      await expectRefused(bearer(access), notValid("Token is blacklisted"), settings);
    }
  });

  it("sessions_revoked_at: tokens issued at or before it are refused, a later one passes", async () => {
    const { access, userId, userName } = await accessOf();
    const issuedAtMs = Number(claimsOf(access).iat_ms);
    await env.DB.prepare("UPDATE users_user SET sessions_revoked_at = ?2 WHERE id = ?1").bind(userId, issuedAtMs).run();
    await expectRefused(bearer(access), notValid("Token is blacklisted"));
    // The origin's token: whole seconds only, refused from the end's own second.
    const sameSecond = await mintSj({ user_id: userId }, { type: "access", nowMs: issuedAtMs, lifetime: 300 });
    await expectRefused(bearer(sameSecond), notValid("Token is blacklisted"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = await obtain(quickApp(), userName, V522);
    expect((await guarded(bearer(later.access))).status).toBe(200);
  });

  it("the KV blacklist alone (an end D1 has not got): refused", async () => {
    const { access, userId } = await accessOf(V551);
    await env.BLACKLIST.put(`ended:user:${userId}`, String(claimsOf(access).iat_ms), { expirationTtl: 600 });
    await expectRefused(bearer(access), notValid("Token is blacklisted"), V551);
  });

  it("blacklisted before the user's rows: a deleted user's ended session", async () => {
    const { access, refresh, userId } = await accessOf();
    expect((await postJson(quickApp(), PATHS.blacklist, { refresh }, V522)).status).toBe(200);
    await env.DB.prepare("DELETE FROM users_user WHERE id = ?1").bind(userId).run();
    await expectRefused(bearer(access), notValid("Token is blacklisted"));
  });
});

describe("configuration", () => {
  it("a simplejwt setting the edge cannot honour: the contract's 500", async () => {
    const answer = await guarded(bearer("x"), sjEnv({ USER_ID_FIELD_TYPE: "string" }));
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.text)).toEqual({
      detail: "Server misconfigured: the token service cannot sign or verify tokens.",
    });
  });

  it("api.requireSimpleJwtToken() is the same guard", async () => {
    const tokens = orgTokenApi(workerApiOptions);
    const host = new Hono<{ Bindings: Env; Variables: SimpleJwtTokenVariables }>();
    host.get("/mine", tokens.requireSimpleJwtToken(), (c) => c.json({ id: c.var.simpleJwtToken.userId }));
    const { access, userId } = await accessOf();
    const response = await host.request("/mine", { headers: bearer(access) }, { ...env, ...V522 });
    expect(await response.json()).toEqual({ id: userId });
  });
});
