/** CORS: configured origins get the headers, others none; preflight answers 204. */
import { describe, expect, it } from "vitest";
import { app, call, mintToken, seed } from "../support/harness";

const worker = app();
const ALLOWED = "https://client.slideruleearth.io";
const corsEnv = { CORS_ALLOWED_ORIGINS: `${ALLOWED}, http://localhost:5173` };

function preflight(origin: string, envOverrides = corsEnv) {
  return call(
    worker,
    "/api/org_token/refresh/",
    {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    },
    envOverrides,
  );
}

describe("CORS", () => {
  it("preflight from an allowed origin: 204 with the CORS headers", async () => {
    const response = await preflight(ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("content-type");
    expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    expect(response.headers.get("Vary")).toContain("Origin");
  });

  it("preflight from another origin: 204 with no CORS headers", async () => {
    const response = await preflight("https://evil.example");
    expect(response.status).toBe(204);
    for (const [name] of response.headers) expect(name.toLowerCase().startsWith("access-control-")).toBe(false);
  });

  it("no origins configured (the default): nobody gets CORS headers", async () => {
    const response = await preflight(ALLOWED, { CORS_ALLOWED_ORIGINS: "" });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("actual responses carry the header for an allowed origin, errors included", async () => {
    const s = await seed();
    for (const body of [{ refresh: await mintToken(s) }, {}]) {
      const response = await call(
        worker,
        "/api/org_token/refresh/",
        {
          method: "POST",
          headers: { Origin: ALLOWED, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        },
        corsEnv,
      );
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
      expect(response.headers.get("Access-Control-Expose-Headers")).toBe("Retry-After");
    }
  });

  it("actual responses to another origin carry none", async () => {
    const response = await call(
      worker,
      "/api/org_token/refresh/",
      { method: "POST", headers: { Origin: "https://evil.example", "Content-Type": "application/json" }, body: "{}" },
      corsEnv,
    );
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("an OPTIONS without a preflight's headers is answered as DRF does: JSON metadata and Allow", async () => {
    const response = await call(worker, "/api/org_token/refresh/", { method: "OPTIONS" }, corsEnv);
    expect(response.status).toBe(200);
    expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
    expect(await response.json()).toMatchObject({ parses: expect.arrayContaining(["application/json"]) });
  });
});
