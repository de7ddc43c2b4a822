/**
 * Origin sync end to end: the Django test project (ps-web's model shapes, org_token_edge
 * installed, integrations/django) and the Worker under `wrangler dev`, together. Each row of
 * issue 16's table is made at the origin through the ORM; the app delivers it after commit
 * as in production (its background attempt, signed, to /api/org_token/sync/), and the edge's
 * login and refresh answer accordingly. Then `--full` removes what the origin does not have.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Driver, python, startDriver } from "../../scripts/lib/django";
import { type LocalWorker, seedDatabase, startWorker } from "./support/local-worker";

const SYNC_SECRET = "e2e-sync-secret-that-is-long-enough-0123456789";
const JWT_SECRET = "sync-e2e-jwt-secret-that-is-long-enough-0123";
const STRANGER = 900_001; // a user only the edge has: the full run removes it

let stateDir: string;
let worker: LocalWorker;
let origin: Driver;
let djangoEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "sync-e2e-"));
  const persistTo = join(stateDir, "state");
  await seedDatabase(
    persistTo,
    stateDir,
    `INSERT INTO users_user (id, username, password, is_active) VALUES (${STRANGER}, 'stranger', NULL, 1);`,
  );
  worker = await startWorker({
    persistTo,
    stateDir,
    vars: { JWT_SECRET_KEY: JWT_SECRET, SYNC_SECRET },
  });
  djangoEnv = {
    OTE_DB_PATH: join(stateDir, "origin.sqlite3"),
    OTE_URL: worker.url,
    OTE_SECRET: SYNC_SECRET,
    OTE_HASHERS: "testproject.hashers.FastPBKDF2PasswordHasher",
    OTE_LOG_LEVEL: "WARNING",
  };
  await python(["manage.py", "migrate", "--noinput", "-v", "0"], djangoEnv);
  origin = await startDriver(djangoEnv);
});

afterAll(async () => {
  await origin?.stop();
  await worker?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

interface Pair {
  access: string;
  refresh: string;
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${worker.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const login = (username: string, password: string, org_name: string) =>
  post("/api/org_token/", { username, password, org_name });
const refresh = (token: string) => post("/api/org_token/refresh/", { refresh: token });

/** A change at the origin, then until it is delivered. */
async function change<T = unknown>(code: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await origin.exec<T>(code, args);
  expect(await origin.settle(15), origin.stderr()).toBe(true);
  return result;
}

/** A refresh token of this user issued at `issuedAt` (unix seconds), signed as simplejwt signs one. */
function refreshTokenOf(w: { userId: number; username: string; org: string }, issuedAt: number): Promise<string> {
  return new SignJWT({
    token_type: "refresh",
    jti: randomBytes(16).toString("hex"),
    user_id: w.userId,
    org_name: w.org,
    user_name: w.username,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 3600)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

let counter = 0;
/** A user, an organization created with that user as owner and an active membership (as ps-web's init_new_org_memberships). */
async function world(password = "first password 123") {
  counter += 1;
  const names = { username: `member${counter}`, org: `Org${counter}`, password };
  const ids = await change<{ userId: number; orgId: string; membershipId: string }>(
    `with transaction.atomic():
    user = User.objects.create_user(args["username"], password=args["password"])
    org = OrgAccount.objects.create(name=args["org"], owner=user)
    membership = Membership.objects.create(user=user, org=org, active=True)
result = {"userId": user.pk, "orgId": str(org.pk), "membershipId": str(membership.pk)}`,
    names,
  );
  const pair = await login(names.username, password, names.org);
  expect(pair.status, JSON.stringify(pair.body)).toBe(200);
  return { ...names, ...ids, pair: pair.body as unknown as Pair };
}

describe("issue 16's table, made at the origin through the ORM, at the edge", () => {
  it("an organization created with its owner: login gives a pair (the world of every case)", async () => {
    const w = await world();
    expect(w.pair.access).toEqual(expect.any(String));
    expect((await refresh(w.pair.refresh)).status).toBe(200);
  });

  it("an org admin deactivates a member: refresh answers {active: false}; reactivated, login works again", async () => {
    const w = await world();
    await change(`m = Membership.objects.get(pk=args["m"]); m.active = False; m.save()`, { m: w.membershipId });
    expect(await refresh(w.pair.refresh)).toEqual({ status: 200, body: { active: false } });
    expect((await login(w.username, w.password, w.org)).status).toBe(403);
    await change(`m = Membership.objects.get(pk=args["m"]); m.active = True; m.save()`, { m: w.membershipId });
    expect((await login(w.username, w.password, w.org)).status).toBe(200);
  });

  it("a membership cancelled (deleted): not a member", async () => {
    const w = await world();
    await change(`Membership.objects.get(pk=args["m"]).delete()`, { m: w.membershipId });
    const answer = await refresh(w.pair.refresh);
    expect(answer).toEqual({ status: 403, body: { detail: `${w.username} is NOT a member of ${w.org}` } });
  });

  it("a member requests and is approved: refused while inactive, then login works", async () => {
    const w = await world();
    const bob = await change<string>(
      `bob = User.objects.create_user("bob", password="bob's password 1")
result = str(Membership.objects.create(user=bob, org=OrgAccount.objects.get(name=args["org"]), active=False).pk)`,
      { org: w.org },
    );
    expect((await login("bob", "bob's password 1", w.org)).status).toBe(403);
    await change(`m = Membership.objects.get(pk=args["m"]); m.active = True; m.save()`, { m: bob });
    expect((await login("bob", "bob's password 1", w.org)).status).toBe(200);
  });

  it("a password changed: the old one is refused, the new one works", async () => {
    const w = await world();
    await change(`u = User.objects.get(pk=args["u"]); u.set_password("second password 456"); u.save()`, {
      u: w.userId,
    });
    expect((await login(w.username, w.password, w.org)).status).toBe(401);
    expect((await login(w.username, "second password 456", w.org)).status).toBe(200);
  });

  // The receiver sets sessions_revoked_at to its clock's second; a session issued 10 s
  // before (signed here with the edge's secret, as simplejwt would) is from before it.
  it("a password changed: a session from before it is refused", async () => {
    const w = await world();
    const issuedAt = Math.floor(Date.now() / 1000) - 10;
    expect((await refresh(await refreshTokenOf(w, issuedAt))).status).toBe(200); // live, until the change
    const second = await refreshTokenOf(w, issuedAt);
    await change(`u = User.objects.get(pk=args["u"]); u.set_password("third password 789"); u.save()`, { u: w.userId });
    expect(await refresh(second)).toEqual({
      status: 403,
      body: { detail: "Token is blacklisted", code: "token_not_valid" },
    });
  });

  it("a username changed: the new name logs in, the old one not", async () => {
    const w = await world();
    await change(`u = User.objects.get(pk=args["u"]); u.username = args["name"]; u.save()`, {
      u: w.userId,
      name: `${w.username}-renamed`,
    });
    expect((await login(`${w.username}-renamed`, w.password, w.org)).status).toBe(200);
    expect((await login(w.username, w.password, w.org)).status).toBe(401);
  });

  // The deactivation ends the user's sessions (sessions_revoked_at, issue 23): the pair from
  // before it is blacklisted, not merely refused for an inactive user.
  it("an admin disables a user: the session is ended (refresh blacklisted), login refused", async () => {
    const w = await world();
    await change(`u = User.objects.get(pk=args["u"]); u.is_active = False; u.save()`, { u: w.userId });
    expect(await refresh(w.pair.refresh)).toEqual({
      status: 403,
      body: { detail: "Token is blacklisted", code: "token_not_valid" },
    });
    expect((await login(w.username, w.password, w.org)).status).toBe(401);
  });

  it("a user deleted (the membership's user SET_NULL, no signal): not a member, login refused", async () => {
    const w = await world();
    const keeper = await change<number>(`result = User.objects.create_user(args["name"], password=None).pk`, {
      name: `keeper${counter}`,
    });
    // The organization survives the delete (its owner is another user); the membership is nulled.
    await change(
      `OrgAccount.objects.filter(pk=args["o"]).update(owner_id=args["k"])
User.objects.get(pk=args["u"]).delete()
assert Membership.objects.get(pk=args["m"]).user_id is None`,
      { o: w.orgId, k: keeper, u: w.userId, m: w.membershipId },
    );
    expect((await refresh(w.pair.refresh)).status).toBe(403);
    expect((await login(w.username, w.password, w.org)).status).toBe(401);
  });

  it("an organization renamed: the old name is unknown, the new one logs in", async () => {
    const w = await world();
    await change(`o = OrgAccount.objects.get(pk=args["o"]); o.name = args["name"]; o.save()`, {
      o: w.orgId,
      name: `${w.org}-renamed`,
    });
    expect(await refresh(w.pair.refresh)).toEqual({
      status: 403,
      body: { detail: `${w.org} is NOT a valid organization name` },
    });
    expect((await login(w.username, w.password, `${w.org}-renamed`)).status).toBe(200);
  });

  it("an organization deleted (its memberships SET_NULL): unknown organization", async () => {
    const w = await world();
    await change(`OrgAccount.objects.get(pk=args["o"]).delete()`, { o: w.orgId });
    expect(await refresh(w.pair.refresh)).toEqual({
      status: 403,
      body: { detail: `${w.org} is NOT a valid organization name` },
    });
  });

  it("a GitHub account linked: delivered and accepted (nothing parked)", async () => {
    const w = await world();
    await change(
      `SocialAccount.objects.create(user_id=args["u"], provider="github", uid="583231", extra_data={"login": "octocat"})`,
      { u: w.userId },
    );
    expect(await origin.exec(`result = OutboxEntry.objects.count()`)).toBe(0);
  });

  it("--status: nothing pending, nothing failed, a last delivery", async () => {
    const status = JSON.parse(await python(["manage.py", "org_token_edge_sync", "--status", "--json"], djangoEnv));
    expect(status).toMatchObject({ pending: 0, failed: 0, consecutive_failures: 0, last_error: null });
    expect(status.last_success_at).toEqual(expect.any(String));
  });

  it("--full: the edge ends up equal to the origin (a row only the edge had is removed); again, nothing changes", async () => {
    const output = await python(["manage.py", "org_token_edge_sync", "--full"], djangoEnv);
    expect(output).toMatch(/the edge removed \{[^}]*"user": 1/);
    const again = await python(["manage.py", "org_token_edge_sync", "--full"], djangoEnv);
    expect(again).toMatch(/the edge removed \{\}|the edge removed \{("\w+": 0(, )?)*\}/);
    // What the origin has still logs in.
    const w = await world();
    expect((await login(w.username, w.password, w.org)).status).toBe(200);
  });
});
