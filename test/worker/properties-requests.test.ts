/**
 * Property: whatever request arrives (method, path, content type, body, headers), the app
 * answers without a 5xx, echoes no presented token or password, and answers a pair only when
 * the request carried a valid unused refresh token of an active member, or the right
 * credentials. Real app, real D1 and KV.
 *
 * Logins cost a password hash (as Django's, even for unknown users), so the bulk of the runs
 * come from one client address whose failure allowance is spent in `beforeAll`: they reach the
 * throttle, not the hash. A handful of unthrottled runs mutate real credentials. The app runs on
 * the test password work (real PBKDF2 at 1000 iterations, test/support/harness.ts): these
 * properties are about answers, not the hash, which test/worker/passwords.test.ts covers.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../worker/env";
import {
  call,
  manualClock,
  mintToken,
  postJson,
  QUICK_HASH,
  quickApp,
  type Seeded,
  seed,
  vectors,
} from "../support/harness";
import { type Answer, answerOf, checkProperty, expectSafeAnswer, hexJti, isPair } from "../support/properties";

const RUNS = 1500;
const LOGIN_RUNS = 3;

const clock = manualClock();
const worker = quickApp({ clock });
const ADDRESS = "203.0.113.7";
const ALLOWED_ORIGIN = "https://app.example";
/** Every run's settings: one failed login per address, and a CORS origin to answer. */
const SETTINGS: Partial<Env> = { LOGIN_ADDRESS_FAILURE_LIMIT: "1", CORS_ALLOWED_ORIGINS: ALLOWED_ORIGIN };
const PASSWORD = vectors.django_password_hashes.password;

const PATHS = [
  "/api/org_token/",
  "/api/org_token/refresh/",
  "/api/token/blacklist/",
  "/api/membership_status/ORG/",
  "/api/schema/",
];

let member: Seeded; // an active member: its tokens may be presented
let account: Seeded; // an active member with a password, for the logins
const logged: string[] = [];

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    });
  }
  member = await seed();
  account = await seed({ passwordHash: QUICK_HASH });
  // Spend the address's allowance: from now on its logins answer 429 before any hash.
  const failed = await postJson(
    worker,
    "/api/org_token/",
    { username: "nobody", password: "wrong-password", org_name: "x" },
    SETTINGS,
    {
      "CF-Connecting-IP": ADDRESS,
    },
  );
  expect(failed.status).toBe(401);
  const throttled = await postJson(
    worker,
    "/api/org_token/",
    { username: "nobody", password: "x", org_name: "x" },
    SETTINGS,
    {
      "CF-Connecting-IP": ADDRESS,
    },
  );
  expect(throttled.status).toBe(429);
}, 60_000); // a loaded machine

afterAll(() => {
  vi.restoreAllMocks();
});

/** Placeholders in generated bodies, replaced by the run's own values. */
const TOKEN = "\u0001TOKEN\u0001";
const SPENT = "\u0001SPENT\u0001";
const ACCESS = "\u0001ACCESS\u0001";
const SECRET_PASSWORD = "\u0001PASSWORD\u0001";

const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(TOKEN, SPENT, ACCESS, SECRET_PASSWORD, ` ${TOKEN} `, `${TOKEN}\n`), weight: 6 },
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", " ", "\t\n", "null", "0", "eyJ", "a.b.c"),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, false, 0, -0, 1e21, 2 ** 53 + 1),
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(fc.constantFrom(TOKEN, "x"), { maxLength: 2 }),
  fc.integer({ min: 1, max: 70 }).map((k) => "y".repeat(k * 1000)), // up to past the 64 KiB limit
);

const fieldName = fc.oneof(
  { arbitrary: fc.constantFrom("refresh", "username", "password", "org_name"), weight: 6 },
  fc.string({ maxLength: 8 }),
  fc.constantFrom("__proto__", "constructor", "Refresh", "refresh ", "refresh[]"),
);

const fields = fc.oneof(
  { arbitrary: fc.constant<Record<string, unknown>>({ refresh: TOKEN }), weight: 3 },
  { arbitrary: fc.constant<Record<string, unknown>>({ refresh: SPENT }), weight: 1 },
  {
    arbitrary: fc.constant<Record<string, unknown>>({ username: "user", password: SECRET_PASSWORD, org_name: "Org" }),
    weight: 1,
  },
  { arbitrary: fc.dictionary(fieldName, fieldValue, { maxKeys: 4 }), weight: 6 },
);

/** JSON the serializer would never write: odd numbers, lone surrogates, duplicates, depth, BOM. */
const rawJson = fc.constantFrom(
  `{"refresh": 1e999}`,
  `{"refresh": -1e999}`,
  `{"refresh": "\\ud800"}`,
  `{"refresh": "x", "refresh": "${TOKEN}"}`,
  `{"refresh": "${TOKEN}"} trailing`,
  `\ufeff{"refresh": "${TOKEN}"}`,
  `${"[".repeat(5000)}${"]".repeat(5000)}`,
  `{"refresh": ${"[".repeat(3000)}${"]".repeat(3000)}}`,
  `"just a string"`,
  `123`,
  `true`,
  `null`,
  `{"refresh": "${TOKEN}"`,
  `{'refresh': 'x'}`,
  `{"refresh": "${TOKEN}", "__proto__": {"refresh": "x"}}`,
);

type BodyCase =
  | { encoding: "json" | "form" | "multipart" | "multipart_file"; fields: Record<string, unknown> }
  | { encoding: "raw_json" | "text"; text: string }
  | { encoding: "bytes"; bytes: Uint8Array }
  | { encoding: "none" };

const body: fc.Arbitrary<BodyCase> = fc.oneof(
  {
    arbitrary: fc.record({ encoding: fc.constantFrom("json", "form", "multipart", "multipart_file"), fields }),
    weight: 8,
  },
  { arbitrary: fc.record({ encoding: fc.constant("raw_json"), text: rawJson }), weight: 2 },
  { arbitrary: fc.record({ encoding: fc.constant("bytes"), bytes: fc.uint8Array({ maxLength: 200 }) }), weight: 1 },
  {
    arbitrary: fc.record({ encoding: fc.constant("text"), text: fc.string({ unit: "binary", maxLength: 200 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ encoding: fc.constant("none") }), weight: 1 },
);

const contentType = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 10 }, // the one that fits the body
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json;charset=latin-1",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=zzz",
    "text/plain",
    "",
    "*/*",
    "application/merge-patch+json",
  ),
  fc.string({ unit: "grapheme-ascii", maxLength: 40 }),
);

const method = fc.oneof(
  { arbitrary: fc.constant("POST"), weight: 10 },
  fc.constantFrom("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "post", "get", "options"),
  // Others that workerd knows (it refuses to build a Request with a method it does not).
  fc.constantFrom("PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PURGE", "REPORT", "SEARCH", "patch", "Post"),
);

function methodAllowed(name: string): boolean {
  try {
    new Request("http://ps.test/", { method: name });
    return true;
  } catch {
    return false;
  }
}

const segment = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }).map(encodeURIComponent),
  fc.constantFrom("%zz", "%", "%2F", "..", ".", "%00", "%E2%82", "a%2Fb", ";x", "~", "%F0%9F%92%A5"),
);

type PathEdit =
  | { edit: "none" | "no_slash" | "double_slash" | "upper" | "dot_segment" }
  | { edit: "append" | "org" | "query"; text: string };

const pathEdit: fc.Arbitrary<PathEdit> = fc.oneof(
  { arbitrary: fc.constant({ edit: "none" as const }), weight: 10 },
  fc.constantFrom(
    { edit: "no_slash" as const },
    { edit: "double_slash" as const },
    { edit: "upper" as const },
    { edit: "dot_segment" as const },
  ),
  {
    arbitrary: fc.record({ edit: fc.constantFrom("append" as const, "org" as const, "query" as const), text: segment }),
    weight: 4,
  },
);

function pathOf(base: string, edit: PathEdit, org: string): string {
  const path = base.replace("ORG", encodeURIComponent(org));
  switch (edit.edit) {
    case "none":
      return path;
    case "no_slash":
      return path.replace(/\/$/, "");
    case "double_slash":
      return path.replace("/api/", "/api//");
    case "upper":
      return path.toUpperCase();
    case "dot_segment":
      return path.replace("/api/", "/api/x/../");
    case "append":
      return `${path}${edit.text}/`;
    case "org":
      return path.replace(`/${encodeURIComponent(org)}/`, `/${edit.text}/`);
    case "query":
      return `${path}?${edit.text}=${edit.text}`;
  }
}

const headerName = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,12}$/)
  .filter(
    (name) =>
      ![
        "content-type",
        "content-length",
        "cf-connecting-ip",
        "host",
        "transfer-encoding",
        "authorization",
        "origin",
      ].includes(name),
  );

const headers = fc.record(
  {
    authorization: fc.oneof(
      fc.constantFrom(
        `Bearer ${ACCESS}`,
        `bearer ${ACCESS}`,
        `Bearer  ${ACCESS}  `,
        `Bearer ${TOKEN}`,
        `Basic ${TOKEN}`,
        "Bearer",
        "Bearer ",
      ),
      fc.string({ unit: "grapheme-ascii", maxLength: 40 }).map((text) => `Bearer ${text}`),
    ),
    origin: fc.constantFrom(ALLOWED_ORIGIN, "https://evil.example", "null", `${ALLOWED_ORIGIN}/`),
    preflightMethod: fc.constantFrom("POST", "GET", "DELETE", "post"),
    preflightHeaders: fc.constantFrom("content-type", "authorization, content-type", "x-anything"),
    extra: fc.tuple(headerName, fc.string({ unit: "grapheme-ascii", maxLength: 30 })),
  },
  { requiredKeys: [] },
);

interface Values {
  token: string; // a fresh refresh token of the member, never presented before
  spent: string; // one already redeemed
  access: string; // the member's access token
  password: string;
}

function fill(text: string, values: Values): string {
  return text
    .replaceAll(TOKEN, values.token)
    .replaceAll(SPENT, values.spent)
    .replaceAll(ACCESS, values.access)
    .replaceAll(SECRET_PASSWORD, values.password);
}

function fillValue(value: unknown, values: Values): unknown {
  if (typeof value === "string") return fill(value, values);
  if (Array.isArray(value)) return value.map((item) => fillValue(item, values));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: fillValue(item, values),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** The body and its Content-Type; undefined when workerd would not even build it (a test-side limit). */
async function encode(
  b: BodyCase,
  values: Values,
): Promise<{ body: BodyInit | null; type: string | undefined } | undefined> {
  switch (b.encoding) {
    case "json":
      return { body: JSON.stringify(fillValue(b.fields, values)), type: "application/json" };
    case "raw_json":
      return { body: fill(b.text, values), type: "application/json" };
    case "form":
      return {
        body: new URLSearchParams(
          Object.entries(b.fields).map(([k, v]) => [
            k,
            typeof v === "string" ? fill(v, values) : (JSON.stringify(v) ?? ""),
          ]),
        ),
        type: "application/x-www-form-urlencoded",
      };
    case "multipart":
    case "multipart_file": {
      const form = new FormData();
      if (Object.keys(b.fields).some((key) => key.endsWith("\\"))) return undefined; // workerd refuses such names
      for (const [key, value] of Object.entries(b.fields)) {
        const text = typeof value === "string" ? fill(value, values) : (JSON.stringify(value) ?? "");
        if (b.encoding === "multipart_file") form.append(key, new Blob([text]), "field.txt");
        else form.append(key, text);
      }
      // Serialized here, so that a generated Content-Type can replace the one with the boundary.
      const request = new Request("http://ps.test/", { method: "POST", body: form });
      return {
        body: new Uint8Array(await request.arrayBuffer()),
        type: request.headers.get("Content-Type") ?? undefined,
      };
    }
    case "bytes":
      return { body: b.bytes, type: "application/json" };
    case "text":
      return { body: b.text, type: "text/plain" };
    case "none":
      return { body: null, type: undefined };
  }
}

let spentToken: string | undefined;

async function freshValues(jti: string, password: string): Promise<Values> {
  const nowMs = clock();
  const token = await mintToken(member, { nowMs, claims: { jti } });
  const access = await mintToken(member, { nowMs, type: "access", claims: { jti: `a${jti.slice(1)}` } });
  if (spentToken === undefined) {
    spentToken = await mintToken(member, { nowMs });
    expect((await postJson(worker, "/api/org_token/refresh/", { refresh: spentToken }, SETTINGS)).status).toBe(200);
  }
  return { token, spent: spentToken, access, password };
}

describe("property: arbitrary requests", () => {
  it(`${RUNS} requests: no 5xx, no echo, a pair only for the fresh token on refresh`, {
    timeout: 300_000,
  }, async () => {
    let pairs = 0;
    await checkProperty(
      fc.asyncProperty(
        fc.record({
          method,
          base: fc.constantFrom(...PATHS, "/api/org_token/refresh/", "/api/org_token/refresh/"),
          pathEdit,
          org: fc.oneof(fc.constant("ORG_OF_MEMBER"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 })),
          body,
          contentType,
          headers,
          jti: hexJti,
          // Marked, so that no other generated text (an echoed Content-Type) can equal it by chance.
          password: fc
            .string({ unit: "grapheme-ascii", minLength: 4, maxLength: 24 })
            .map((text) => `pw-secret-${text}`),
        }),
        async (c) => {
          const values = await freshValues(c.jti, c.password);
          const org = c.org === "ORG_OF_MEMBER" ? member.orgName : c.org;
          const path = pathOf(c.base, c.pathEdit, org);
          if (!URL.canParse(`http://ps.test${path}`) || !methodAllowed(c.method)) return;
          const encoded = await encode(c.body, values);
          if (encoded === undefined) return;
          const init: RequestInit & { headers: Record<string, string> } = {
            method: c.method,
            headers: { "CF-Connecting-IP": ADDRESS },
            body: ["GET", "HEAD"].includes(c.method.toUpperCase()) ? null : encoded.body,
          };
          const type = c.contentType ?? encoded.type;
          if (type !== undefined) init.headers["Content-Type"] = type;
          const h = c.headers;
          if (h.authorization !== undefined) init.headers.Authorization = fill(h.authorization, values);
          if (h.origin !== undefined) init.headers.Origin = h.origin;
          if (h.preflightMethod !== undefined) init.headers["Access-Control-Request-Method"] = h.preflightMethod;
          if (h.preflightHeaders !== undefined) init.headers["Access-Control-Request-Headers"] = h.preflightHeaders;
          if (h.extra !== undefined) init.headers[h.extra[0]] = h.extra[1];

          const answer: Answer = await answerOf(await call(worker, path, init, SETTINGS));
          const context = `${c.method} ${path} (${c.body.encoding}, ${type ?? "no type"})`;
          // What was presented, wherever it was put (body fields, Authorization).
          const presented = [values.token, values.spent, values.access, values.password];
          expectSafeAnswer(answer, presented, context);
          for (const line of logged.splice(0)) {
            for (const secret of presented)
              if (secret.trim().length >= 12)
                expect(line.includes(secret.trim()), `${context}: a log line holds ${secret.slice(0, 20)}…`).toBe(
                  false,
                );
          }
          if (isPair(answer)) {
            pairs += 1;
            // Only refresh can answer a pair here (logins never get past the throttle), and only
            // for the run's fresh token: the spent one and the access token never redeem.
            expect(c.method.toUpperCase(), context).toBe("POST");
            expect(new URL(path, "http://ps.test").pathname.replace(/\/$/, ""), context).toBe("/api/org_token/refresh");
            const sent = init.body instanceof Uint8Array ? new TextDecoder().decode(init.body) : String(init.body);
            expect(sent.includes(values.token), `${context}: a pair without the fresh token`).toBe(true);
          }
        },
      ),
      RUNS,
    );
    expect(pairs).toBeGreaterThan(RUNS / 100);
  });

  it(`${LOGIN_RUNS} logins around the right credentials: a pair only for exactly them`, {
    timeout: 120_000,
  }, async () => {
    const credential = (right: string) =>
      fc.oneof(
        { arbitrary: fc.constant(right), weight: 3 },
        fc.constantFrom(` ${right} `, right.toUpperCase(), right.slice(0, -1), `${right}x`, `${right}\u0000`),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
      );
    let pairs = 0;
    await checkProperty(
      fc.asyncProperty(
        credential(account.userName),
        credential(PASSWORD),
        credential(account.orgName),
        fc.constantFrom("json", "form"),
        async (username, password, orgName, encoding) => {
          const fieldsSent = { username, password, org_name: orgName };
          const response =
            encoding === "json"
              ? await postJson(worker, "/api/org_token/", fieldsSent)
              : await call(worker, "/api/org_token/", {
                  method: "POST",
                  headers: { "Content-Type": "application/x-www-form-urlencoded" },
                  body: new URLSearchParams(fieldsSent),
                });
          const answer = await answerOf(response);
          const context = `login ${JSON.stringify({ username, org_name: orgName })}`;
          expectSafeAnswer(answer, [password, PASSWORD], context);
          for (const line of logged.splice(0))
            expect(line.includes(PASSWORD), `${context}: a log line holds the password`).toBe(false);
          if (isPair(answer)) {
            pairs += 1;
            // DRF's CharField trims every field, the password too, and refuses NUL (HMAC pads a
            // short key with zeros, so PBKDF2 alone could not tell "pw" from "pw\0").
            expect([username.trim(), password.trim(), orgName.trim()], context).toEqual([
              account.userName,
              PASSWORD,
              account.orgName,
            ]);
          }
        },
      ),
      LOGIN_RUNS,
      [[account.userName, PASSWORD, account.orgName, "json"]], // the right ones, at least once
    );
    expect(pairs).toBeGreaterThan(0);
  });
});
