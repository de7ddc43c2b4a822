/** POST /api/org_token/refresh/: every row of the contract's table, in its order. */
import { base64url, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import {
  app,
  BLACKLISTED,
  call,
  claimsOf,
  env,
  manualClock,
  mintToken,
  postJson,
  SECRET,
  seed,
  setMembership,
  TOKEN_NOT_VALID,
  vectors,
} from "../support/harness";

const PATH = "/api/org_token/refresh/";

async function ledgerRow(jti: string) {
  return env.DB.prepare("SELECT * FROM token_ledger WHERE jti = ?1").bind(jti).first();
}

describe("refresh: invalid tokens get 403 token_not_valid before any lookup", () => {
  const worker = app();

  it.each([
    ["signed with another secret", { secret: "another-secret-that-is-also-long-enough-000" }],
    ["HS512", { alg: "HS512" }],
    ["an access token", { type: "access" }],
    ["no token_type", { claims: { token_type: undefined } }],
    ["expired", { nowMs: Date.now() - 2_000_000_000, lifetime: 60 }],
    ["no jti", { claims: { jti: undefined } }],
    ["no user_id", { claims: { user_id: undefined } }],
    ["a string user_id", { claims: { user_id: "3" } }],
    ["no org_name", { claims: { org_name: undefined } }],
    ["a malformed family claim", { claims: { fam: "not-hex" } }],
  ])("%s", async (_name, options) => {
    const s = await seed();
    const token = await mintToken(s, options);
    const response = await postJson(worker, PATH, { refresh: token });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(TOKEN_NOT_VALID);
  });

  it("exp equal to now is expired (no leeway)", async () => {
    const clock = manualClock();
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock(), lifetime: 100 });
    clock.advance(99);
    expect((await postJson(app({ clock }), PATH, { refresh: `x${token.slice(1)}` })).status).toBe(403);
    const live = await postJson(app({ clock }), PATH, { refresh: token });
    expect(live.status).toBe(200);
    const other = await mintToken(s, { nowMs: clock() - 99_000, lifetime: 100 });
    clock.advance(1);
    const expired = await postJson(app({ clock }), PATH, { refresh: other });
    expect(expired.status).toBe(403);
    expect(await expired.json()).toEqual(TOKEN_NOT_VALID);
  });

  it("the contract's garbage: not a JWT, random text", async () => {
    for (const refresh of ["abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", vectors.invalid.not_a_jwt]) {
      const response = await postJson(worker, PATH, { refresh });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual(TOKEN_NOT_VALID);
    }
  });

  it("a forged token for a real member reveals nothing about the membership", async () => {
    const member = await seed();
    const outsider = await seed({ membership: null });
    for (const s of [member, outsider, { ...member, orgName: "NoSuchOrg" }]) {
      const forged = await mintToken(s, { secret: "the-attackers-secret-is-long-enough-too-00" });
      const response = await postJson(worker, PATH, { refresh: forged });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual(TOKEN_NOT_VALID);
    }
  });
});

describe("refresh: simplejwt's own tokens (vectors)", () => {
  const worker = app();
  const vectorEnv = { JWT_SECRET_KEY: vectors.secret };

  it("the valid simplejwt refresh token refreshes, once", async () => {
    const { claims } = vectors.valid.refresh;
    await env.DB.prepare("INSERT INTO users_user (id, username) VALUES (?1, ?2)")
      .bind(claims.user_id, claims.user_name)
      .run();
    const org = await env.DB.prepare("INSERT INTO users_orgaccount (name) VALUES (?1) RETURNING id")
      .bind(claims.org_name)
      .first<{ id: number }>();
    await env.DB.prepare("INSERT INTO users_membership (user_id, org_id, active) VALUES (?1, ?2, 1)")
      .bind(claims.user_id, org!.id)
      .run();

    const first = await postJson(worker, PATH, { refresh: vectors.valid.refresh.token }, vectorEnv);
    expect(first.status).toBe(200);
    const pair = await first.json<{ access: string; refresh: string }>();
    expect(claimsOf(pair.refresh)).toMatchObject({ user_id: 3, org_name: "UofMDTest", user_name: "ceugarteblair" });
    // A Django-issued token has no family claim: it starts a family named after itself.
    expect(claimsOf(pair.refresh).fam).toBe(claims.jti);
    // exp 2099: the ledger remembers the jti until the token's own exp.
    expect(await ledgerRow(claims.jti)).toMatchObject({ reason: "rotated", expires_at: claims.exp });

    const again = await postJson(worker, PATH, { refresh: vectors.valid.refresh.token }, vectorEnv);
    expect(again.status).toBe(403);
    expect(await again.json()).toEqual(BLACKLISTED);
  });

  it.each(Object.entries(vectors.invalid))("invalid vector %s gets the invalid-token 403", async (_name, token) => {
    const response = await postJson(worker, PATH, { refresh: token }, vectorEnv);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(TOKEN_NOT_VALID);
  });

  it("the valid access token is not a refresh token", async () => {
    const response = await postJson(worker, PATH, { refresh: vectors.valid.access.token }, vectorEnv);
    expect(await response.json()).toEqual(TOKEN_NOT_VALID);
  });
});

describe("refresh: membership rows", () => {
  const worker = app();

  it("organization in the token does not exist: 403 not a valid organization name", async () => {
    const s = await seed();
    const token = await mintToken({ ...s, orgName: "GhostOrg" });
    const response = await postJson(worker, PATH, { refresh: token });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: "GhostOrg is NOT a valid organization name" });
  });

  it("user not a member of the organization: 403", async () => {
    const s = await seed({ membership: null });
    const response = await postJson(worker, PATH, { refresh: await mintToken(s) });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `${s.userName} is NOT a member of ${s.orgName}` });
  });

  it("user unknown (no such user id): 403 not a member, named by the token's user_name", async () => {
    const s = await seed();
    const response = await postJson(worker, PATH, {
      refresh: await mintToken({ ...s, userId: 987654, userName: "ghost" }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: `ghost is NOT a member of ${s.orgName}` });
  });

  it("user account disabled: 403 user_inactive", async () => {
    const s = await seed({ userActive: false });
    const response = await postJson(worker, PATH, { refresh: await mintToken(s) });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: "User is inactive", code: "user_inactive" });
  });

  it("a disabled user who is not a member hears 'not a member' first (the contract's order)", async () => {
    const s = await seed({ membership: null, userActive: false });
    const response = await postJson(worker, PATH, { refresh: await mintToken(s) });
    expect(await response.json()).toEqual({ detail: `${s.userName} is NOT a member of ${s.orgName}` });
  });

  it("inactive member: 200 {active: false}, the token is not consumed, and works after reactivation", async () => {
    const s = await seed({ membership: "inactive" });
    const token = await mintToken(s);
    const { jti } = claimsOf(token);
    for (let i = 0; i < 2; i++) {
      const response = await postJson(worker, PATH, { refresh: token });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ active: false });
    }
    expect(await ledgerRow(jti!)).toBeNull();

    await setMembership(s, true);
    const response = await postJson(worker, PATH, { refresh: token });
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty("refresh");
  });

  it("a blacklisted token is refused before the membership is looked at", async () => {
    const s = await seed();
    const token = await mintToken(s);
    expect((await postJson(worker, PATH, { refresh: token })).status).toBe(200);
    await env.DB.prepare("DELETE FROM users_orgaccount WHERE id = ?1").bind(s.orgId).run();
    const response = await postJson(worker, PATH, { refresh: token });
    expect(await response.json()).toEqual(BLACKLISTED);
  });
});

describe("refresh: the active member's pair", () => {
  it("issues a pair with simplejwt's claims, formats and lifetimes; consumes the token", async () => {
    const clock = manualClock(Date.UTC(2022, 10, 28, 15, 24, 9, 500));
    const s = await seed();
    const token = await mintToken(s, { nowMs: clock() - 3_600_000 });
    const presented = claimsOf(token);
    const response = await postJson(
      app({ clock }),
      PATH,
      { refresh: token },
      {},
      { Authorization: "Bearer expired.access.token" },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = await response.json<Record<string, string>>();
    expect(Object.keys(body)).toEqual(["exp", "access_lifetime", "refresh_lifetime", "refresh", "access"]);
    expect(body.access_lifetime).toBe("86400.0");
    expect(body.refresh_lifetime).toBe("2592000.0");
    expect(body.exp).toBe("2022-11-29T15:24:09UTC");
    expect(JSON.stringify(body)).not.toContain(token);

    const iat = Math.floor(clock() / 1000);
    const access = claimsOf(body.access!);
    const refresh = claimsOf(body.refresh!);
    expect(access).toEqual({
      token_type: "access",
      exp: iat + 86400,
      iat,
      jti: expect.stringMatching(/^[0-9a-f]{32}$/),
      user_id: s.userId,
      org_name: s.orgName,
      user_name: s.userName,
      fam: presented.jti, // ours, as on the refresh token: the edge blacklist keys ended sessions by it
      iat_ms: clock(), // ours: the issue time to the millisecond, for session ends in the same second
    });
    expect(refresh).toEqual({
      token_type: "refresh",
      exp: iat + 2592000,
      iat,
      jti: expect.stringMatching(/^[0-9a-f]{32}$/),
      user_id: s.userId,
      org_name: s.orgName,
      user_name: s.userName,
      fam: presented.jti,
      iat_ms: clock(),
    });
    expect(new Set([access.jti, refresh.jti, presented.jti]).size).toBe(3);
    expect(`${new Date(access.exp! * 1000).toISOString().slice(0, 19)}UTC`).toBe(body.exp);
    const header = JSON.parse(atob(body.access!.split(".")[0]!));
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });

    expect(await ledgerRow(presented.jti!)).toMatchObject({
      reason: "rotated",
      used_at: clock(),
      expires_at: presented.exp,
    });
  });

  it("both tokens are byte for byte what jose's SignJWT makes of the same header and claims", async () => {
    const s = await seed({ userId: 424242 });
    const pair = await (await postJson(app(), PATH, { refresh: await mintToken({ ...s, orgName: s.orgName }) })).json<
      Record<string, string>
    >();
    for (const token of [pair.access!, pair.refresh!]) {
      const [header, payload] = token
        .split(".")
        .slice(0, 2)
        .map((part) => JSON.parse(new TextDecoder().decode(base64url.decode(part))));
      const again = await new SignJWT(payload).setProtectedHeader(header).sign(new TextEncoder().encode(SECRET));
      expect(token).toBe(again);
    }
  });

  it("the successor ids: 32 hex characters each, new per rotation, and not the presented token's signature", async () => {
    const s = await seed();
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const token = await mintToken(s);
      const pair = await (await postJson(app(), PATH, { refresh: token })).json<Record<string, string>>();
      // An id a successor publishes must not give away anything of a token that was valid.
      const mac = [...base64url.decode(token.split(".")[2]!)].map((b) => b.toString(16).padStart(2, "0")).join("");
      for (const jti of [claimsOf(pair.access!).jti!, claimsOf(pair.refresh!).jti!]) {
        expect(jti).toMatch(/^[0-9a-f]{32}$/);
        expect(mac).not.toContain(jti);
        ids.add(jti);
      }
    }
    expect(ids.size).toBe(6);
  });

  it("a rotation is recorded in the ledger, with the token's own exp", async () => {
    const s = await seed();
    const token = await mintToken(s, { lifetime: 7200 });
    const { jti, exp } = claimsOf(token);
    expect((await postJson(app(), PATH, { refresh: token })).status).toBe(200);
    expect(await ledgerRow(jti!)).toMatchObject({ reason: "rotated", expires_at: exp });
  });

  it("configured lifetimes shape the pair and are written as Python floats", async () => {
    const clock = manualClock();
    const s = await seed();
    const response = await postJson(
      app({ clock }),
      PATH,
      { refresh: await mintToken(s, { nowMs: clock() }) },
      {
        ACCESS_TOKEN_LIFETIME: "300.5",
        REFRESH_TOKEN_LIFETIME: "3600",
      },
    );
    const body = await response.json<Record<string, string>>();
    expect(body.access_lifetime).toBe("300.5");
    expect(body.refresh_lifetime).toBe("3600.0");
    const iatMs = clock();
    expect(claimsOf(body.access!).exp).toBe(Math.floor((iatMs + 300_500) / 1000));
    expect(claimsOf(body.refresh!).exp).toBe(Math.floor(iatMs / 1000) + 3600);
  });

  it("a chain of three rotations: each successor refreshes once, each predecessor is refused", async () => {
    const clock = manualClock();
    const worker = app({ clock });
    const s = await seed();
    const first = await mintToken(s, { nowMs: clock() });
    const chain = [first];
    for (let i = 0; i < 3; i++) {
      clock.advance(60);
      const response = await postJson(worker, PATH, { refresh: chain.at(-1) });
      expect(response.status).toBe(200);
      const body = await response.json<{ refresh: string; access: string }>();
      expect(claimsOf(body.refresh).fam).toBe(claimsOf(first).jti);
      expect(claimsOf(body.refresh).iat).toBe(Math.floor(clock() / 1000));
      chain.push(body.refresh);
    }
    expect(new Set(chain.map((t) => claimsOf(t).jti)).size).toBe(4);
    // The newest is still good; replaying any older one is refused.
    const replay = await postJson(worker, PATH, { refresh: chain[1] });
    expect(await replay.json()).toEqual(BLACKLISTED);
  });
});

describe("refresh: consumed means answered", () => {
  // The last date a JavaScript Date holds (8.64e15 ms): a token verified a second before it
  // has an access token whose expiry no Date can render, so the pair fails while it is being
  // made, after the token verified and before the consuming write.
  const LAST_DATE_MS = 8.64e15;

  it("a pair that cannot be rendered (its expiry past the last Date): a 500, and the token is not consumed", async () => {
    const s = await seed();
    const clock = manualClock(LAST_DATE_MS - 1000);
    const token = await mintToken(s, { nowMs: LAST_DATE_MS - 60_000 });
    const jti = claimsOf(token).jti!;
    const errors = vi.spyOn(console, "error");
    try {
      const response = await postJson(app({ clock }), PATH, { refresh: token });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ detail: "A server error occurred." });
      const logged = errors.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, string>);
      expect(logged).toContainEqual({
        level: "error",
        event: "unhandled_error",
        error: expect.stringMatching(/^RangeError/),
      });
    } finally {
      errors.mockRestore();
    }
    expect(await ledgerRow(jti)).toBeNull();
    // The same token at the same instant, with an access lifetime whose expiry is a Date and no
    // reuse interval (a consumed token would be blacklisted, not retried): it rotates.
    const again = await postJson(
      app({ clock }),
      PATH,
      { refresh: token },
      { ACCESS_TOKEN_LIFETIME: "1", REFRESH_REUSE_INTERVAL: "0" },
    );
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ access: expect.any(String), refresh: expect.any(String) });
    expect(await ledgerRow(jti)).not.toBeNull();
  });

  it("ACCESS_TOKEN_LIFETIME=1e13: a 500 naming the variable, and the token is not consumed", async () => {
    const s = await seed();
    const token = await mintToken(s);
    const errors = vi.spyOn(console, "error");
    try {
      const response = await postJson(app(), PATH, { refresh: token }, { ACCESS_TOKEN_LIFETIME: "1e13" });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ detail: expect.stringMatching(/misconfigured/i) });
      const logged = errors.mock.calls.map((args) => JSON.parse(String(args[0])));
      expect(logged).toContainEqual({
        level: "error",
        event: "config_error",
        message: expect.stringContaining("ACCESS_TOKEN_LIFETIME"),
      });
    } finally {
      errors.mockRestore();
    }
    expect(await ledgerRow(claimsOf(token).jti!)).toBeNull();
    expect((await postJson(app(), PATH, { refresh: token })).status).toBe(200);
  });

  it.each([
    ["ACCESS_TOKEN_LIFETIME", "315360000", 200],
    ["ACCESS_TOKEN_LIFETIME", "315360001", 500],
    ["ACCESS_TOKEN_LIFETIME", "0.5", 500],
    ["REFRESH_TOKEN_LIFETIME", "315360000", 200],
    ["REFRESH_TOKEN_LIFETIME", "1e10", 500],
    ["REFRESH_REUSE_INTERVAL", "86400", 200],
    ["REFRESH_REUSE_INTERVAL", "86401", 500],
    ["LOGIN_USER_FAILURE_LIMIT", "1000001", 500],
    ["LOGIN_ADDRESS_FAILURE_LIMIT", "1000000", 200],
  ] as const)("%s=%s: %i", async (name, value, status) => {
    const s = await seed();
    const errors = vi.spyOn(console, "error");
    try {
      const response = await postJson(app(), PATH, { refresh: await mintToken(s) }, { [name]: value });
      expect(response.status).toBe(status);
      if (status === 500) {
        expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).toContain(name);
      } else {
        expect(await response.json()).toHaveProperty("refresh");
      }
    } finally {
      errors.mockRestore();
    }
  });

  it.each(["/api/org_token/refresh/", "/api/token/blacklist/"])(
    "%s: a client that drops the connection mid-body is a quiet 400, not an unhandled error",
    async (path) => {
      const s = await seed();
      const token = await mintToken(s);
      const half = new TextEncoder().encode(`{"refresh": "${token.slice(0, 40)}`);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(half);
          controller.error(new Error("connection reset by peer"));
        },
      });
      const errors = vi.spyOn(console, "error");
      try {
        const response = await call(app(), path, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body,
          duplex: "half",
        } as RequestInit);
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ detail: "The request body could not be read." });
        expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).not.toContain("unhandled_error");
      } finally {
        errors.mockRestore();
      }
      expect(await ledgerRow(claimsOf(token).jti!)).toBeNull();
    },
  );
});
