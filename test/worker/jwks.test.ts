/**
 * Issue 26: the JWKS at JWKS_PATH (`/.well-known/jwks.json`) under an asymmetric ALGORITHM:
 * the current key and PREVIOUS_VERIFYING_KEYS, each with kid (RFC 7638), use and alg and no
 * private member, cacheable; under HS* the path is not the edge's.
 */
import { decodeProtectedHeader, importJWK, type JWK, jwtVerify } from "jose";
import { describe, expect, it, vi } from "vitest";
import { VIA } from "../../src/http/forward";
import { JWKS_MAX_AGE } from "../../src/routes/jwks";
import type { Env } from "../../worker/env";
import { call, quickApp } from "../support/harness";
import { keyEnv, keyPair, pkcs1Public } from "../support/keys";
import { obtain, seedUser, sjEnv } from "../support/simplejwt";

const rs = await keyPair("RS256");
const rsOld = await keyPair("RS256");
const rsOlder = await keyPair("RS256");
const es = await keyPair("ES256");
const ed = await keyPair("EdDSA");

const PATH = "/.well-known/jwks.json";

async function jwks(vars: Partial<Env>, path = PATH, init: RequestInit = {}) {
  const response = await call(quickApp(), path, init, vars);
  return {
    response,
    body: response.status === 200 && init.method !== "HEAD" ? await response.json<{ keys: JWK[] }>() : undefined,
  };
}

describe("the JWKS", () => {
  it("RS256: the signing key's public key, kid its thumbprint, use and alg; JSON, cacheable", async () => {
    const { response, body } = await jwks(keyEnv(rs));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("Cache-Control")).toBe(`public, max-age=${JWKS_MAX_AGE}`);
    expect(body).toEqual({ keys: [{ ...rs.publicJwk, kid: rs.kid, use: "sig", alg: "RS256" }] });
    expect(Object.keys(body!.keys[0]!)).toEqual(["kty", "n", "e", "kid", "use", "alg"]);
  });

  it("a token the edge signs verifies with the key its kid names in the set", async () => {
    const user = await seedUser();
    const vars = sjEnv(keyEnv(rs, { PREVIOUS_VERIFYING_KEYS: rsOld.publicPem }));
    const { access } = await obtain(quickApp(), user.userName, vars);
    const { body } = await jwks(vars);
    const kid = decodeProtectedHeader(access).kid;
    const jwk = body!.keys.find((key) => key.kid === kid)!;
    const { payload } = await jwtVerify(access, await importJWK(jwk, jwk.alg), { algorithms: [jwk.alg!] });
    expect(payload.user_id).toBe(user.userId);
  });

  it("previous keys follow the current one, in their order, once each; no private member anywhere", async () => {
    const previous = `${rsOld.publicPem}\n${rsOlder.publicPem}${pkcs1Public(rsOld)}${rs.publicPem}`;
    const { body } = await jwks(keyEnv(rs, { PREVIOUS_VERIFYING_KEYS: previous }));
    expect(body!.keys.map((key) => key.kid)).toEqual([rs.kid, rsOld.kid, rsOlder.kid]);
    for (const key of body!.keys) {
      for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(key).not.toHaveProperty(member);
      expect(key).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256" });
    }
  });

  it("ES256 and EdDSA: EC and OKP keys", async () => {
    expect((await jwks(keyEnv(es))).body).toEqual({
      keys: [{ kty: "EC", crv: "P-256", x: es.publicJwk.x, y: es.publicJwk.y, kid: es.kid, use: "sig", alg: "ES256" }],
    });
    expect((await jwks(keyEnv(ed))).body).toEqual({
      keys: [{ kty: "OKP", crv: "Ed25519", x: ed.publicJwk.x, kid: ed.kid, use: "sig", alg: "EdDSA" }],
    });
  });

  it("the kid is stable: the same key gives the same set under a new env (another deploy)", async () => {
    const first = (await jwks(keyEnv(rs))).body;
    const second = (await jwks({ ...keyEnv(rs), VERIFYING_KEY: rs.publicPem })).body;
    expect(second).toEqual(first);
  });

  it("HEAD: the headers without a body; POST: 405 with Allow", async () => {
    const head = await jwks(keyEnv(rs), PATH, { method: "HEAD" });
    expect(head.response.status).toBe(200);
    expect(head.response.headers.get("Cache-Control")).toBe(`public, max-age=${JWKS_MAX_AGE}`);
    expect(await head.response.text()).toBe("");
    const post = await call(quickApp(), PATH, { method: "POST" }, keyEnv(rs));
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD");
  });

  it("JWKS_PATH moves it; the default path is then not the edge's", async () => {
    const vars = keyEnv(rs, { JWKS_PATH: "/auth/keys/" });
    expect((await jwks(vars, "/auth/keys/")).body?.keys[0]?.kid).toBe(rs.kid);
    expect((await jwks(vars, "/auth/keys")).body?.keys[0]?.kid).toBe(rs.kid);
    expect((await call(quickApp(), PATH, {}, vars)).status).toBe(404);
  });

  it("under HS256 the path is not the edge's: forwarded as any other path", async () => {
    expect((await call(quickApp(), PATH)).status).toBe(404);
    const forwarded = await call(quickApp(), PATH, { headers: { Via: VIA } }, { ORIGIN_URL: "http://127.0.0.1:9" });
    expect(forwarded.status).toBe(508); // the forwarding's own answer: it went to the origin
    const served = await call(
      quickApp(),
      PATH,
      { headers: { Via: VIA } },
      { ORIGIN_URL: "http://127.0.0.1:9", ...keyEnv(rs) },
    );
    expect(served.status).toBe(200);
  });

  it("a JWKS_PATH on another route is a configuration error; a bad ALGORITHM leaves the origin's paths up", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const taken = await call(quickApp(), "/api/anything/", {}, keyEnv(rs, { JWKS_PATH: "/api/org_token/" }));
      expect(taken.status).toBe(500);
      const onView = await call(quickApp(), PATH, {}, sjEnv(keyEnv(rs, { JWKS_PATH: "/api/token/" })));
      expect(onView.status).toBe(500);
      expect(errors.mock.calls.map((line) => String(line[0])).join("\n")).toContain("JWKS_PATH");
      const forwarded = await call(
        quickApp(),
        PATH,
        { headers: { Via: VIA } },
        { ORIGIN_URL: "http://127.0.0.1:9", ALGORITHM: "ES256K" },
      );
      expect(forwarded.status).toBe(508);
    } finally {
      errors.mockRestore();
    }
  });
});
