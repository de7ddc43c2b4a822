/**
 * The origin as the oracle of the edge for a project of its own (issue 25's user-shaped
 * parts): the example's custom-user variant (examples/simplejwt-project, EXAMPLE_CUSTOM_USER=1:
 * accounts.User named in tokens by its UUID, USER_ID_FIELD = "uuid"; a TOKEN_OBTAIN_SERIALIZER
 * adding `name`, `email` and `staff` from the user's fields, declared in ORG_TOKEN_EDGE["CLAIMS"]),
 * with rotation and the blacklist on. The edge is configured and filled only through the
 * origin's two commands; the same requests go to both, and the answers compare as the stock
 * oracle compares them (status, body keys in order, tokens by their claims: describeToken), and
 * the tokens' claims in the same order. Tokens cross: the origin's protected view takes the
 * edge's access token, the edge refreshes the origin's refresh token. Then the `uuid-pk`
 * variant (uuid_accounts.User keyed by a UUID, USER_ID_FIELD "id"): the same comparisons, and
 * changes made at the origin carried to the edge by the sync under the UUID keys.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalWorker, seedDatabase, startWorker } from "./support/local-worker";
import {
  decode,
  describeToken,
  EDGE_EXTRA_CLAIMS,
  type EdgeVars,
  edgeVarsFromOrigin,
  exampleEnv,
  manage,
  type Origin,
  reconcile,
  startOrigin,
} from "./support/simplejwt";

const SIGNING_KEY = "oracle-custom-user-signing-key-long-enough-0123456789";
const SYNC_SECRET = "oracle-custom-user-sync-secret-long-enough-0123456789";
const PASSWORD = { alice: "alice's password 1", bob: "bob's password 2" };
const LIFETIMES = { access: 300, refresh: 86_400 };
const P = {
  obtain: "/api/token/",
  refresh: "/api/token/refresh/",
  verify: "/api/token/verify/",
  whoami: "/api/whoami/",
};
/** The origin has no login throttle; the edge's is not under test. */
const EDGE_ONLY_VARS = { LOGIN_PAIR_FAILURE_LIMIT: "1000000", LOGIN_USER_FAILURE_LIMIT: "1000000" };

const now = () => Math.floor(Date.now() / 1000);

interface Answer {
  status: number;
  bodyKeys: string[];
  body: unknown;
  /** Each token's claim names in order, the edge's own left out. */
  order: Record<string, string[]>;
  tokens: Record<string, string>;
}

async function post(url: string, path: string, json: unknown): Promise<Answer> {
  const presented = decode((json as Record<string, unknown>).refresh ?? (json as Record<string, unknown>).token);
  const sentAt = now();
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(json),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await response.json()) as Record<string, unknown>;
  const answeredAt = now();
  const tokens: Record<string, string> = {};
  const order: Record<string, string[]> = {};
  const described = Object.fromEntries(
    Object.entries(body).map(([name, value]) => {
      if ((name !== "access" && name !== "refresh") || typeof value !== "string") return [name, value];
      tokens[name] = value;
      order[name] = Object.keys(decode(value)?.payload ?? {}).filter((claim) => !EDGE_EXTRA_CLAIMS.includes(claim));
      const context = { sentAt, answeredAt, lifetimes: LIFETIMES, presented: presented?.payload, key: SIGNING_KEY };
      return [name, describeToken(value, context)];
    }),
  );
  return { status: response.status, bodyKeys: Object.keys(body), body: described, order, tokens };
}

/** The two answers equal on what could be told (an iat both now and the presented token's: either). */
function expectSame(edge: Answer, origin: Answer) {
  const strip = ({ tokens: _, ...rest }: Answer) => rest;
  const reference = reconcile(strip(edge), strip(origin));
  expect(reconcile(reference, strip(edge))).toEqual(reference);
}

/** One variant of the example at the origin and the edge, configured and filled by the origin's two commands. */
interface Sides<U> {
  dir?: string;
  env?: NodeJS.ProcessEnv;
  origin?: Origin;
  edge?: LocalWorker;
  edgeVars?: EdgeVars;
  users?: U;
}

/**
 * The variant `customUser` (rotation on) migrated, its users made by `usersScript` (Python
 * printing them as JSON), the origin started, the edge started on `org_token_edge_config`'s
 * vars and filled by `org_token_edge_sync --full`; `sides` filled as it goes, so a failure
 * part way leaves what started to `tearDown`.
 */
async function setUp<U>(sides: Sides<U>, customUser: string, usersScript: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `simplejwt-oracle-${customUser}-`));
  sides.dir = dir;
  const env = exampleEnv({
    EXAMPLE_CUSTOM_USER: customUser,
    SIMPLE_JWT_ROTATE: "1",
    DJANGO_SQLITE_PATH: join(dir, "origin.sqlite3"),
    DJANGO_SECRET_KEY: SIGNING_KEY,
    ORG_TOKEN_EDGE_SECRET: SYNC_SECRET,
    ORG_TOKEN_EDGE_DELIVER_ON_COMMIT: "0",
  });
  sides.env = env;
  await manage(["migrate", "--noinput", "-v", "0"], env);
  sides.users = JSON.parse(await manage(["shell", "-c", usersScript], env));
  const stateDir = join(dir, "edge");
  const persistTo = join(stateDir, "state");
  const started = await Promise.allSettled([
    startOrigin(env),
    edgeVarsFromOrigin(env),
    seedDatabase(persistTo, stateDir, "SELECT 1;"),
  ]);
  if (started[0].status === "fulfilled") sides.origin = started[0].value;
  for (const result of started) if (result.status === "rejected") throw result.reason;
  sides.edgeVars = (started[1] as PromiseFulfilledResult<EdgeVars>).value;
  sides.edge = await startWorker({ persistTo, stateDir, vars: { ...sides.edgeVars.vars, ...EDGE_ONLY_VARS } });
  await manage(["org_token_edge_sync", "--full"], { ...env, ORG_TOKEN_EDGE_URL: sides.edge.url });
}

async function tearDown(sides: Sides<unknown>): Promise<void> {
  await Promise.all([sides.origin?.stop(), sides.edge?.stop()]);
  if (sides.dir) rmSync(sides.dir, { recursive: true, force: true });
}

describe("the example's custom-user variant: USER_ID_FIELD uuid, custom claims (rotation and blacklist on)", () => {
  const sides: Sides<{ alice: { id: number; uuid: string }; bob: { id: number; uuid: string } }> = {};
  const O = () => sides.origin!.url;
  const E = () => sides.edge!.url;

  beforeAll(
    () =>
      setUp(
        sides,
        "1",
        `import json
from django.contrib.auth import get_user_model
User = get_user_model()
alice = User.objects.create_user("alice", email="alice@example.org", first_name="Alice Zoë",
                                 password=${JSON.stringify(PASSWORD.alice)}, is_staff=True)
bob = User.objects.create_user("bob", password=${JSON.stringify(PASSWORD.bob)}, is_active=False)
print(json.dumps({u.username: {"id": u.pk, "uuid": str(u.uuid)} for u in (alice, bob)}))`,
      ),
    120_000,
  );
  afterAll(() => tearDown(sides));

  it("the edge's vars from the origin: USER_ID_FIELD, its type, and the claims in order", () => {
    expect(sides.edgeVars!.vars).toMatchObject({
      USER_ID_FIELD: "uuid",
      USER_ID_FIELD_TYPE: "uuid",
      TOKEN_CLAIMS: "name:first_name,email:email,staff:is_staff",
    });
  });

  it("obtain: the same pair, named by the UUID, the claims after simplejwt's in the same order", async () => {
    const credentials = { username: "alice", password: PASSWORD.alice };
    const [atOrigin, atEdge] = [await post(O(), P.obtain, credentials), await post(E(), P.obtain, credentials)];
    expect(atOrigin.status).toBe(200);
    expect(decode(atOrigin.tokens.refresh)?.payload).toMatchObject({
      user_id: sides.users!.alice.uuid,
      name: "Alice Zoë",
      email: "alice@example.org",
      staff: true,
    });
    expect(atOrigin.order.refresh).toEqual(["token_type", "exp", "iat", "jti", "user_id", "name", "email", "staff"]);
    expectSame(atEdge, atOrigin);
    const bob = { username: "bob", password: PASSWORD.bob };
    const [bobAtOrigin, bobAtEdge] = [await post(O(), P.obtain, bob), await post(E(), P.obtain, bob)];
    expect(bobAtOrigin.status).toBe(401);
    expectSame(bobAtEdge, bobAtOrigin);
  });

  it("refresh (rotating) keeps the claims; verify; each side's tokens at the other", async () => {
    const credentials = { username: "alice", password: PASSWORD.alice };
    const fromOrigin = (await post(O(), P.obtain, credentials)).tokens;
    const fromEdge = (await post(E(), P.obtain, credentials)).tokens;
    // Each side refreshes its own, then the edge refreshes one of the origin's.
    const [refreshedAtOrigin, refreshedAtEdge] = [
      await post(O(), P.refresh, { refresh: fromOrigin.refresh }),
      await post(E(), P.refresh, { refresh: fromEdge.refresh }),
    ];
    expect(refreshedAtOrigin.status).toBe(200);
    expect(decode(refreshedAtOrigin.tokens.refresh)?.payload).toMatchObject({ name: "Alice Zoë", staff: true });
    expectSame(refreshedAtEdge, refreshedAtOrigin);
    const other = (await post(O(), P.obtain, credentials)).tokens;
    expectSame(await post(E(), P.refresh, { refresh: other.refresh }), refreshedAtOrigin);
    // Verify: each side's token at both.
    for (const token of [fromOrigin.access, fromEdge.access]) {
      expectSame(await post(E(), P.verify, { token }), await post(O(), P.verify, { token }));
    }
    // The origin's protected view (JWTAuthentication by the UUID) takes the edge's access tokens.
    for (const access of [fromEdge.access, refreshedAtEdge.tokens.access!]) {
      const whoami = await fetch(`${O()}${P.whoami}`, { headers: { Authorization: `Bearer ${access}` } });
      expect([whoami.status, await whoami.json()]).toEqual([200, { id: sides.users!.alice.id, username: "alice" }]);
    }
  });
});

describe("the example's UUID-key variant: a user model keyed by a UUID (USER_ID_FIELD id), rotation and blacklist on", () => {
  const sides: Sides<{ alice: string; bob: string }> = {};
  const O = () => sides.origin!.url;
  const E = () => sides.edge!.url;
  const sync = () => manage(["org_token_edge_sync"], { ...sides.env, ORG_TOKEN_EDGE_URL: E() });
  const shell = (code: string) => manage(["shell", "-c", code], sides.env!);

  beforeAll(
    () =>
      setUp(
        sides,
        "uuid-pk",
        `import json
from django.contrib.auth import get_user_model
User = get_user_model()
alice = User.objects.create_user("alice", password=${JSON.stringify(PASSWORD.alice)})
bob = User.objects.create_user("bob", password=${JSON.stringify(PASSWORD.bob)})
print(json.dumps({u.username: str(u.pk) for u in (alice, bob)}))`,
      ),
    120_000,
  );
  afterAll(() => tearDown(sides));

  it("the edge's vars from the origin: USER_ID_FIELD id of type uuid", () => {
    expect(sides.edgeVars!.vars).toMatchObject({ USER_ID_FIELD: "id", USER_ID_FIELD_TYPE: "uuid", TOKEN_CLAIMS: "" });
  });

  it("obtain, refresh (rotating), verify: the same answers, the user named by its UUID; tokens cross", async () => {
    const credentials = { username: "alice", password: PASSWORD.alice };
    const [atOrigin, atEdge] = [await post(O(), P.obtain, credentials), await post(E(), P.obtain, credentials)];
    expect(atOrigin.status).toBe(200);
    expect(decode(atOrigin.tokens.refresh)?.payload).toMatchObject({ user_id: sides.users!.alice });
    expectSame(atEdge, atOrigin);
    const [refreshedAtOrigin, refreshedAtEdge] = [
      await post(O(), P.refresh, { refresh: atOrigin.tokens.refresh }),
      await post(E(), P.refresh, { refresh: atEdge.tokens.refresh }),
    ];
    expect(refreshedAtOrigin.status).toBe(200);
    expectSame(refreshedAtEdge, refreshedAtOrigin);
    // The edge refreshes one of the origin's; both verify each other's access tokens.
    const other = (await post(O(), P.obtain, credentials)).tokens;
    expectSame(await post(E(), P.refresh, { refresh: other.refresh }), refreshedAtOrigin);
    for (const token of [atOrigin.tokens.access!, atEdge.tokens.access!]) {
      expectSame(await post(E(), P.verify, { token }), await post(O(), P.verify, { token }));
    }
    // The origin's protected view finds the user by the UUID in the edge's access tokens.
    for (const access of [atEdge.tokens.access!, refreshedAtEdge.tokens.access!]) {
      const whoami = await fetch(`${O()}${P.whoami}`, { headers: { Authorization: `Bearer ${access}` } });
      expect([whoami.status, await whoami.json()]).toEqual([200, { id: sides.users!.alice, username: "alice" }]);
    }
  });

  it("changes at the origin reach the edge by the sync: a deactivated user and a deleted one get no pair, at either", async () => {
    const bob = { username: "bob", password: PASSWORD.bob };
    expectSame(await post(E(), P.obtain, bob), await post(O(), P.obtain, bob));
    await shell(`from django.contrib.auth import get_user_model
User = get_user_model()
bob = User.objects.get(username="bob")
bob.is_active = False
bob.save()`);
    await sync();
    const [inactiveAtOrigin, inactiveAtEdge] = [await post(O(), P.obtain, bob), await post(E(), P.obtain, bob)];
    expect(inactiveAtOrigin.status).toBe(401);
    expectSame(inactiveAtEdge, inactiveAtOrigin);
    await shell(`from django.contrib.auth import get_user_model
get_user_model().objects.filter(username="bob").delete()`);
    await sync();
    const [goneAtOrigin, goneAtEdge] = [await post(O(), P.obtain, bob), await post(E(), P.obtain, bob)];
    expect(goneAtOrigin.status).toBe(401);
    expectSame(goneAtEdge, goneAtOrigin);
  });
});
