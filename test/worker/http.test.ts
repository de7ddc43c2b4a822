/** The contract's common behaviour, on the refresh route: bodies, paths, methods, configuration. */
import { exports } from "cloudflare:workers";
import { jwtVerify } from "jose";
import { describe, expect, it, vi } from "vitest";
import devVarsExample from "../../.dev.vars.example?raw";
import wranglerToml from "../../wrangler.toml?raw";
import { app, call, mintToken, postJson, SECRET, seed } from "../support/harness";

const PATH = "/api/org_token/refresh/";
const worker = app();

function post(body: BodyInit | null, contentType?: string, path = PATH) {
  const headers: Record<string, string> = contentType === undefined ? {} : { "Content-Type": contentType };
  return call(worker, path, { method: "POST", headers, body });
}

describe("request bodies", () => {
  it("accepts JSON, form and multipart bodies alike", async () => {
    const s = await seed();
    const form = new FormData();
    form.set("refresh", await mintToken(s));
    const bodies: [BodyInit, string | undefined][] = [
      [JSON.stringify({ refresh: await mintToken(s) }), "application/json"],
      [JSON.stringify({ refresh: await mintToken(s) }), "application/json; charset=utf-8"],
      [new URLSearchParams({ refresh: await mintToken(s) }).toString(), "application/x-www-form-urlencoded"],
      [form, undefined], // fetch sets multipart/form-data with its boundary
    ];
    for (const [body, type] of bodies) {
      const response = await post(body, type);
      expect(response.status).toBe(200);
      expect(await response.json()).toHaveProperty("access");
    }
  });

  it.each([
    ["missing", {}, "This field is required."],
    ["blank", { refresh: "" }, "This field may not be blank."],
    ["whitespace only", { refresh: "   " }, "This field may not be blank."],
    ["null", { refresh: null }, "This field may not be null."],
    ["a list", { refresh: ["a"] }, "Not a valid string."],
    ["an object", { refresh: { a: 1 } }, "Not a valid string."],
    ["a boolean", { refresh: true }, "Not a valid string."],
  ])("field error when refresh is %s", async (_name, body, message) => {
    const response = await postJson(worker, PATH, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ refresh: [message] });
  });

  it("a number is a string to DRF, then an invalid token", async () => {
    const response = await postJson(worker, PATH, { refresh: 12345 });
    expect(response.status).toBe(403);
  });

  it("an empty body is empty data, whatever its type", async () => {
    for (const type of [undefined, "application/json", "text/plain"]) {
      const response = await post(null, type);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ refresh: ["This field is required."] });
    }
  });

  it("form fields are validated the same way", async () => {
    const response = await post("refresh=", "application/x-www-form-urlencoded");
    expect(await response.json()).toEqual({ refresh: ["This field may not be blank."] });
  });

  it("malformed JSON: 400 JSON parse error", async () => {
    const response = await post('{"refresh": ', "application/json");
    expect(response.status).toBe(400);
    const body = await response.json<{ detail: string }>();
    expect(body.detail).toMatch(/^JSON parse error - ./);
  });

  it("JSON that is not an object", async () => {
    const list = await post("[1, 2]", "application/json");
    expect(list.status).toBe(400);
    expect(await list.json()).toEqual({ non_field_errors: ["Invalid data. Expected a dictionary, but got list."] });
    const nothing = await post("null", "application/json");
    expect(await nothing.json()).toEqual({ non_field_errors: ["No data provided"] });
  });

  it.each(["text/plain", "application/xml", "application/jsonx"])("unsupported media type %s: 415", async (type) => {
    const response = await post('{"refresh": "x"}', type);
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ detail: `Unsupported media type "${type}" in request.` });
  });

  it("a body over 64 KiB: 413, by Content-Length or by counting a stream", async () => {
    const big = JSON.stringify({ refresh: "x".repeat(64 * 1024) });
    const declared = await post(big, "application/json");
    expect(declared.status).toBe(413);
    expect(await declared.json()).toHaveProperty("detail");

    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await call(worker, PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: stream,
      // @ts-expect-error: workerd's RequestInit takes duplex for streamed bodies
      duplex: "half",
    });
    expect(chunked.status).toBe(413);
  });

  it("a body of exactly 64 KiB is read", async () => {
    const padding = 64 * 1024 - JSON.stringify({ refresh: "" }).length;
    const response = await post(JSON.stringify({ refresh: "x".repeat(padding) }), "application/json");
    expect(response.status).toBe(403); // read, parsed, and an invalid token
  });
});

describe("request bodies as DRF reads them: whitespace, NUL, charset", () => {
  it.each([
    ["U+0085 and U+001F only (Python strips them; JavaScript's trim does not)", "\u0085\u001f\u001c"],
    ["Unicode spaces only", "\u3000\u2028\u00a0\t"],
  ])("blank after Python's str.strip: %s", async (_name, value) => {
    const response = await postJson(worker, PATH, { refresh: value });
    expect(await response.json()).toEqual({ refresh: ["This field may not be blank."] });
  });

  it("a lone U+FEFF is not whitespace to Python: not blank, an invalid token", async () => {
    const response = await postJson(worker, PATH, { refresh: "\ufeff" });
    expect(response.status).toBe(403);
  });

  it.each([
    ["JSON", () => post(JSON.stringify({ refresh: "abc\u0000def" }), "application/json")],
    ["form", () => post("refresh=abc%00def", "application/x-www-form-urlencoded")],
  ])('NUL in a %s field: DRF\'s "Null characters are not allowed."', async (_name, send) => {
    const response = await send();
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ refresh: ["Null characters are not allowed."] });
  });

  it("a lone surrogate (a JSON escape): DRF's surrogate message", async () => {
    const response = await post('{"refresh": "ab\\ud800"}', "application/json");
    expect(await response.json()).toEqual({ refresh: ["Surrogate characters are not allowed: U+D800."] });
  });

  it("a UTF-8 BOM before JSON: Python's json refuses it", async () => {
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"refresh": "x"}')]);
    const response = await post(body, "application/json");
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      detail: "JSON parse error - Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
    });
  });

  it("JSON bytes that are not UTF-8: a parse error naming the codec", async () => {
    const response = await post(new Uint8Array([0x7b, 0xff, 0x7d]), "application/json");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(
      /^JSON parse error - 'utf-8' codec can't decode/,
    );
  });

  it.each(["application/json; charset=shift_jis", "application/x-www-form-urlencoded; charset=windows-1252"])(
    "a charset this API does not decode: 415 rather than a misreading (%s)",
    async (type) => {
      const response = await post("refresh=x", type);
      expect(response.status).toBe(415);
    },
  );
});

describe("paths and methods", () => {
  it("the path matches with and without its trailing slash", async () => {
    const s = await seed();
    for (const path of ["/api/org_token/refresh/", "/api/org_token/refresh"]) {
      const response = await postJson(worker, path, { refresh: await mintToken(s) });
      expect(response.status).toBe(200);
    }
  });

  it.each(["GET", "PUT", "PATCH", "DELETE"])("%s: 405 with an Allow header", async (method) => {
    const response = await call(worker, PATH, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
    expect(await response.json()).toEqual({ detail: `Method "${method}" not allowed.` });
  });

  it.each(["/api/org_token/refreshh/", "/api/", "/", "/api/org_token/refresh/extra"])(
    "unknown path %s: 404",
    async (path) => {
      const response = await call(worker, path, { method: "POST" });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ detail: "The requested resource was not found on this server." });
    },
  );

  it("every response is JSON and none echoes the presented token", async () => {
    const token = await mintToken(await seed({ membership: null }));
    const response = await postJson(worker, PATH, { refresh: token });
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await response.text()).not.toContain(token);
  });
});

/** Console lines written while `run` runs (kept, not printed). */
async function consoleLines<T>(
  run: () => Promise<T>,
): Promise<{ result: T; lines: { method: string; text: string }[] }> {
  const lines: { method: string; text: string }[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push({ method, text: args.map(String).join(" ") });
    }),
  );
  try {
    return { result: await run(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

const MISCONFIGURED = { detail: "Server misconfigured: the token service cannot sign or verify tokens." };

/** The one config_error line an operator gets, naming the variable (and holding no token). */
function expectConfigErrorLogged(lines: { method: string; text: string }[], variable: string, token?: string) {
  const configErrors = lines.filter(({ text }) => text.includes("config_error"));
  expect(configErrors, JSON.stringify(lines)).toHaveLength(1);
  const [line] = configErrors;
  expect(line!.method).toBe("error");
  expect(JSON.parse(line!.text)).toMatchObject({ event: "config_error" });
  expect(line!.text).toContain(variable);
  if (token !== undefined) expect(line!.text).not.toContain(token);
}

describe("configuration", () => {
  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["shorter than 32 bytes", "x".repeat(31)],
  ])("a %s JWT_SECRET_KEY fails every request with a clear 500 and signs nothing", async (_name, secret) => {
    const s = await seed();
    const token = await mintToken(s);
    const { result: response, lines } = await consoleLines(() =>
      postJson(worker, PATH, { refresh: token }, { JWT_SECRET_KEY: secret }),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual(MISCONFIGURED);
    expectConfigErrorLogged(lines, "JWT_SECRET_KEY", token);
    // The token was not consumed: with the right secret it still refreshes.
    expect((await postJson(worker, PATH, { refresh: token })).status).toBe(200);
  });

  it.each([
    ["ACCESS_TOKEN_LIFETIME", "-1"],
    ["ACCESS_TOKEN_LIFETIME", "0"],
    ["REFRESH_TOKEN_LIFETIME", "soon"],
    ["REFRESH_REUSE_INTERVAL", "-5"],
    ["CORS_ALLOWED_ORIGINS", "not a url"],
    ["CORS_ALLOWED_ORIGINS", "https://app.example/path"],
    ["LOGIN_USER_FAILURE_LIMIT", "0"],
    ["LOGIN_ADDRESS_FAILURE_LIMIT", "1.5"],
  ])("an invalid %s (%s) is a 500, not a guess: the contract's body, and a log line naming it", async (name, value) => {
    const s = await seed();
    const token = await mintToken(s);
    const { result: response, lines } = await consoleLines(() =>
      postJson(worker, PATH, { refresh: token }, { [name]: value }),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual(MISCONFIGURED);
    expectConfigErrorLogged(lines, name, token);
    // Nothing was guessed and nothing consumed: with the deployed settings the token refreshes.
    expect((await postJson(worker, PATH, { refresh: token })).status).toBe(200);
  });

  it("a secret of 32 bytes is enough", async () => {
    const secret = "k".repeat(32);
    const s = await seed();
    const response = await postJson(
      worker,
      PATH,
      { refresh: await mintToken(s, { secret }) },
      { JWT_SECRET_KEY: secret },
    );
    expect(response.status).toBe(200);
  });

  it("the deployed env has the secret the tests expect: the Worker's own entry signs and verifies with it, and wrangler.toml commits none", async () => {
    // The secret is a secret: never among wrangler.toml's [vars], so tests and deploys must supply it.
    expect(wranglerToml).not.toMatch(/^\s*JWT_SECRET_KEY\s*=/m); // in no section at all
    const vars = /^\[vars\]\s*$([\s\S]*?)(?=^\[)/m.exec(`${wranglerToml}\n[end]`)?.[1] ?? "";
    // The documented local secret (.dev.vars.example, copied to .dev.vars) is one the config accepts.
    const example = /^JWT_SECRET_KEY=(.*)$/m.exec(devVarsExample)?.[1]?.trim() ?? "";
    expect(new TextEncoder().encode(example).byteLength).toBeGreaterThanOrEqual(32);
    const declared = Object.fromEntries([...vars.matchAll(/^\s*(\w+)\s*=\s*"([^"]*)"/gm)].map(([, k, v]) => [k!, v!]));

    // Through the entry wrangler.toml names (worker/index.ts), with the env it builds.
    const s = await seed();
    const viaEntry = (token: string) =>
      exports.default.fetch(
        new Request(`http://ps.test${PATH}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh: token }),
        }),
      );
    const response = await viaEntry(await mintToken(s));
    expect(response.status).toBe(200);
    const pair = await response.json<{ access: string; refresh: string; access_lifetime: string }>();
    const key = new TextEncoder().encode(SECRET);
    const { payload } = await jwtVerify(pair.access, key, { algorithms: ["HS256"] });
    expect(payload.exp! - payload.iat!).toBe(Number(declared.ACCESS_TOKEN_LIFETIME ?? 86400)); // or the default
    await expect(jwtVerify(pair.refresh, key, { algorithms: ["HS256"] })).resolves.toBeDefined();
    // A token signed with any other secret, however long, is not ours.
    const stranger = await mintToken(s, { secret: `${SECRET}-but-another-one` });
    expect((await viaEntry(stranger)).status).toBe(403);
  });
});
