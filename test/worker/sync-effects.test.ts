/**
 * Each row of issue 16's table as a delivery from the origin, followed by what the edge's
 * login and refresh answer after it. The logins run on the test password work (real PBKDF2 at
 * 1000 iterations, test/support/harness.ts), the origin's hashes written at that count: these
 * tests are about the delivery, not the hash (the receiver stores hashes as sent).
 */
import { describe, expect, it } from "vitest";
import { userKey } from "../../src/storage/kv/ended-keys";
import {
  call,
  env,
  manualClock,
  mintToken,
  postJson,
  QUICK_HASH,
  quickApp,
  quickPasswords,
  unique,
  vectors,
} from "../support/harness";
import { deleted, deliver, membershipRecord, orgRecord, userRecord } from "../support/sync";

const clock = manualClock(Date.now());
const worker = quickApp({ clock });
const PASSWORD = vectors.django_password_hashes.password;
const HASH = QUICK_HASH;
let nextUser = 70_000;

const send = async (records: unknown[]) => {
  const response = await deliver(worker, clock(), { records });
  expect(response.status).toBe(200);
};
const login = (username: string, password: string, org_name: string) =>
  postJson(worker, "/api/org_token/", { username, password, org_name });
const refresh = async (w: { userId: number; userName: string; orgName: string }) =>
  postJson(worker, "/api/org_token/refresh/", { refresh: await mintToken(w, { nowMs: clock() - 5000 }) });

async function world({ active = true, password = HASH }: { active?: boolean; password?: string | null } = {}) {
  nextUser += 1;
  const w = {
    userId: nextUser,
    userName: unique("u"),
    orgUuid: crypto.randomUUID(),
    orgName: unique("Org"),
    memberUuid: crypto.randomUUID(),
  };
  await send([
    userRecord(w.userId, { username: w.userName, password }),
    orgRecord(w.orgUuid, w.orgName),
    membershipRecord(w.memberUuid, { user: w.userId, org: w.orgUuid, active }),
  ]);
  return w;
}

describe("issue 16's table, at the edge after the delivery", () => {
  it("an org admin deactivates a member: refresh answers {active: false}, login the inactive 403", async () => {
    const w = await world();
    expect((await refresh(w)).status).toBe(200);
    await send([membershipRecord(w.memberUuid, { user: w.userId, org: w.orgUuid, active: false })]);
    const response = await refresh(w);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ active: false });
    const refused = await login(w.userName, PASSWORD, w.orgName);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ detail: `${w.userName} is NOT an active Member of ${w.orgName}` });
  });

  it.each([
    ["cancelled (deleted)", (w: { memberUuid: string }) => deleted("membership", w.memberUuid)],
    [
      "its user set NULL",
      (w: { memberUuid: string; orgUuid: string }) =>
        membershipRecord(w.memberUuid, { user: null, org: w.orgUuid, active: true }),
    ],
  ])("a membership %s: no longer a member", async (_name, record) => {
    const w = await world();
    await send([record(w)]);
    const response = await refresh(w);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${w.userName} is NOT a member of ${w.orgName}` });
  });

  it("a member approved, an organization created with its owner: login gives a pair", async () => {
    const w = await world({ active: false });
    expect((await login(w.userName, PASSWORD, w.orgName)).status).toBe(403);
    await send([membershipRecord(w.memberUuid, { user: w.userId, org: w.orgUuid, active: true })]);
    expect((await login(w.userName, PASSWORD, w.orgName)).status).toBe(200);

    const orgUuid = crypto.randomUUID();
    const orgName = unique("NewOrg");
    expect((await login(w.userName, PASSWORD, orgName)).status).toBe(403); // unknown organization
    await send([
      orgRecord(orgUuid, orgName),
      membershipRecord(crypto.randomUUID(), { user: w.userId, org: orgUuid, active: true }),
    ]);
    expect((await login(w.userName, PASSWORD, orgName)).status).toBe(200);
  });

  it("a password changed: the old one is refused at login, the new one accepted", async () => {
    const w = await world();
    const next = "a new password for the edge 42";
    await send([
      userRecord(
        w.userId,
        { username: w.userName, password: await quickPasswords.hash(next) },
        { password_changed: true },
      ),
    ]);
    const old = await login(w.userName, PASSWORD, w.orgName);
    expect(old.status).toBe(401);
    expect(await old.json()).toEqual({ detail: "No active account found with the given credentials" });
    expect((await login(w.userName, next, w.orgName)).status).toBe(200);
  });

  it("a password changed ends the user's sessions: the refresh token and the access token issued before it are refused, at D1 and through KV", async () => {
    const w = await world();
    const before = { nowMs: clock() - 5000 };
    const refreshToken = await mintToken(w, before);
    const accessToken = await mintToken(w, { ...before, type: "access" });
    await send([userRecord(w.userId, { username: w.userName, password: HASH }, { password_changed: true })]);
    const refused = await postJson(worker, "/api/org_token/refresh/", { refresh: refreshToken });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
    const status = await call(worker, `/api/membership_status/${w.orgName}/`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    expect(status.status).toBe(403);
    expect((await status.json<{ messages: { message: string }[] }>()).messages[0]?.message).toBe(
      "Token is blacklisted",
    );
    // Written to the edge blacklist after the response: the value is the revocation's second.
    expect(Number(await env.BLACKLIST.get(userKey(w.userId)))).toBe(clock());
  });

  it("a username changed: login under the new name works, under the old one not", async () => {
    const w = await world();
    const renamed = unique("renamed");
    await send([userRecord(w.userId, { username: renamed, password: HASH })]);
    expect((await login(renamed, PASSWORD, w.orgName)).status).toBe(200);
    expect((await login(w.userName, PASSWORD, w.orgName)).status).toBe(401);
  });

  it("an admin disables a user: the sessions it had end (blacklisted), a later token gets User is inactive", async () => {
    const w = await world();
    await send([userRecord(w.userId, { username: w.userName, password: HASH, is_active: false })]);
    const response = await refresh(w);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
    const later = await postJson(worker, "/api/org_token/refresh/", {
      refresh: await mintToken(w, { nowMs: clock() + 1000 }),
    });
    expect(later.status).toBe(403);
    expect(await later.json()).toEqual({ detail: "User is inactive", code: "user_inactive" });
  });

  it("an organization renamed: the old name is an unknown organization, the new one logs in", async () => {
    const w = await world();
    const renamed = unique("Renamed");
    await send([orgRecord(w.orgUuid, renamed)]);
    const response = await refresh(w);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${w.orgName} is NOT a valid organization name` });
    expect((await login(w.userName, PASSWORD, renamed)).status).toBe(200);
  });

  it("an organization deleted: unknown organization", async () => {
    const w = await world();
    await send([deleted("organization", w.orgUuid)]);
    const response = await refresh(w);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${w.orgName} is NOT a valid organization name` });
  });

  it("a user deleted: not a member any more", async () => {
    const w = await world();
    await send([deleted("user", w.userId)]);
    const response = await refresh(w);
    expect(response.status).toBe(403);
    expect((await login(w.userName, PASSWORD, w.orgName)).status).toBe(401);
  });
});
