/**
 * Issue 25's users beyond the integer primary key: USER_ID_FIELD naming a synced field
 * (users_user.simplejwt_id) of type integer, uuid or string, converted as Django's lookup
 * converts a token's value (the forms UUIDField.to_python takes or refuses); the id claim's
 * type per version (5.2.2: an int stays int; 5.5.1: str always); custom claims (TOKEN_CLAIMS)
 * written from the user's synced fields at obtain, carried by refresh and rotation, and on the
 * guard's claims; the sync bringing both fields.
 */
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { orgTokenApi, requireSimpleJwtToken, type SimpleJwtTokenVariables } from "../../src/api";
import type { Env } from "../../worker/env";
import { workerApiOptions } from "../../worker/env";
import {
  app,
  claimsOf,
  env,
  manualClock,
  mintToken,
  postJson,
  QUICK_HASH,
  quickApp,
  seed,
  unique,
} from "../support/harness";
import { mintSj, obtain, PASSWORD, PATHS, sjEnv } from "../support/simplejwt";
import { deliver, userRecord } from "../support/sync";

let ids = 900_000;
/** A user with its synced USER_ID_FIELD value and claim fields, as the sync writes them. */
async function seedUser({
  simplejwtId = null,
  claims = null,
  active = true,
}: {
  simplejwtId?: string | null;
  claims?: Record<string, unknown> | null;
  active?: boolean;
} = {}) {
  ids += 1 + Math.floor(Math.random() * 100);
  const userName = unique("sju");
  await env.DB.prepare(
    "INSERT INTO users_user (id, username, password, is_active, simplejwt_id, claims) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  )
    .bind(ids, userName, QUICK_HASH, active ? 1 : 0, simplejwtId, claims === null ? null : JSON.stringify(claims))
    .run();
  return { userId: ids, userName };
}

/** A fresh UUID in Django's form (lower case, hyphenated). */
const newUuid = () => crypto.randomUUID();

function guardedHost() {
  const tokens = orgTokenApi(workerApiOptions);
  const host = new Hono<{ Bindings: Env; Variables: SimpleJwtTokenVariables }>();
  host.get("/private", requireSimpleJwtToken(tokens), (c) => c.json(c.var.simpleJwtToken));
  return host;
}

async function guarded(token: string, settings: Partial<Env>) {
  const response = await guardedHost().request(
    "/private",
    { headers: { Authorization: `Bearer ${token}` } },
    { ...env, ...settings },
  );
  return { status: response.status, body: await response.json<Record<string, unknown>>() };
}

const USER_NOT_FOUND = { detail: "User not found", code: "user_not_found" };

const UUID_FIELD = (version: string) =>
  sjEnv({ SIMPLE_JWT_VERSION: version, USER_ID_FIELD: "uuid", USER_ID_FIELD_TYPE: "uuid" });

describe("USER_ID_FIELD of type uuid (UUIDField)", () => {
  it.each(["5.2.2", "5.5.1"])("%s: obtain writes the UUID as text; the guard finds its user", async (version) => {
    const uuid = newUuid();
    const user = await seedUser({ simplejwtId: uuid });
    const settings = UUID_FIELD(version);
    const { refresh, access } = await obtain(quickApp(), user.userName, settings);
    expect(claimsOf(refresh).user_id).toBe(uuid);
    expect(claimsOf(access).user_id).toBe(uuid);
    const answer = await guarded(access, settings);
    expect(answer.status).toBe(200);
    expect(answer.body.userId).toBe(user.userId);
  });

  it("the forms UUIDField.to_python takes find the user; the ones it raises on are User not found", async () => {
    const uuid = "00fc2e9a-3b4d-4e5f-8a7b-0c1d2e3f4a5b";
    await env.DB.prepare("DELETE FROM users_user WHERE simplejwt_id = ?1").bind(uuid).run();
    const user = await seedUser({ simplejwtId: uuid });
    const settings = UUID_FIELD("5.5.1");
    const hex = uuid.replaceAll("-", "");
    const found = [
      uuid,
      uuid.toUpperCase(),
      hex,
      `{${uuid}}`,
      `{{${uuid}}}`,
      `urn:uuid:${uuid}`,
      `+${hex.slice(1)}`, // int(…, 16) takes a sign: the leading 0 given as +
      `0x${hex.slice(2)}`, // and a 0x prefix: the leading 00 given as 0x
      `${hex.slice(0, 4)}_${hex.slice(5)}`, // an underscore between digits: 32 characters, one digit fewer
    ];
    // The last one is another UUID (00fc_e9a…, read as 000fce9a…): it names nobody.
    for (const form of found.slice(0, -1)) {
      const access = await mintSj({ user_id: form }, { type: "access", lifetime: 300 });
      const answer = await guarded(access, settings);
      expect([form, answer.status, answer.body.userId]).toEqual([form, 200, user.userId]);
    }
    const refused: unknown[] = [
      "abc",
      `${uuid}0`,
      `-${hex.slice(1)}`,
      1.5,
      -1,
      [uuid],
      { id: uuid },
      null,
      found.at(-1),
    ];
    for (const value of refused) {
      const access = await mintSj({ user_id: value }, { type: "access", lifetime: 300 });
      const answer = await guarded(access, settings);
      expect([value, answer.status, answer.body]).toEqual([value, 401, USER_NOT_FOUND]);
    }
  });

  it("an integer is UUID(int=…): 5 names 00000000-0000-0000-0000-000000000005", async () => {
    const uuid = "00000000-0000-0000-0000-000000000005";
    await env.DB.prepare("DELETE FROM users_user WHERE simplejwt_id = ?1").bind(uuid).run();
    const user = await seedUser({ simplejwtId: uuid });
    const settings = UUID_FIELD("5.2.2");
    for (const value of [5, "5".padStart(32, "0")]) {
      const access = await mintSj({ user_id: value }, { type: "access", lifetime: 300 });
      expect((await guarded(access, settings)).body.userId).toBe(user.userId);
    }
  });

  it("5.5.1 refresh: the user looked up by the converted value; inactive or unknown is No active account", async () => {
    const settings = sjEnv({
      SIMPLE_JWT_VERSION: "5.5.1",
      USER_ID_FIELD: "uuid",
      USER_ID_FIELD_TYPE: "uuid",
      ROTATE_REFRESH_TOKENS: "true",
      BLACKLIST_AFTER_ROTATION: "true",
    });
    const uuid = newUuid();
    const user = await seedUser({ simplejwtId: uuid });
    const upper = await mintSj({ user_id: uuid.toUpperCase() });
    const ok = await postJson(quickApp(), PATHS.refresh, { refresh: upper }, settings);
    expect(ok.status).toBe(200);
    const rotated = (await ok.json<{ refresh: string }>()).refresh;
    expect(claimsOf(rotated).user_id).toBe(uuid.toUpperCase()); // rotation keeps the claim as it came

    await env.DB.prepare("UPDATE users_user SET is_active = 0 WHERE id = ?1").bind(user.userId).run();
    const inactive = await postJson(quickApp(), PATHS.refresh, { refresh: rotated }, settings);
    expect(inactive.status).toBe(401);
    expect(await inactive.json()).toEqual({ detail: "No active account found for the given token." });
    for (const value of [newUuid(), "not-a-uuid"]) {
      const unknown = await postJson(
        quickApp(),
        PATHS.refresh,
        { refresh: await mintSj({ user_id: value }) },
        settings,
      );
      expect(unknown.status).toBe(401);
    }
  });

  it("a user's ended sessions (KV, by its id) refuse its token found by UUID", async () => {
    const uuid = newUuid();
    const user = await seedUser({ simplejwtId: uuid });
    const settings = UUID_FIELD("5.2.2");
    const { access } = await obtain(quickApp(), user.userName, settings);
    expect((await guarded(access, settings)).status).toBe(200);
    await env.BLACKLIST.put(`ended:user:${user.userId}`, String(claimsOf(access).iat_ms), { expirationTtl: 600 });
    const answer = await guarded(access, settings);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ messages: [{ message: "Token is blacklisted" }] });
  });
});

describe("USER_ID_FIELD of type string or integer (another field than the key)", () => {
  it("string (USER_ID_FIELD=email, USER_ID_CLAIM=sub): text in both versions; str() of an int finds its text", async () => {
    const email = `${unique("e")}@example.test`;
    const user = await seedUser({ simplejwtId: email });
    for (const version of ["5.2.2", "5.5.1"]) {
      const settings = sjEnv({
        SIMPLE_JWT_VERSION: version,
        USER_ID_FIELD: "email",
        USER_ID_FIELD_TYPE: "string",
        USER_ID_CLAIM: "sub",
      });
      const { access } = await obtain(quickApp(), user.userName, settings);
      expect(claimsOf(access).sub).toBe(email);
      expect((await guarded(access, settings)).body.userId).toBe(user.userId);
      // CharField compares exactly: another case is another value.
      const upper = await mintSj({ sub: email.toUpperCase() }, { type: "access", lifetime: 300 });
      expect((await guarded(upper, settings)).body).toEqual(USER_NOT_FOUND);
    }
    const number = String(800_000_000 + Math.floor(Math.random() * 1e6));
    const numbered = await seedUser({ simplejwtId: number });
    const settings = sjEnv({ USER_ID_FIELD: "code", USER_ID_FIELD_TYPE: "string" });
    const access = await mintSj({ user_id: Number(number) }, { type: "access", lifetime: 300 });
    expect((await guarded(access, settings)).body.userId).toBe(numbered.userId);
  });

  it("integer: an int through 5.5.0, a string in 5.5.1; int() of the claim finds it", async () => {
    const number = String(700_000_000 + Math.floor(Math.random() * 1e6));
    const user = await seedUser({ simplejwtId: number });
    const field = { USER_ID_FIELD: "employee_number", USER_ID_FIELD_TYPE: "integer" } as const;
    const old = sjEnv({ SIMPLE_JWT_VERSION: "5.2.2", ...field });
    expect(claimsOf((await obtain(quickApp(), user.userName, old)).access).user_id).toBe(Number(number));
    const v551 = sjEnv({ SIMPLE_JWT_VERSION: "5.5.1", ...field });
    const { access } = await obtain(quickApp(), user.userName, v551);
    expect(claimsOf(access).user_id).toBe(number);
    expect((await guarded(access, v551)).body.userId).toBe(user.userId);
    const spaced = await mintSj({ user_id: ` +${number} ` }, { type: "access", lifetime: 300 });
    expect((await guarded(spaced, v551)).body.userId).toBe(user.userId);
  });

  it("the primary key (USER_ID_FIELD id): an int through 5.5.0, a string in 5.5.1", async () => {
    const user = await seedUser();
    const old = await obtain(quickApp(), user.userName, sjEnv({ SIMPLE_JWT_VERSION: "5.2.2" }));
    expect(claimsOf(old.refresh).user_id).toBe(user.userId);
    const now = await obtain(quickApp(), user.userName, sjEnv({ SIMPLE_JWT_VERSION: "5.5.1" }));
    expect(claimsOf(now.refresh).user_id).toBe(String(user.userId));
  });

  it("a user the sync has not brought its USER_ID_FIELD value for: the 500, logged", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const user = await seedUser();
      const settings = UUID_FIELD("5.2.2");
      const response = await postJson(
        quickApp(),
        PATHS.obtain,
        { username: user.userName, password: PASSWORD },
        settings,
      );
      expect(response.status).toBe(500);
      expect(errors.mock.calls.map(String).join("\n")).toContain("simplejwt_id");
    } finally {
      errors.mockRestore();
    }
  });
});

const CLAIMS = sjEnv({ SIMPLE_JWT_VERSION: "5.2.2", TOKEN_CLAIMS: "name:first_name, email:email,staff:is_staff" });

describe("custom claims (TOKEN_CLAIMS)", () => {
  it("obtain writes them after the user id, in their order, before aud and iss; its access token copies them", async () => {
    const fields = { first_name: "Zoë", email: "z@example.test", is_staff: false, ignored: 1 };
    const user = await seedUser({ claims: fields });
    const settings = { ...CLAIMS, AUDIENCE: "aud1" };
    const { refresh, access } = await obtain(quickApp(), user.userName, settings);
    expect(Object.keys(claimsOf(refresh))).toEqual([
      "token_type",
      "exp",
      "iat",
      "jti",
      "user_id",
      "name",
      "email",
      "staff",
      "aud",
      "fam",
      "iat_ms",
    ]);
    expect(claimsOf(refresh)).toMatchObject({ name: "Zoë", email: "z@example.test", staff: false });
    expect(claimsOf(access)).toMatchObject({ name: "Zoë", email: "z@example.test", staff: false, aud: "aud1" });
    expect(claimsOf(access)).not.toHaveProperty("ignored");
  });

  it("values as JSON: null, numbers and nested values pass through", async () => {
    const settings = sjEnv({ TOKEN_CLAIMS: "a:x,b:y,c:z" });
    const user = await seedUser({ claims: { x: null, y: 42, z: { k: [1, "two"] } } });
    const { access } = await obtain(quickApp(), user.userName, settings);
    expect(claimsOf(access)).toMatchObject({ a: null, b: 42, c: { k: [1, "two"] } });
  });

  it("refresh copies them to the access token, and rotation keeps them; the guard's claims carry them", async () => {
    const settings = { ...CLAIMS, ROTATE_REFRESH_TOKENS: "true", BLACKLIST_AFTER_ROTATION: "true" };
    const user = await seedUser({ claims: { first_name: "Ann", email: "ann@example.test", is_staff: true } });
    const { refresh } = await obtain(quickApp(), user.userName, settings);
    const answer = await postJson(quickApp(), PATHS.refresh, { refresh }, settings);
    expect(answer.status).toBe(200);
    const next = await answer.json<{ access: string; refresh: string }>();
    const expected = { name: "Ann", email: "ann@example.test", staff: true };
    expect(claimsOf(next.access)).toMatchObject(expected);
    expect(claimsOf(next.refresh)).toMatchObject(expected);
    const guard = await guarded(next.access, settings);
    expect(guard.status).toBe(200);
    expect(guard.body.claims).toMatchObject(expected);
  });

  it("a claim the origin's token carries but the edge does not know is copied too (an origin-issued refresh)", async () => {
    const user = await seedUser();
    const origin = await mintSj({ user_id: user.userId, plan: "gold" });
    const answer = await postJson(quickApp(), PATHS.refresh, { refresh: origin }, sjEnv());
    expect(claimsOf((await answer.json<{ access: string }>()).access).plan).toBe("gold");
  });

  it("a user the sync has not brought a declared field for: the 500, logged", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const user = await seedUser({ claims: { first_name: "Bo" } });
      const response = await postJson(
        quickApp(),
        PATHS.obtain,
        { username: user.userName, password: PASSWORD },
        CLAIMS,
      );
      expect(response.status).toBe(500);
      expect(errors.mock.calls.map(String).join("\n")).toContain("claims.email");
    } finally {
      errors.mockRestore();
    }
  });

  it.each(["user_id", "jti", "token_type", "exp", "fam", "iat_ms", "aud"])(
    "TOKEN_CLAIMS naming %s, a claim simplejwt or the edge writes: the contract's 500",
    async (claim) => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
      try {
        const settings = sjEnv({ TOKEN_CLAIMS: `${claim}:first_name` });
        const response = await postJson(quickApp(), PATHS.obtain, { username: "a", password: "b" }, settings);
        expect(response.status).toBe(500);
        expect(errors.mock.calls.map(String).join("\n")).toContain("TOKEN_CLAIMS");
      } finally {
        errors.mockRestore();
      }
    },
  );
});

describe("the sync brings simplejwt_id and claims", () => {
  const clock = manualClock();
  const worker = app({ clock });

  async function row(id: number) {
    return env.DB.prepare("SELECT simplejwt_id, claims FROM users_user WHERE id = ?1").bind(id).first();
  }

  it("a user's simplejwt_id and claim fields are written, changed and cleared", async () => {
    const id = 960_001 + Math.floor(Math.random() * 1000);
    const uuid = newUuid();
    const claims = { first_name: "Zoë", email: "z@x.test", is_staff: false, n: null };
    const first = await deliver(worker, clock(), {
      records: [userRecord(id, { username: unique("s"), simplejwt_id: uuid, claims })],
    });
    expect(first.status).toBe(200);
    expect(await row(id)).toEqual({ simplejwt_id: uuid, claims: JSON.stringify(claims) });
    await deliver(worker, clock(), { records: [userRecord(id, { username: unique("s") })] });
    expect(await row(id)).toEqual({ simplejwt_id: null, claims: null });
  });

  it("an empty simplejwt_id (a unique CharField may hold it once) is written as it is", async () => {
    const id = 965_001 + Math.floor(Math.random() * 1000);
    const answer = await deliver(worker, clock(), {
      records: [userRecord(id, { username: unique("s"), simplejwt_id: "" })],
    });
    expect(answer.status).toBe(200);
    expect((await row(id))?.simplejwt_id).toBe("");
  });

  it("an id the origin gives to another user is taken from its old holder here", async () => {
    const [a, b] = [970_001 + Math.floor(Math.random() * 1000), 980_001 + Math.floor(Math.random() * 1000)];
    const uuid = newUuid();
    await deliver(worker, clock(), { records: [userRecord(a, { username: unique("s"), simplejwt_id: uuid })] });
    const moved = await deliver(worker, clock(), {
      records: [userRecord(b, { username: unique("s"), simplejwt_id: uuid })],
    });
    expect(moved.status).toBe(200);
    expect((await row(a))?.simplejwt_id).toBeNull();
    expect((await row(b))?.simplejwt_id).toBe(uuid);
  });

  it.each([
    [{ simplejwt_id: 5 }, "fields.simplejwt_id must be a string"],
    [{ claims: ["x"] }, "fields.claims must be an object"],
    [{ claims: { x: "\ud800" } }, "fields.claims.x holds a lone surrogate"],
  ])("a bad record (%j) is a 400 naming it", async (fields, detail) => {
    const record = userRecord(990_001, { username: unique("s") });
    const answer = await deliver(worker, clock(), {
      records: [{ ...record, fields: { ...record.fields, ...fields } }],
    });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(await answer.json())).toContain(detail);
  });

  it("two records of one delivery holding one simplejwt_id: a 409 naming it", async () => {
    const uuid = newUuid();
    const answer = await deliver(worker, clock(), {
      records: [
        userRecord(991_001, { username: unique("s"), simplejwt_id: uuid }),
        userRecord(991_002, { username: unique("s"), simplejwt_id: uuid }),
      ],
    });
    expect(answer.status).toBe(409);
    expect(JSON.stringify(await answer.json())).toContain("simplejwt_id already held by record 0");
  });
});

describe("the org-token API under a USER_ID_FIELD that is not the primary key", () => {
  // Its tokens' user_id is a primary key: at simplejwt's views and guard it would name the
  // user whose USER_ID_FIELD equals that number.
  const FIELD = sjEnv({ USER_ID_FIELD: "employee_no", USER_ID_FIELD_TYPE: "integer" });

  it("issues no token: login and refresh answer the misconfiguration 500 and log it; with the primary key both work", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    await seedUser({ simplejwtId: String(s.userId) }); // another user, whose field holds the member's key
    const body = { username: s.userName, password: PASSWORD, org_name: s.orgName };
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const named = () =>
        errors.mock.calls.some(([line]) => /config_error.*USER_ID_FIELD employee_no/.test(String(line)));
      const login = await postJson(quickApp(), "/api/org_token/", body, FIELD);
      expect(login.status).toBe(500);
      expect(await login.text()).not.toContain("access");
      expect(named()).toBe(true);
      errors.mockClear();
      const refresh = await postJson(quickApp(), "/api/org_token/refresh/", { refresh: await mintToken(s) }, FIELD);
      expect(refresh.status).toBe(500);
      expect(named()).toBe(true);
    } finally {
      errors.mockRestore();
    }
    expect((await postJson(quickApp(), "/api/org_token/", body, sjEnv())).status).toBe(200);
  });

  it("issues none either when another simplejwt setting is one the views cannot honour", async () => {
    const s = await seed({ passwordHash: QUICK_HASH });
    const body = { username: s.userName, password: PASSWORD, org_name: s.orgName };
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const login = await postJson(quickApp(), "/api/org_token/", body, { ...FIELD, JTI_CLAIM: "exp" });
      expect(login.status).toBe(500);
      expect(errors.mock.calls.some(([line]) => /config_error.*USER_ID_FIELD employee_no/.test(String(line)))).toBe(
        true,
      );
    } finally {
      errors.mockRestore();
    }
  });
});
