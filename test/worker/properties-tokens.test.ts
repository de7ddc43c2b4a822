/**
 * Property: whatever token is presented (fresh, bit-flipped, segments swapped, re-signed with
 * the real secret around huge, odd or mistyped claims, replayed, or a successor we issued),
 * refresh, logout and membership status never answer a 5xx, never echo it, and refresh answers
 * a pair only for a valid unused refresh token of an active member. Real app, real D1 and KV.
 */
import fc from "fast-check";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { app, call, manualClock, SECRET, type Seeded, seed } from "../support/harness";
import {
  type Answer,
  answerOf,
  checkProperty,
  expectSafeAnswer,
  fromBase64url,
  hexJti,
  isPair,
  mutate,
  mutation,
  oddClaimValue,
  sameToken,
} from "../support/properties";

const RUNS = 1500;

const clock = manualClock();
const NOW_S = Math.floor(clock() / 1000);
const worker = app({ clock });

type SubjectName = "active" | "inactive_member" | "inactive_user" | "not_member" | "unknown_org";
const SUBJECTS: SubjectName[] = ["active", "inactive_member", "inactive_user", "not_member", "unknown_org"];
const subjects = {} as Record<SubjectName, Pick<Seeded, "userId" | "userName" | "orgName">>;

/** Every log line of the file, kept (not printed) and checked for tokens. */
const logged: string[] = [];
beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    });
  }
  subjects.active = await seed();
  subjects.inactive_member = await seed({ membership: "inactive" });
  subjects.inactive_user = await seed({ userActive: false });
  subjects.not_member = await seed({ membership: null });
  subjects.unknown_org = { ...subjects.active, orgName: `${subjects.active.orgName}-gone` };
}, 60_000);

afterAll(() => {
  vi.restoreAllMocks();
});

type Claims = Record<string, unknown>;

/** The claims a verifier holding SECRET sees in the token, or undefined if it is not ours. */
interface Presented {
  token: string;
  claims: Claims | undefined;
}

function baseClaims(subject: SubjectName, type: string, jti: string): Claims {
  const s = subjects[subject];
  const lifetime = type === "refresh" ? 2592000 : 86400;
  return {
    token_type: type,
    exp: NOW_S + lifetime,
    iat: NOW_S,
    jti,
    user_id: s.userId,
    org_name: s.orgName,
    user_name: s.userName,
  };
}

function sign(claims: Claims, header: Claims = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ typ: "JWT", ...header, alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

/** The verifier's checks, written out from the contract: the claims of a token that must be honoured. */
function wellFormed(claims: Claims | undefined, type: "refresh" | "access"): claims is Claims & { jti: string } {
  if (claims === undefined) return false;
  const { token_type, exp, iat, jti, user_id, org_name, user_name, fam } = claims;
  return (
    token_type === type &&
    typeof exp === "number" &&
    Number.isFinite(exp) &&
    exp > NOW_S &&
    typeof iat === "number" &&
    Number.isFinite(iat) &&
    typeof jti === "string" &&
    jti !== "" &&
    typeof user_id === "number" &&
    Number.isSafeInteger(user_id) &&
    typeof org_name === "string" &&
    typeof user_name === "string" &&
    (fam === undefined || (typeof fam === "string" && /^[0-9a-f]{32}$/.test(fam)))
  );
}

function ofActiveMember(claims: Claims): boolean {
  return claims.user_id === subjects.active.userId && claims.org_name === subjects.active.orgName;
}

const familyOf = (claims: Claims) => String(claims.fam ?? claims.jti);

/** What the ledger holds, as learnt from the answers: consumed and logged-out jtis, revoked families. */
const rotated = new Set<string>();
const loggedOut = new Set<string>();
const revokedFamilies = new Set<string>();
const successorOf = new Map<string, string>(); // a rotated jti -> the jti of its pair's refresh token
const pool: Presented[] = []; // every token presented so far
const successors: Presented[] = []; // refresh tokens of the pairs answered

function grantable(presented: Presented): boolean {
  const { claims } = presented;
  if (!wellFormed(claims, "refresh") || !ofActiveMember(claims)) return false;
  return !rotated.has(claims.jti) && !loggedOut.has(claims.jti) && !revokedFamilies.has(familyOf(claims));
}

const claimNames = ["token_type", "exp", "iat", "jti", "user_id", "org_name", "user_name", "fam"] as const;
type Edit = { keep: true } | { remove: true } | { value: unknown };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { arbitrary: fc.constant({ keep: true as const }), weight: 8 },
  { arbitrary: fc.constant({ remove: true as const }), weight: 1 },
  { arbitrary: oddClaimValue.map((value) => ({ value })), weight: 2 },
  {
    // Plausible values: the other type, the edges of expiry, a family, another subject's name.
    arbitrary: fc
      .constantFrom<unknown>(
        "access",
        "refresh",
        NOW_S,
        NOW_S - 1,
        NOW_S + 1,
        NOW_S + 10 ** 10,
        "0123456789abcdef0123456789abcdef",
      )
      .map((value) => ({ value })),
    weight: 2,
  },
);

const subject = fc.constantFrom(...SUBJECTS, "active", "active"); // the one that can earn a pair, more often
const tokenType = fc.constantFrom("refresh", "refresh", "access");

const tokenCase = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("fresh" as const), subject, type: tokenType, jti: hexJti }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant("mutated" as const),
      subject,
      type: tokenType,
      jti: hexJti,
      mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("resigned" as const),
      subject,
      type: tokenType,
      jti: hexJti,
      edits: fc.record(
        Object.fromEntries(claimNames.map((name) => [name, edit])) as Record<
          (typeof claimNames)[number],
          fc.Arbitrary<Edit>
        >,
      ),
      extra: fc.dictionary(
        fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("nbf", "aud", "iss", "sub", "__proto__", "constructor")),
        oddClaimValue,
        { maxKeys: 2 },
      ),
      header: fc.constantFrom<Claims>({}, { kid: "k1" }, { typ: "at+jwt" }, { cty: "JWT" }, { b64: true }),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant("successor" as const), index: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("replay" as const), index: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("junk" as const),
      text: fc.oneof(
        fc.string({ unit: "binary", minLength: 1 }),
        fc.base64String({ minLength: 1 }),
        fc.constantFrom("a.b.c", "..", "eyJ.eyJ."),
      ),
    }),
    weight: 1,
  },
);

type TokenCase = typeof tokenCase extends fc.Arbitrary<infer T> ? T : never;

async function presentedOf(c: TokenCase): Promise<Presented> {
  switch (c.kind) {
    case "fresh": {
      const claims = baseClaims(c.subject, c.type, c.jti);
      return { token: await sign(claims), claims };
    }
    case "mutated": {
      const claims = baseClaims(c.subject, c.type, c.jti);
      const original = await sign(claims);
      const token = c.mutations.reduce(mutate, original);
      return { token, claims: sameToken(token, original) ? claims : undefined };
    }
    case "resigned": {
      const claims: Claims = { ...baseClaims(c.subject, c.type, c.jti) };
      for (const name of claimNames) {
        const e = c.edits[name];
        if ("remove" in e) delete claims[name];
        else if ("value" in e) claims[name] = e.value;
      }
      for (const [name, value] of Object.entries(c.extra))
        Object.defineProperty(claims, name, { value, enumerable: true, writable: true, configurable: true });
      // What the verifier will see is the JSON round trip of what was signed.
      const token = await sign(claims, c.header);
      return { token, claims: JSON.parse(JSON.stringify(claims)) as Claims };
    }
    case "successor":
      return successors.length > 0 ? successors[c.index % successors.length]! : { token: "", claims: undefined };
    case "replay":
      return pool.length > 0 ? pool[c.index % pool.length]! : { token: "", claims: undefined };
    case "junk":
      return { token: c.text, claims: undefined };
  }
}

const HEADER_SAFE = /^[\t\x20-\x7e]*$/; // what a client can put in a header as it is

async function present(
  route: "refresh" | "logout" | "status",
  encoding: "json" | "form" | "multipart",
  token: string,
  org: string,
): Promise<Answer> {
  if (route === "status") {
    return answerOf(
      await call(worker, `/api/membership_status/${encodeURIComponent(org)}/`, {
        headers: { Authorization: `Bearer ${token}` },
      }),
    );
  }
  const path = route === "refresh" ? "/api/org_token/refresh/" : "/api/token/blacklist/";
  let init: RequestInit;
  if (encoding === "json") {
    init = {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh: token }),
    };
  } else if (encoding === "form") {
    init = {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ refresh: token }),
    };
  } else {
    const form = new FormData();
    form.set("refresh", token);
    init = { method: "POST", body: form };
  }
  return answerOf(await call(worker, path, init));
}

describe("property: presented tokens", () => {
  it(`${RUNS} tokens: no 5xx, no echo, a pair only for a valid unused refresh token of an active member`, {
    timeout: 300_000,
  }, async () => {
    let pairs = 0;
    let activeTrue = 0;
    await checkProperty(
      fc.asyncProperty(
        tokenCase,
        fc.constantFrom("refresh", "refresh", "logout", "status"),
        fc.constantFrom("json", "form", "multipart"),
        fc.option(fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }), { freq: 4 }),
        async (c, chosenRoute, encoding, otherOrg) => {
          const presented = await presentedOf(c);
          if (presented.token === "") return; // nothing to replay yet
          const route = chosenRoute === "status" && !HEADER_SAFE.test(presented.token) ? "refresh" : chosenRoute;
          const claimedOrg = typeof presented.claims?.org_name === "string" ? presented.claims.org_name : "SomeOrg";
          const org = otherOrg ?? claimedOrg;
          const couldGrant = grantable(presented);
          const answer = await present(route, encoding, presented.token, org);
          const context = `${route} ${c.kind} ${presented.token.slice(0, 60)}…`;

          expectSafeAnswer(answer, [presented.token], context);
          const logs = logged.splice(0);
          if (presented.token.trim().length >= 12) {
            for (const line of logs)
              expect(line.includes(presented.token.trim()), `${context}: a log line holds the token`).toBe(false);
          }
          if (route !== "refresh") expect(isPair(answer), context).toBe(false);
          if (isPair(answer)) {
            expect(
              couldGrant,
              `${context}: a pair for a token that is not a valid unused one of an active member`,
            ).toBe(true);
          }
          // Not vacuous: a fresh refresh token of an active member does get its pair.
          if (route === "refresh" && c.kind === "fresh" && couldGrant) expect(isPair(answer), context).toBe(true);
          if (route === "status" && (answer.json as { active?: unknown } | undefined)?.active === true) {
            activeTrue += 1;
            const claims = presented.claims;
            expect(
              wellFormed(claims, "access") && ofActiveMember(claims) && org === claims.org_name,
              `${context}: active for a token that does not show it`,
            ).toBe(true);
          }

          // Learn what the ledger now holds, from the answers.
          const jti = presented.claims?.jti;
          if (isPair(answer)) {
            pairs += 1;
            rotated.add(String(jti));
            const refresh = (answer.json as { refresh: string }).refresh;
            const payload = JSON.parse(new TextDecoder().decode(fromBase64url(refresh.split(".")[1]!)));
            successors.push({ token: refresh, claims: payload as Claims });
            successorOf.set(String(jti), String(payload.jti));
          }
          const blacklisted =
            answer.status === 403 &&
            (answer.json as { detail?: unknown } | undefined)?.detail === "Token is blacklisted";
          // A rotated token back revokes its family at logout, and at refresh once its successor was used.
          const successor = successorOf.get(String(jti));
          const chainMoved = successor !== undefined && (rotated.has(successor) || loggedOut.has(successor));
          if (
            blacklisted &&
            presented.claims !== undefined &&
            rotated.has(String(jti)) &&
            (route === "logout" || chainMoved)
          )
            revokedFamilies.add(familyOf(presented.claims));
          if (route === "logout" && answer.status === 200) loggedOut.add(String(jti));
          pool.push(presented);
        },
      ),
      RUNS,
    );
    // The runs reached the interesting answers too.
    expect(pairs).toBeGreaterThan(RUNS / 100);
    expect(activeTrue).toBeGreaterThan(0);
  });
});
