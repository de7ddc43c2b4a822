/**
 * The org-token API words a token it cannot decode as the origin's simplejwt does
 * (SIMPLE_JWT_VERSION): "Token is invalid or expired" through 5.4, "Token is invalid" and
 * "Token is expired" from 5.5.0 (rest_framework_simplejwt/tokens.py Token.__init__ at v5.5.0).
 */
import { describe, expect, it } from "vitest";
import { app, call, manualClock, mintToken, postJson, seed } from "../support/harness";

const clock = manualClock();
const target = app({ clock });
const WRONG_SECRET = "another-secret-that-is-long-enough-0123456789";

async function status(s: { orgName: string }, access: string, version: string) {
  const response = await call(
    target,
    `/api/membership_status/${s.orgName}/`,
    { headers: { Authorization: `Bearer ${access}` } },
    { SIMPLE_JWT_VERSION: version },
  );
  const body = await response.json<{ messages?: { message: string }[] }>();
  return { status: response.status, message: body.messages?.[0]?.message };
}

async function logout(refresh: string, version: string) {
  const response = await postJson(target, "/api/token/blacklist/", { refresh }, { SIMPLE_JWT_VERSION: version });
  return { status: response.status, body: await response.json() };
}

describe("the org-token API answers in the words of the origin's simplejwt version", () => {
  it.each([
    ["5.2.2", "Token is invalid or expired", "Token is invalid or expired"],
    ["5.4.0", "Token is invalid or expired", "Token is invalid or expired"],
    ["5.5.0", "Token is expired", "Token is invalid"],
    ["5.5.1", "Token is expired", "Token is invalid"],
  ])("%s: an expired access token is %j, a badly signed one %j (membership status)", async (version, expired, bad) => {
    const s = await seed();
    const old = await mintToken(s, { type: "access", nowMs: clock() - 7200_000, lifetime: 3600 });
    const forged = await mintToken(s, { type: "access", nowMs: clock(), secret: WRONG_SECRET });
    expect(await status(s, old, version)).toEqual({ status: 403, message: expired });
    expect(await status(s, forged, version)).toEqual({ status: 403, message: bad });
  });

  it.each([
    ["5.2.2", "Token is invalid or expired", "Token is invalid or expired"],
    ["5.5.1", "Token is expired", "Token is invalid"],
  ])("%s: logout of an expired refresh token is %j, of a badly signed one %j", async (version, expired, bad) => {
    const s = await seed();
    const old = await mintToken(s, { nowMs: clock() - 7200_000, lifetime: 3600 });
    const forged = await mintToken(s, { nowMs: clock(), secret: WRONG_SECRET });
    expect(await logout(old, version)).toEqual({ status: 401, body: { detail: expired, code: "token_not_valid" } });
    expect(await logout(forged, version)).toEqual({ status: 401, body: { detail: bad, code: "token_not_valid" } });
  });

  it("a token expired and badly signed is invalid, not expired: the signature is checked first", async () => {
    const s = await seed();
    const both = await mintToken(s, {
      type: "access",
      nowMs: clock() - 7200_000,
      lifetime: 3600,
      secret: WRONG_SECRET,
    });
    expect(await status(s, both, "5.5.1")).toEqual({ status: 403, message: "Token is invalid" });
  });

  it("the wording follows the version alone: a simplejwt setting the views cannot honour changes nothing here", async () => {
    const s = await seed();
    const forged = await mintToken(s, { type: "access", nowMs: clock(), secret: WRONG_SECRET });
    const response = await call(
      target,
      `/api/membership_status/${s.orgName}/`,
      { headers: { Authorization: `Bearer ${forged}` } },
      { SIMPLE_JWT_VERSION: "5.5.1", JTI_CLAIM: "exp" },
    );
    expect(response.status).toBe(403);
    expect((await response.json<{ messages: { message: string }[] }>()).messages[0]!.message).toBe("Token is invalid");
  });
});
