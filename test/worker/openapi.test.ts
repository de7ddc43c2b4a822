/** The OpenAPI document: generated from the route table, covering every route and status of the contract. */
import { describe, expect, it } from "vitest";
import { app, call } from "../support/harness";
import { PATHS, sjEnv, V522 } from "../support/simplejwt";

const CONTRACT: Record<string, Record<string, number[]>> = {
  "/api/org_token/": { post: [200, 400, 401, 403, 413, 415, 429, 503] },
  "/api/org_token/refresh/": { post: [200, 400, 403, 413, 415, 503] },
  "/api/token/blacklist/": { post: [200, 400, 401, 413, 415, 503] },
  "/api/membership_status/{org_name}/": { get: [200, 400, 403, 503] },
};

describe("GET /api/schema/", () => {
  it("is an OpenAPI 3.1 document with every route and every status of the contract", async () => {
    const response = await call(app(), "/api/schema/");
    expect(response.status).toBe(200);
    const doc = await response.json<{
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    expect(doc.openapi).toBe("3.1.0");
    for (const [path, methods] of Object.entries(CONTRACT)) {
      for (const [method, statuses] of Object.entries(methods)) {
        const operation = doc.paths[path]?.[method];
        expect(operation, `${method} ${path}`).toBeDefined();
        for (const status of statuses)
          expect(Object.keys(operation!.responses), `${method} ${path}`).toContain(String(status));
      }
    }
  });

  it("carries the contract's exact error bodies as examples", async () => {
    const doc = await (await call(app(), "/api/schema")).json<any>();
    const refresh403 = doc.paths["/api/org_token/refresh/"].post.responses["403"].content["application/json"].examples;
    expect(refresh403.token_blacklisted.value).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
    const login401 = doc.paths["/api/org_token/"].post.responses["401"].content["application/json"].examples;
    expect(login401.bad_credentials.value).toEqual({ detail: "No active account found with the given credentials" });
    const github403 = doc.paths["/api/org_token_github/"].post.responses["403"].content["application/json"].examples;
    expect(github403.no_social_account.value).toEqual({
      status: "FAILED",
      error_msg: "Permission Denied: No Social account found that matches login field of given token",
    });
    expect(github403["permission_denied:member_not_active"].value).toEqual({
      status: "FAILED",
      error_msg: "Permission Denied: <user_name> is NOT an active Member of <org_name>",
    });
    expect(github403["permission_denied:unknown_organization"].value.error_msg).toMatch(/NOT a valid organization/);
  });

  it("names each row's source (as docs/contract.md) and the headers a status carries", async () => {
    const doc = await (await call(app(), "/api/schema/")).json<any>();
    const refresh403 = doc.paths["/api/org_token/refresh/"].post.responses["403"].content["application/json"].examples;
    expect(refresh403.token_blacklisted.summary).toBe("seed");
    const logout401 = doc.paths["/api/token/blacklist/"].post.responses["401"];
    expect(logout401.headers).toEqual({ "WWW-Authenticate": { schema: { type: "string" } } });
    const logoutExamples = logout401.content["application/json"].examples;
    expect(logoutExamples.token_view_rejected_2.value).toEqual({
      detail: "Token is blacklisted",
      code: "token_not_valid",
    });
    expect(logoutExamples.token_view_rejected.summary).toMatch(/^origin: rest_framework_simplejwt\/views\.py/);
    const status = doc.paths["/api/membership_status/{org_name}/"].get.responses;
    expect(status["400"].content["application/json"].examples.status_org_mismatch).toEqual({
      summary: "origin: api/views.py get_token_org_active_membership",
      value: {
        status: "FAILED",
        error_msg: "Token claim org:<token org_name> does not match organization given:<org_name> ",
      },
    });
    expect(status["403"].content["application/json"].examples.user_not_found.summary).toBe(
      "origin: rest_framework_simplejwt/authentication.py JWTAuthentication.get_user",
    );
    const health = doc.paths["/api/org_token/health/"].get.responses["503"].content["application/json"].examples;
    expect(health.unhealthy.summary).toBe("edge");
    expect(
      doc.paths["/api/org_token/"].post.responses["429"].content["application/json"].examples.too_many_attempts.summary,
    ).toBe("edge");
  });

  it("every documented path is served: each answers its documented method as documented, and 405 to the others", async () => {
    const doc = await (await call(app(), "/api/schema/")).json<any>();
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(expect.arrayContaining(Object.keys(CONTRACT)));
    for (const path of paths) {
      const concrete = path.replace("{org_name}", "SomeOrg");
      const documented = Object.keys(doc.paths[path]).map((method) => method.toUpperCase());
      for (const [method, operation] of Object.entries<any>(doc.paths[path])) {
        const upper = method.toUpperCase();
        // With nothing to go on, each route answers the documented 400 that says what is missing.
        const init: RequestInit =
          upper === "GET" ? {} : { method: upper, headers: { "Content-Type": "application/json" }, body: "{}" };
        let expected: unknown;
        if (operation.requestBody) {
          const required: string[] = operation.requestBody.content["application/json"].schema.required;
          expected = Object.fromEntries(required.map((field) => [field, ["This field is required."]]));
        } else if (operation.security) {
          expect(operation.security, `${upper} ${path}`).toEqual([{ bearerAuth: [] }]);
          expected = operation.responses["400"].content["application/json"].examples.no_bearer_token.value;
        }
        for (const variant of [concrete, concrete.replace(/\/$/, "")]) {
          const response = await call(app(), variant, init);
          if (expected === undefined) {
            // An operation that needs nothing (none in the contract today): a status it documents.
            expect(Object.keys(operation.responses), `${upper} ${variant}`).toContain(String(response.status));
            continue;
          }
          expect(response.status, `${upper} ${variant}`).toBe(400);
          expect(Object.keys(operation.responses), `${upper} ${path}`).toContain("400");
          expect(await response.json(), `${upper} ${variant}`).toEqual(expected);
        }
      }
      // Every other method: DRF's 405, naming what the path does answer.
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !documented.includes(m))) {
        const response = await call(app(), concrete, { method });
        expect(response.status, `${method} ${path}`).toBe(405);
        const allow = response.headers.get("Allow")!.split(", ");
        expect(allow, `${method} ${path}`).toEqual(expect.arrayContaining([...documented, "OPTIONS"]));
        expect(allow, `${method} ${path}`).not.toContain(method);
      }
    }
  });
});

describe("GET /api/schema/: simplejwt's views where the settings mount them", () => {
  const schema = async (envOverrides = V522) => (await call(app(), "/api/schema/", {}, envOverrides)).json<any>();

  it("unmounted: none of them, nor their schemas", async () => {
    const doc = await schema({});
    expect(Object.keys(doc.paths)).not.toContain(PATHS.obtain);
    expect(doc.components.schemas.TokenObtainPair).toBeUndefined();
  });

  it("each view at its path: its body fields, its success schema, the contract's statuses", async () => {
    const doc = await schema();
    const STATUSES: Record<string, number[]> = {
      [PATHS.obtain]: [200, 400, 401, 404, 405, 406, 413, 415, 429, 500, 502, 503, 504, 508],
      [PATHS.refresh]: [200, 400, 401, 404, 405, 406, 413, 415, 500, 503],
      [PATHS.verify]: [200, 400, 401, 404, 405, 406, 413, 415, 500, 503],
      [PATHS.blacklist]: [200, 400, 401, 404, 405, 406, 413, 415, 500, 503],
    };
    for (const [path, statuses] of Object.entries(STATUSES)) {
      const operation = doc.paths[path]?.post;
      expect(operation, path).toBeDefined();
      expect(Object.keys(operation.responses).map(Number).sort(), path).toEqual(statuses);
      expect(operation.security, path).toBeUndefined();
    }
    const obtain = doc.paths[PATHS.obtain].post;
    expect(obtain.operationId).toBe("simpleJwtTokenObtainPair");
    expect(obtain.requestBody.content["application/json"].schema.required).toEqual(["username", "password"]);
    expect(obtain.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/TokenObtainPair",
    });
    expect(doc.components.schemas.TokenObtainPair.required).toEqual(["refresh", "access"]);
    expect(obtain.responses["401"].content["application/json"].examples.simplejwt_no_active_account.value).toEqual({
      detail: "No active account found with the given credentials",
    });
    expect(obtain.responses["401"].headers).toEqual({ "WWW-Authenticate": { schema: { type: "string" } } });
    expect(obtain.responses["406"].content["application/json"].examples.not_acceptable.value).toEqual({
      detail: "Could not satisfy the request Accept header.",
    });
    const verify = doc.paths[PATHS.verify].post;
    expect(verify.requestBody.content["application/json"].schema.required).toEqual(["token"]);
    expect(verify.responses["400"].content["application/json"].examples.simplejwt_verify_blacklisted.value).toEqual({
      non_field_errors: ["Token is blacklisted"],
    });
    expect(doc.components.schemas.Empty).toEqual({ type: "object", maxProperties: 0 });
  });

  it("USERNAME_FIELD names the obtain body's key; ROTATE_REFRESH_TOKENS puts refresh in refresh's answer", async () => {
    const plain = await schema();
    expect(plain.components.schemas.TokenRefresh.required).toEqual(["access"]);
    const doc = await schema(sjEnv({ USERNAME_FIELD: "email", ROTATE_REFRESH_TOKENS: "true" }));
    expect(doc.paths[PATHS.obtain].post.requestBody.content["application/json"].schema.required).toEqual([
      "email",
      "password",
    ]);
    expect(doc.components.schemas.TokenRefresh.required).toEqual(["access", "refresh"]);
  });

  it("the blacklist view at the org-token logout's path is that path's POST", async () => {
    const doc = await schema(sjEnv({ TOKEN_BLACKLIST_PATH: "/api/token/blacklist/" }));
    expect(doc.paths["/api/token/blacklist/"].post.operationId).toBe("simpleJwtTokenBlacklist");
  });

  it("each documented view answers an empty body with the documented fields' 400", async () => {
    const doc = await schema();
    for (const path of Object.values(PATHS)) {
      const required: string[] = doc.paths[path].post.requestBody.content["application/json"].schema.required;
      const response = await call(
        app(),
        path,
        { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" },
        V522,
      );
      expect(response.status, path).toBe(400);
      expect(await response.json(), path).toEqual(
        Object.fromEntries(required.map((field) => [field, ["This field is required."]])),
      );
    }
  });
});
