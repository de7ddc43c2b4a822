/**
 * GET /api/membership_status/<org_name>/: every row, as the origin answers it (simplejwt's
 * JWTAuthentication, then ps-web's get_token_org_active_membership; docs/contract.md).
 */
import { describe, expect, it } from "vitest";
import { app, call, env, mintToken, seed, setMembership, vectors } from "../support/harness";

const worker = app();
const path = (org: string) => `/api/membership_status/${encodeURIComponent(org)}/`;
const get = (org: string, authorization?: string, envOverrides = {}) =>
  call(
    worker,
    path(org),
    { headers: authorization === undefined ? {} : { Authorization: authorization } },
    envOverrides,
  );
const FAILED = (error_msg: string) => ({ status: "FAILED", error_msg });
const NO_TOKEN = FAILED("No token is provided in the header or the header is missing");
/** simplejwt's InvalidToken from get_validated_token, for ps-web's one AUTH_TOKEN_CLASSES entry. */
const notValid = (message: string) => ({
  detail: "Given token not valid for any token type",
  code: "token_not_valid",
  messages: [{ token_class: "JWTAccessToken", token_type: "access", message }],
});
const INVALID_OR_EXPIRED = notValid("Token is invalid or expired");

async function expectAnswer(response: Response, status: number, body: unknown) {
  expect(response.status).toBe(status);
  expect(await response.text()).toBe(JSON.stringify(body)); // byte for byte, key order included
  // DRF turns the 401 into 403 (SessionAuthentication first): no WWW-Authenticate is sent.
  expect(response.headers.get("WWW-Authenticate")).toBeNull();
}

describe("membership status", () => {
  it("member: 200 {active: true}, then {active: false} once deactivated", async () => {
    const s = await seed();
    const access = await mintToken(s, { type: "access" });
    await expectAnswer(await get(s.orgName, `Bearer ${access}`), 200, { active: true });
    await setMembership(s, false);
    await expectAnswer(await get(s.orgName, `Bearer ${access}`), 200, { active: false });
  });

  it.each([undefined, "", "   ", "Token abc", "Basic dXNlcjpwYXNz", "bearer abc", "BEARER abc"])(
    "no Bearer token (%j): 400 FAILED, no token",
    async (header) => {
      const s = await seed();
      await expectAnswer(await get(s.orgName, header), 400, NO_TOKEN);
    },
  );

  it.each(["Bearer", "Bearer ", "Bearer a b", "Bearer a\tb"])(
    "Bearer with other than two parts (%j): 403 bad_authorization_header",
    async (header) => {
      const s = await seed();
      await expectAnswer(await get(s.orgName, header), 403, {
        detail: "Authorization header must contain two space-delimited values",
        code: "bad_authorization_header",
      });
    },
  );

  it.each([
    ["an expired access token", { type: "access", nowMs: Date.now() - 100_000_000 }, "Token is invalid or expired"],
    [
      "a forged access token",
      { type: "access", secret: "the-attackers-secret-is-long-enough-too-00" },
      "Token is invalid or expired",
    ],
    ["an HS512 access token", { type: "access", alg: "HS512" }, "Token is invalid or expired"],
    ["a refresh token", { type: "refresh" }, "Token has wrong type"],
    ["a token without token_type", { type: "access", claims: { token_type: undefined } }, "Token has no type"],
    ["a token without jti", { type: "access", claims: { jti: undefined } }, "Token has no id"],
    ["a token without exp", { type: "access", claims: { exp: undefined } }, "Token has no 'exp' claim"],
  ])("%s: 403 with simplejwt's message", async (_name, options, message) => {
    const s = await seed();
    await expectAnswer(await get(s.orgName, `Bearer ${await mintToken(s, options)}`), 403, notValid(message));
  });

  it("garbage in the header: 403 invalid or expired", async () => {
    const s = await seed();
    await expectAnswer(await get(s.orgName, "Bearer not.a.jwt"), 403, INVALID_OR_EXPIRED);
  });

  it("a valid token without user_id: 403 no recognizable user identification", async () => {
    const s = await seed();
    const token = await mintToken(s, { type: "access", claims: { user_id: undefined } });
    await expectAnswer(await get(s.orgName, `Bearer ${token}`), 403, {
      detail: "Token contained no recognizable user identification",
      code: "token_not_valid",
    });
  });

  it("authentication comes before the view: an unknown user id, even for an unknown organization, is User not found", async () => {
    const s = await seed();
    const token = await mintToken({ ...s, userId: 987_654_321 }, { type: "access" });
    const body = { detail: "User not found", code: "user_not_found" };
    await expectAnswer(await get(s.orgName, `Bearer ${token}`), 403, body);
    await expectAnswer(await get("NoSuchOrg_x", `Bearer ${token}`), 403, body);
  });

  it("a disabled account: 403 User is inactive, before the organization is looked at", async () => {
    const s = await seed({ userActive: false });
    const token = await mintToken(s, { type: "access" });
    const body = { detail: "User is inactive", code: "user_inactive" };
    await expectAnswer(await get(s.orgName, `Bearer ${token}`), 403, body);
    await expectAnswer(await get("NoSuchOrg_y", `Bearer ${token}`), 403, body);
  });

  it("the organization in the path is unknown: 400 Unknown org, whatever the token's organization", async () => {
    const s = await seed();
    const token = await mintToken(s, { type: "access" });
    await expectAnswer(await get("NoSuchOrg_z", `Bearer ${token}`), 400, FAILED("Unknown org:NoSuchOrg_z"));
  });

  it("a token for another organization, its user a member of both: 400 with the origin's sentence (trailing space)", async () => {
    const s = await seed();
    const other = await seed();
    await env.DB.prepare("INSERT INTO users_membership (user_id, org_id, active) VALUES (?1, ?2, 1)")
      .bind(s.userId, other.orgId)
      .run();
    const token = await mintToken(s, { type: "access" });
    await expectAnswer(
      await get(other.orgName, `Bearer ${token}`),
      400,
      FAILED(`Token claim org:${s.orgName} does not match organization given:${other.orgName} `),
    );
  });

  it("a token for another organization, its user not a member of the path's: 400 not a member (checked first)", async () => {
    const s = await seed();
    const other = await seed();
    const token = await mintToken(s, { type: "access" });
    await expectAnswer(
      await get(other.orgName, `Bearer ${token}`),
      400,
      FAILED(`user${s.userName} is not a member of ${other.orgName}?`),
    );
  });

  it("not a member: 400 with the account's user name, not the token's claim", async () => {
    const s = await seed({ membership: null });
    const token = await mintToken({ ...s, userName: "someone_else" }, { type: "access" });
    await expectAnswer(
      await get(s.orgName, `Bearer ${token}`),
      400,
      FAILED(`user${s.userName} is not a member of ${s.orgName}?`),
    );
  });

  it("a Bearer header with other whitespace than one space: authenticated, then the view's own read fails: 400 INVALID token", async () => {
    const s = await seed();
    const token = await mintToken(s, { type: "access" });
    await expectAnswer(await get(s.orgName, `Bearer  ${token}`), 400, FAILED("INVALID token"));
    await expectAnswer(await get(s.orgName, `Bearer\t${token}`), 400, FAILED("INVALID token"));
    // The organization is looked up before that read.
    await expectAnswer(await get("NoSuchOrg_w", `Bearer  ${token}`), 400, FAILED("Unknown org:NoSuchOrg_w"));
  });

  it("simplejwt's own access token (vector) is accepted; its refresh token has the wrong type", async () => {
    const { claims, token } = vectors.valid.access;
    await env.DB.prepare("INSERT OR IGNORE INTO users_user (id, username) VALUES (?1, ?2)")
      .bind(claims.user_id, claims.user_name)
      .run();
    const org = await env.DB.prepare("INSERT INTO users_orgaccount (name) VALUES (?1) RETURNING id")
      .bind(claims.org_name)
      .first<{ id: number }>();
    await env.DB.prepare("INSERT INTO users_membership (user_id, org_id, active) VALUES (?1, ?2, 1)")
      .bind(claims.user_id, org!.id)
      .run();
    await expectAnswer(await get(claims.org_name, `Bearer ${token}`, { JWT_SECRET_KEY: vectors.secret }), 200, {
      active: true,
    });
    const refreshAsAccess = await get(claims.org_name, `Bearer ${vectors.valid.refresh.token}`, {
      JWT_SECRET_KEY: vectors.secret,
    });
    await expectAnswer(refreshAsAccess, 403, notValid("Token has wrong type"));
  });

  it("matches without the trailing slash; POST is 405", async () => {
    const s = await seed();
    const access = await mintToken(s, { type: "access" });
    const bare = await call(worker, `/api/membership_status/${s.orgName}`, {
      headers: { Authorization: `Bearer ${access}` },
    });
    expect(await bare.json()).toEqual({ active: true });
    const post = await call(worker, path(s.orgName), { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
  });
});
