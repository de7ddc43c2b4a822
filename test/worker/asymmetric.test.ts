/**
 * Issue 26: both APIs sign and verify with the origin's asymmetric ALGORITHM and keys
 * (SIGNING_KEY, VERIFYING_KEY, PREVIOUS_VERIFYING_KEYS) as simplejwt reads them; their tokens
 * carry the key's kid; the origin's tokens (PyJWT: no kid) verify at the edge; a previous key
 * still verifies; a bad key is a 500 naming its setting, and nothing is signed with it.
 */
import { Hono } from "hono";
import { decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import {
  type OrgTokenVariables,
  orgTokenApi,
  requireSimpleJwtToken,
  type SimpleJwtTokenVariables,
} from "../../src/api";
import { type Env, workerApiOptions } from "../../worker/env";
import {
  call,
  env,
  hexId,
  postJson,
  QUICK_HASH,
  quickApp,
  SECRET,
  seed,
  TOKEN_NOT_VALID,
  vectors,
} from "../support/harness";
import {
  type Algorithm,
  keyEnv,
  keyPair,
  pkcs1Private,
  pkcs1Public,
  sec1Private,
  signWith,
  type TestKeyPair,
} from "../support/keys";
import { expectInvalid, obtain, PASSWORD, PATHS, seedUser, sjEnv } from "../support/simplejwt";

const rs = await keyPair("RS256");
const es = await keyPair("ES256");
const rsOld = await keyPair("RS256");

const ORG_LOGIN = "/api/org_token/";
const ORG_REFRESH = "/api/org_token/refresh/";
type Pair = { access: string; refresh: string };

async function orgLogin(pair: TestKeyPair | undefined, overrides: Record<string, string> = {}) {
  const s = await seed({ passwordHash: QUICK_HASH });
  const response = await postJson(
    quickApp(),
    ORG_LOGIN,
    { username: s.userName, password: vectors.django_password_hashes.password, org_name: s.orgName },
    { ...(pair ? keyEnv(pair) : {}), ...overrides },
  );
  return { s, response };
}

/** Verified with the public key only, as the origin's VERIFYING_KEY would. */
async function verifiedBy(token: string, pair: TestKeyPair) {
  return (await jwtVerify(token, pair.publicKey, { algorithms: [pair.algorithm] })).payload;
}

type Member = { userId: number; userName: string; orgName: string };

/** An org token's claims as ps-web writes them, for a seeded member, issued now. */
function orgClaims(s: Member, type = "refresh") {
  const iat = Math.floor(Date.now() / 1000);
  return {
    token_type: type,
    exp: iat + 3600,
    iat,
    jti: hexId(),
    user_id: s.userId,
    org_name: s.orgName,
    user_name: s.userName,
  };
}

/** An org token as ps-web's origin signs it: PyJWT's header, no kid. */
function originOrgToken(pair: TestKeyPair, s: Member, type = "refresh") {
  return signWith(pair, orgClaims(s, type));
}

/** A simplejwt refresh token as the origin's simplejwt signs it. */
function originSjToken(pair: TestKeyPair, userId: number, type = "refresh", header: { kid?: string } = {}) {
  const iat = Math.floor(Date.now() / 1000);
  return signWith(pair, { token_type: type, exp: iat + 3600, iat, jti: hexId(), user_id: userId }, header);
}

describe.each([rs, es])("the org-token API under $algorithm", (pair) => {
  it("login and refresh sign with SIGNING_KEY: the public key verifies, the header names alg and kid", async () => {
    const { response } = await orgLogin(pair);
    expect(response.status).toBe(200);
    const login = await response.json<Pair>();
    for (const token of [login.access, login.refresh]) {
      expect(decodeProtectedHeader(token)).toEqual({ alg: pair.algorithm, typ: "JWT", kid: pair.kid });
      expect(await verifiedBy(token, pair)).toMatchObject({ org_name: expect.any(String) });
    }
    const refreshed = await postJson(quickApp(), ORG_REFRESH, { refresh: login.refresh }, keyEnv(pair));
    expect(refreshed.status).toBe(200);
    const next = await refreshed.json<Pair>();
    expect(decodeProtectedHeader(next.access)).toEqual({ alg: pair.algorithm, typ: "JWT", kid: pair.kid });
    expect(await verifiedBy(next.refresh, pair)).toMatchObject({ token_type: "refresh" });
  });

  it("a refresh token the origin signed with the same key (no kid) is refreshed", async () => {
    const s = await seed();
    const response = await postJson(quickApp(), ORG_REFRESH, { refresh: await originOrgToken(pair, s) }, keyEnv(pair));
    expect(response.status).toBe(200);
    expect(await verifiedBy((await response.json<Pair>()).access, pair)).toMatchObject({ user_id: s.userId });
  });

  it("membership status accepts the origin's access token and the edge's", async () => {
    const { s, response } = await orgLogin(pair);
    const { access } = await response.json<Pair>();
    for (const token of [access, await originOrgToken(pair, s, "access")]) {
      const status = await call(
        quickApp(),
        `/api/membership_status/${s.orgName}/`,
        { headers: { Authorization: `Bearer ${token}` } },
        keyEnv(pair),
      );
      expect(await status.json()).toEqual({ active: true });
    }
  });
});

describe.each([rs, es])("simplejwt's views under $algorithm", (pair) => {
  it("obtain and refresh sign with SIGNING_KEY, with the kid; the origin's token (no kid) refreshes", async () => {
    const user = await seedUser();
    const envs = sjEnv(keyEnv(pair, { ROTATE_REFRESH_TOKENS: "true" }));
    const tokens = await obtain(quickApp(), user.userName, envs);
    expect(decodeProtectedHeader(tokens.refresh)).toEqual({ alg: pair.algorithm, typ: "JWT", kid: pair.kid });
    expect(await verifiedBy(tokens.access, pair)).toMatchObject({ user_id: user.userId, token_type: "access" });
    for (const refresh of [tokens.refresh, await originSjToken(pair, user.userId)]) {
      const response = await postJson(quickApp(), PATHS.refresh, { refresh }, envs);
      expect(response.status).toBe(200);
      const next = await response.json<Pair>();
      expect(decodeProtectedHeader(next.access).kid).toBe(pair.kid);
      expect(await verifiedBy(next.access, pair)).toMatchObject({ user_id: user.userId });
      expect(await verifiedBy(next.refresh, pair)).toMatchObject({ token_type: "refresh" });
    }
  });

  it("verify accepts the edge's and the origin's tokens", async () => {
    const user = await seedUser();
    const envs = sjEnv(keyEnv(pair));
    const { access } = await obtain(quickApp(), user.userName, envs);
    for (const token of [access, await originSjToken(pair, user.userId, "access")]) {
      const response = await postJson(quickApp(), PATHS.verify, { token }, envs);
      expect(response.status).toBe(200);
    }
  });
});

describe("the other algorithms: each signs, and its tokens verify with the public key", () => {
  it.each(["RS384", "RS512", "PS256", "PS384", "PS512", "ES384", "ES512", "EdDSA"] as Algorithm[])(
    "%s",
    async (algorithm) => {
      const pair = await keyPair(algorithm);
      const user = await seedUser();
      const envs = sjEnv(keyEnv(pair));
      const tokens = await obtain(quickApp(), user.userName, envs);
      expect(decodeProtectedHeader(tokens.access)).toEqual({ alg: algorithm, typ: "JWT", kid: pair.kid });
      expect(await verifiedBy(tokens.access, pair)).toMatchObject({ user_id: user.userId });
      const refreshed = await postJson(quickApp(), PATHS.refresh, { refresh: tokens.refresh }, envs);
      expect(refreshed.status).toBe(200);
    },
  );
});

describe("the PEM forms cryptography accepts", () => {
  it("PKCS#1 RSA private and public keys: the same kid as PKCS#8 and SPKI", async () => {
    const user = await seedUser();
    const envs = sjEnv({ ALGORITHM: "RS256", SIGNING_KEY: pkcs1Private(rs), VERIFYING_KEY: pkcs1Public(rs) });
    const { access } = await obtain(quickApp(), user.userName, envs);
    expect(decodeProtectedHeader(access).kid).toBe(rs.kid);
    expect(await verifiedBy(access, rs)).toMatchObject({ user_id: user.userId });
  });

  it("SEC1 EC private key", async () => {
    const user = await seedUser();
    const envs = sjEnv({ ALGORITHM: "ES256", SIGNING_KEY: await sec1Private(es), VERIFYING_KEY: es.publicPem });
    const { access } = await obtain(quickApp(), user.userName, envs);
    expect(decodeProtectedHeader(access).kid).toBe(es.kid);
    expect(await verifiedBy(access, es)).toMatchObject({ user_id: user.userId });
  });
});

describe("the PEM files openssl writes", () => {
  it("`openssl ecparam -genkey`: the EC PARAMETERS block before the SEC1 key is passed over", async () => {
    const user = await seedUser();
    // prime256v1's OID, as `openssl ecparam -name prime256v1` writes it.
    const parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    const envs = sjEnv({ ALGORITHM: "ES256", SIGNING_KEY: parameters + (await sec1Private(es)) });
    const { access } = await obtain(quickApp(), user.userName, envs);
    expect(decodeProtectedHeader(access).kid).toBe(es.kid);
    expect(await verifiedBy(access, es)).toMatchObject({ user_id: user.userId });
  });
});

describe("rotation: PREVIOUS_VERIFYING_KEYS still verify", () => {
  const rotated = keyEnv(rs);
  const withOld = (more: Record<string, string> = {}) =>
    keyEnv(rs, { PREVIOUS_VERIFYING_KEYS: `${rsOld.publicPem}\n${pkcs1Public(rsOld)}`, ...more });

  it("a refresh token of the previous key (with its kid, or none) is refreshed, signed by the new key", async () => {
    const s = await seed();
    const user = await seedUser();
    for (const header of [{ kid: rsOld.kid }, {}]) {
      const org = await signWith(rsOld, orgClaims(s), header);
      const response = await postJson(quickApp(), ORG_REFRESH, { refresh: org }, withOld());
      expect(response.status).toBe(200);
      expect(decodeProtectedHeader((await response.json<Pair>()).access).kid).toBe(rs.kid);

      const sj = await originSjToken(rsOld, user.userId, "refresh", header);
      const sjResponse = await postJson(quickApp(), PATHS.refresh, { refresh: sj }, sjEnv(withOld()));
      expect(sjResponse.status).toBe(200);
      expect(await verifiedBy((await sjResponse.json<Pair>()).access, rs)).toMatchObject({ user_id: user.userId });
    }
  });

  it("without the previous key listed, its tokens are refused", async () => {
    const s = await seed();
    const response = await postJson(quickApp(), ORG_REFRESH, { refresh: await originOrgToken(rsOld, s) }, rotated);
    expect(await response.json()).toEqual(TOKEN_NOT_VALID);
    const user = await seedUser();
    const sj = await originSjToken(rsOld, user.userId);
    await expectInvalid(
      await postJson(quickApp(), PATHS.refresh, { refresh: sj }, sjEnv(rotated)),
      "Token is invalid or expired",
    );
  });

  it("both guards accept the current key's tokens and the previous key's, and refuse the latter once it is removed", async () => {
    const tokens = orgTokenApi(workerApiOptions);
    const host = new Hono<{ Bindings: Env; Variables: OrgTokenVariables & SimpleJwtTokenVariables }>();
    host.get("/org", tokens.requireOrgToken(), (c) => c.json({ user: c.var.orgToken.userId }));
    host.get("/sj", requireSimpleJwtToken(tokens), (c) => c.json({ user: c.var.simpleJwtToken.userId }));
    const s = await seed();
    const user = await seedUser();
    const org = await originOrgToken(rsOld, s, "access");
    const sj = await originSjToken(rsOld, user.userId, "access", { kid: rsOld.kid });
    const guarded = (path: string, token: string, vars: Record<string, string>) =>
      host.request(path, { headers: { Authorization: `Bearer ${token}` } }, { ...env, ...vars });
    expect(await (await guarded("/org", org, withOld())).json()).toEqual({ user: s.userId });
    expect(await (await guarded("/sj", sj, withOld())).json()).toEqual({ user: user.userId });
    expect((await guarded("/org", org, rotated)).status).toBe(403);
    expect((await guarded("/sj", sj, rotated)).status).toBe(401);
    // The current key's tokens, as the edge issues them (with its kid).
    const login = await orgLogin(rs);
    const { access } = await login.response.json<Pair>();
    expect(await (await guarded("/org", access, withOld())).json()).toEqual({ user: login.s.userId });
    const sjTokens = await obtain(quickApp(), user.userName, sjEnv(withOld()));
    expect(await (await guarded("/sj", sjTokens.access, withOld())).json()).toEqual({ user: user.userId });
  });

  it("a kid is checked against its key only: a token of the current key naming another kid is refused", async () => {
    const user = await seedUser();
    const lying = await originSjToken(rs, user.userId, "refresh", { kid: rsOld.kid });
    await expectInvalid(
      await postJson(quickApp(), PATHS.refresh, { refresh: lying }, sjEnv(withOld())),
      "Token is invalid or expired",
    );
    const unknown = await originSjToken(rs, user.userId, "refresh", { kid: "no-such-key" });
    await expectInvalid(
      await postJson(quickApp(), PATHS.refresh, { refresh: unknown }, sjEnv(withOld())),
      "Token is invalid or expired",
    );
    const s = await seed();
    const org = await signWith(rs, orgClaims(s), { kid: "no-such-key" });
    expect(await (await postJson(quickApp(), ORG_REFRESH, { refresh: org }, withOld())).json()).toEqual(
      TOKEN_NOT_VALID,
    );
  });
});

describe("no algorithm confusion: exactly ALGORITHM verifies", () => {
  it("an HS256 token keyed with the public key's PEM, or with JWT_SECRET_KEY, is refused under RS256", async () => {
    const s = await seed();
    const user = await seedUser();
    const iat = Math.floor(Date.now() / 1000);
    for (const secret of [rs.publicPem, SECRET]) {
      const key = new TextEncoder().encode(secret);
      const org = await new SignJWT(orgClaims(s)).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
      expect(await (await postJson(quickApp(), ORG_REFRESH, { refresh: org }, keyEnv(rs))).json()).toEqual(
        TOKEN_NOT_VALID,
      );
      const sj = await new SignJWT({ token_type: "refresh", exp: iat + 60, iat, jti: hexId(), user_id: user.userId })
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: rs.kid })
        .sign(key);
      await expectInvalid(
        await postJson(quickApp(), PATHS.refresh, { refresh: sj }, sjEnv(keyEnv(rs))),
        "Token is invalid or expired",
      );
    }
  });

  it("an RS256 token is refused under ES256, and the edge's RS256 token under HS256", async () => {
    const user = await seedUser();
    const { refresh } = await obtain(quickApp(), user.userName, sjEnv(keyEnv(rs)));
    await expectInvalid(
      await postJson(quickApp(), PATHS.refresh, { refresh }, sjEnv(keyEnv(es))),
      "Token is invalid or expired",
    );
    await expectInvalid(await postJson(quickApp(), PATHS.refresh, { refresh }, sjEnv()), "Token is invalid or expired");
  });

  it("the org-token API follows an HS512 ALGORITHM too (ps-web's tokens are SIMPLE_JWT's); its HS256 tokens are refused then", async () => {
    const { s, response } = await orgLogin(undefined, { ALGORITHM: "HS512" });
    const { access, refresh } = await response.json<Pair>();
    expect(decodeProtectedHeader(access)).toEqual({ alg: "HS512", typ: "JWT" });
    const key = new TextEncoder().encode(SECRET);
    expect((await jwtVerify(refresh, key, { algorithms: ["HS512"] })).payload.user_id).toBe(s.userId);
    const hs256 = await new SignJWT(orgClaims(s)).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
    const refused = await postJson(quickApp(), ORG_REFRESH, { refresh: hs256 }, { ALGORITHM: "HS512" });
    expect(await refused.json()).toEqual(TOKEN_NOT_VALID);
  });

  it("under HS256 the tokens carry no kid, as before", async () => {
    const user = await seedUser();
    const { access } = await obtain(quickApp(), user.userName, sjEnv());
    expect(decodeProtectedHeader(access)).toEqual({ alg: "HS256", typ: "JWT" });
  });
});

const rsa1024 = await keyPair("RS256", { bits: 1024 });
const es384 = await keyPair("ES384");

describe("a bad key is a configuration error naming it; nothing is signed", () => {
  const cases: [string, Record<string, string>, string, RegExp][] = [
    ["no SIGNING_KEY under RS256", { ALGORITHM: "RS256" }, "SIGNING_KEY", /SIGNING_KEY is not set/],
    [
      "malformed PEM",
      { ALGORITHM: "RS256", SIGNING_KEY: "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----" },
      "SIGNING_KEY",
      /SIGNING_KEY is not PEM/,
    ],
    ["not PEM at all", { ALGORITHM: "RS256", SIGNING_KEY: "secret" }, "SIGNING_KEY", /SIGNING_KEY is not PEM/],
    [
      "a PEM body that is no key",
      { ALGORITHM: "RS256", SIGNING_KEY: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" },
      "SIGNING_KEY",
      /SIGNING_KEY is a key of an unknown type/,
    ],
    ["an EC key under RS256", keyEnv(rs, { SIGNING_KEY: es.privatePem }), "SIGNING_KEY", /P-256 key.*RS256/],
    ["a P-384 key under ES256", keyEnv(es, { SIGNING_KEY: es384.privatePem }), "SIGNING_KEY", /P-384 key.*ES256/],
    ["an RSA key under EdDSA", { ALGORITHM: "EdDSA", SIGNING_KEY: rs.privatePem }, "SIGNING_KEY", /RSA key.*Ed25519/],
    ["a public key as SIGNING_KEY", keyEnv(rs, { SIGNING_KEY: rs.publicPem }), "SIGNING_KEY", /holds a public key/],
    ["a 1024-bit RSA key", keyEnv(rsa1024), "SIGNING_KEY", /1024-bit RSA key/],
    [
      "VERIFYING_KEY of another pair",
      keyEnv(rs, { VERIFYING_KEY: rsOld.publicPem }),
      "VERIFYING_KEY",
      /not the public key of SIGNING_KEY/,
    ],
    [
      "VERIFYING_KEY holding the private key",
      keyEnv(rs, { VERIFYING_KEY: rs.privatePem }),
      "VERIFYING_KEY",
      /holds a private key/,
    ],
    [
      "an EC key among PREVIOUS_VERIFYING_KEYS under RS256",
      keyEnv(rs, { PREVIOUS_VERIFYING_KEYS: `${rsOld.publicPem}${es.publicPem}` }),
      "PREVIOUS_VERIFYING_KEYS",
      /PREVIOUS_VERIFYING_KEYS key 2 is a P-256 key/,
    ],
    [
      "a legacy encrypted RSA key (Proc-Type: 4,ENCRYPTED)",
      {
        ALGORITHM: "RS256",
        SIGNING_KEY:
          "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,11B746BB51379D71170DE35336BC2D45\n\nAAAA\n-----END RSA PRIVATE KEY-----",
      },
      "SIGNING_KEY",
      /SIGNING_KEY is an encrypted private key/,
    ],
    [
      "simplejwt's HS secret put in SIGNING_KEY under HS256",
      { SIGNING_KEY: "the origin's HS256 secret, not a PEM" },
      "SIGNING_KEY",
      /SIGNING_KEY is set, but ALGORITHM HS256/,
    ],
    [
      "SIGNING_KEY under HS256",
      { SIGNING_KEY: rs.privatePem },
      "SIGNING_KEY",
      /SIGNING_KEY is set, but ALGORITHM HS256/,
    ],
    [
      "ES256K",
      { ALGORITHM: "ES256K", SIGNING_KEY: es.privatePem },
      "ALGORITHM",
      /ALGORITHM ES256K is not served.*secp256k1/,
    ],
  ];

  it.each(cases)("%s: 500, the log line names %s, no token", async (_name, vars, _setting, message) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const sign = vi.spyOn(crypto.subtle, "sign");
    try {
      const { response } = await orgLogin(undefined, vars);
      expect(response.status).toBe(500);
      expect(await response.text()).not.toContain("access");
      const user = await seedUser();
      const sj = await postJson(quickApp(), PATHS.obtain, { username: user.userName, password: PASSWORD }, sjEnv(vars));
      expect(sj.status).toBe(500);
      expect(errors.mock.calls.map((line) => String(line[0])).join("\n")).toMatch(message);
      // Nothing signed a token: the only signatures are the derivation keys' HMACs (HS256 of the label).
      for (const [algorithm] of sign.mock.calls) expect(algorithm).toBe("HMAC");
    } finally {
      errors.mockRestore();
      sign.mockRestore();
    }
  });
});
