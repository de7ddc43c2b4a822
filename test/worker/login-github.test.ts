/**
 * POST /api/org_token_github/: every row of the contract, against a stand-in for GitHub's
 * REST API that the test answers (the app's outbound fetch), over real D1 and KV.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import { USER_AGENT, waitOf } from "../../src/github/user";
import { storesOver } from "../../src/storage";
import { faultyStores } from "../support/faults";
import {
  type App,
  app,
  call,
  claimsOf,
  env,
  manualClock,
  postJson,
  type Seeded,
  seed,
  unique,
} from "../support/harness";
import { recorder } from "../support/recording";

const PATH = "/api/org_token_github/";
/** The Worker's env vars a test sets (the harness's type, wherever the Worker's Env lives). */
type Vars = NonNullable<Parameters<typeof postJson>[3]>;
const GITHUB = "https://github.test/api/v3";
const NO_ACCOUNT = {
  status: "FAILED",
  error_msg: "Permission Denied: No Social account found that matches login field of given token",
};
const denied = (detail: string) => ({ status: "FAILED", error_msg: `Permission Denied: ${detail}` });

type Behaviour = (request: Request) => Response | Promise<Response>;

/** GitHub as the test wants it: each token's answer, and every request it was asked. */
function fakeGitHub() {
  const answers = new Map<string, Behaviour>();
  const requests: Request[] = [];
  const outbound: typeof fetch = async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    requests.push(request);
    const token = (request.headers.get("Authorization") ?? "").replace(/^token /, "");
    const answer = answers.get(token);
    if (answer === undefined) return Response.json({ message: "Bad credentials" }, { status: 401 });
    return answer(request);
  };
  return {
    outbound,
    requests,
    /** A token of GitHub's account `id`, which GitHub now calls `login`. */
    user(login: string, id: number): string {
      const token = unique("ghp_");
      answers.set(token, () => Response.json({ login, id, type: "User" }));
      return token;
    },
    answer(behaviour: Behaviour): string {
      const token = unique("ghp_");
      answers.set(token, behaviour);
      return token;
    },
  };
}

let accountId = 5000;
/**
 * Links a social account to the user, as allauth stores it: `uid` is GitHub's numeric id as
 * a decimal string (here the account's own id unless given), `login` extra_data's.
 * Returns GitHub's id.
 */
async function linkGitHub(userId: number, login: string | null, provider = "github", githubId?: number) {
  accountId += 1;
  const uid = githubId ?? accountId;
  await env.DB.prepare(
    "INSERT INTO socialaccount_socialaccount (id, user_id, provider, uid, login) VALUES (?1, ?2, ?3, ?4, ?5)",
  )
    .bind(accountId, userId, provider, String(uid), login)
    .run();
  return uid;
}

/** A GitHub id no account is linked to. */
let unlinkedId = 7_000_000;
const unlinkedGitHubId = () => (unlinkedId += 1);

/** A seeded user with a GitHub account of a fresh login; `githubId` is GitHub's id for it (its uid). */
async function githubMember(
  options: Parameters<typeof seed>[0] = {},
): Promise<Seeded & { login: string; githubId: number }> {
  const s = await seed(options);
  const login = unique("gh-user-");
  const githubId = await linkGitHub(s.userId, login);
  return { ...s, login, githubId };
}

function loginGitHub(
  target: App,
  body: Record<string, unknown>,
  envOverrides: Vars = {},
  address = unique("198.51.100."),
) {
  return postJson(target, PATH, body, { GITHUB_API_URL: GITHUB, ...envOverrides }, { "CF-Connecting-IP": address });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GitHub login: the pair", () => {
  it("an active member whose GitHub login has an account gets the password login's pair; GitHub was asked as it wants", async () => {
    const github = fakeGitHub();
    const clock = manualClock();
    const worker = app({ clock, outbound: github.outbound });
    const s = await githubMember();
    const token = github.user(s.login, s.githubId);
    const response = await loginGitHub(worker, { access_token: token, org_name: s.orgName });
    expect(response.status).toBe(200);
    const body = await response.json<Record<string, string>>();
    expect(Object.keys(body)).toEqual(["exp", "access_lifetime", "refresh_lifetime", "refresh", "access"]);
    expect(body.access_lifetime).toBe("86400.0");
    const iat = Math.floor(clock() / 1000);
    expect(claimsOf(body.refresh!)).toMatchObject({
      token_type: "refresh",
      iat,
      user_id: s.userId,
      user_name: s.userName, // the Django username, not the GitHub login
      org_name: s.orgName,
    });
    expect(claimsOf(body.access!)).toMatchObject({ token_type: "access", user_id: s.userId, user_name: s.userName });

    expect(github.requests).toHaveLength(1);
    const asked = github.requests[0]!;
    expect(asked.method).toBe("GET");
    expect(asked.url).toBe(`${GITHUB}/user`);
    expect(asked.headers.get("Authorization")).toBe(`token ${token}`);
    expect(asked.headers.get("Accept")).toBe("application/vnd.github+json");
    expect(asked.headers.get("User-Agent")).toBe(USER_AGENT);

    // The pair is an ordinary one: it refreshes, logs out and is refused after.
    const refreshed = await postJson(worker, "/api/org_token/refresh/", { refresh: body.refresh });
    expect(refreshed.status).toBe(200);
    const next = await refreshed.json<Record<string, string>>();
    expect((await postJson(worker, "/api/token/blacklist/", { refresh: next.refresh })).status).toBe(200);
    expect((await postJson(worker, "/api/org_token/refresh/", { refresh: next.refresh })).status).toBe(403);
  });

  it("takes a form body too, and the path without its trailing slash", async () => {
    const github = fakeGitHub();
    const s = await githubMember();
    const response = await call(
      app({ outbound: github.outbound }),
      "/api/org_token_github",
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ access_token: github.user(s.login, s.githubId), org_name: s.orgName }).toString(),
      },
      { GITHUB_API_URL: GITHUB },
    );
    expect(response.status).toBe(200);
  });

  it("the path is the API's own: with ORIGIN_URL set it is answered here, not forwarded", async () => {
    const github = fakeGitHub();
    const s = await githubMember();
    const response = await loginGitHub(
      app({ outbound: github.outbound }),
      { access_token: github.user(s.login, s.githubId), org_name: s.orgName },
      { ORIGIN_URL: "https://origin.invalid" },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("Via")).toBeNull();
  });

  it("GITHUB_API_URL defaults to api.github.com", async () => {
    const github = fakeGitHub();
    const s = await githubMember();
    await loginGitHub(
      app({ outbound: github.outbound }),
      { access_token: "x", org_name: s.orgName },
      {
        GITHUB_API_URL: undefined,
      },
    );
    expect(github.requests[0]!.url).toBe("https://api.github.com/user");
  });

  it("a GITHUB_API_URL that is not an http(s) URL is the contract's 500, naming the variable", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    const response = await loginGitHub(
      app({ outbound: fakeGitHub().outbound }),
      { access_token: "x", org_name: "o" },
      {
        GITHUB_API_URL: "ftp://github.test",
      },
    );
    expect(response.status).toBe(500);
    expect(errors.join("\n")).toContain("GITHUB_API_URL");
  });
});

describe("GitHub login: refusals", () => {
  const github = fakeGitHub();
  const worker = app({ outbound: github.outbound });

  it("field errors are DRF's, one key per field, and GitHub is not asked", async () => {
    const before = github.requests.length;
    const response = await loginGitHub(worker, { access_token: "" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      org_name: ["This field is required."],
      access_token: ["This field may not be blank."],
    });
    expect(github.requests.length).toBe(before);
  });

  it("a token GitHub refuses (401) is the origin's 403: no social account matches", async () => {
    const s = await githubMember();
    const response = await loginGitHub(worker, { access_token: "ghp_unknown", org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(NO_ACCOUNT);
  });

  it("a 403 from GitHub that is no rate limit refuses the token the same way", async () => {
    const s = await githubMember();
    const token = github.answer(() =>
      Response.json({ message: "Resource not accessible by integration" }, { status: 403 }),
    );
    const response = await loginGitHub(worker, { access_token: token, org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(NO_ACCOUNT);
  });

  it("a token that cannot be a header value is refused without asking GitHub", async () => {
    const before = github.requests.length;
    for (const token of ["ghp_a\u0001b", "ghp_é", "x".repeat(1025)]) {
      const response = await loginGitHub(worker, { access_token: token, org_name: "Org" });
      expect(response.status, token.slice(0, 8)).toBe(403);
      expect(await response.json()).toEqual(NO_ACCOUNT);
    }
    expect(github.requests.length).toBe(before);
  });

  it("a GitHub id without a github account: 403; another provider's account of that uid and login does not count", async () => {
    const s = await seed();
    const login = unique("gh-other-");
    const id = await linkGitHub(s.userId, login, "gitlab");
    const response = await loginGitHub(worker, { access_token: github.user(login, id), org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(NO_ACCOUNT);
  });

  it("issue 23 finding 4: a login name a linked account has in its stored extra_data, answered for another GitHub id, is refused: 403 no social account, nothing issued", async () => {
    // The account's owner renamed at GitHub; someone registered the freed name. The edge's
    // copy of extra_data still says the old name until the owner's next social login.
    const s = await githubMember();
    const response = await loginGitHub(worker, {
      access_token: github.user(s.login, unlinkedGitHubId()),
      org_name: s.orgName,
    });
    expect(response.status).toBe(403);
    const body = await response.json<Record<string, unknown>>();
    expect(body).toEqual(NO_ACCOUNT);
    expect(body).not.toHaveProperty("refresh");
    expect(body).not.toHaveProperty("access");
  });

  it("a linked account whose login changed at GitHub (new login, same id) still logs in; its stored login is not consulted", async () => {
    const s = await githubMember();
    for (const login of [unique("gh-renamed-"), s.login.toUpperCase()]) {
      const response = await loginGitHub(worker, { access_token: github.user(login, s.githubId), org_name: s.orgName });
      expect(response.status, login).toBe(200);
      expect(claimsOf((await response.json<{ refresh: string }>()).refresh)).toMatchObject({
        user_id: s.userId,
        user_name: s.userName,
      });
    }
    // An account whose extra_data has no login matches by its uid all the same.
    const bare = await seed();
    const id = await linkGitHub(bare.userId, null);
    const response = await loginGitHub(worker, {
      access_token: github.user(unique("gh-bare-"), id),
      org_name: bare.orgName,
    });
    expect(response.status).toBe(200);
  });

  it("the uid compares as allauth stores it, the id's decimal digits: another spelling of the number does not match", async () => {
    const s = await seed();
    const id = unlinkedGitHubId();
    for (const uid of [`0${id}`, `${id}.0`, ` ${id}`]) {
      accountId += 1;
      await env.DB.prepare(
        "INSERT INTO socialaccount_socialaccount (id, user_id, provider, uid, login) VALUES (?1, ?2, 'github', ?3, NULL)",
      )
        .bind(accountId, s.userId, uid)
        .run();
    }
    const response = await loginGitHub(worker, { access_token: github.user("someone", id), org_name: s.orgName });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual(NO_ACCOUNT);
  });

  it("unknown organization, not a member, inactive member, disabled account: the origin's wrapped 403s", async () => {
    const member = await githubMember();
    const unknown = await loginGitHub(worker, {
      access_token: github.user(member.login, member.githubId),
      org_name: "NoSuchOrg",
    });
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toEqual(denied("NoSuchOrg is NOT a valid organization name"));

    const outsider = await githubMember({ membership: null });
    const notMember = await loginGitHub(worker, {
      access_token: github.user(outsider.login, outsider.githubId),
      org_name: member.orgName,
    });
    expect(notMember.status).toBe(403);
    expect(await notMember.json()).toEqual(denied(`${outsider.userName} is NOT a member of ${member.orgName}`));

    const inactive = await githubMember({ membership: "inactive" });
    const notActive = await loginGitHub(worker, {
      access_token: github.user(inactive.login, inactive.githubId),
      org_name: inactive.orgName,
    });
    expect(notActive.status).toBe(403);
    expect(await notActive.json()).toEqual(
      denied(`${inactive.userName} is NOT an active Member of ${inactive.orgName}`),
    );

    const disabled = await githubMember({ userActive: false });
    const off = await loginGitHub(worker, {
      access_token: github.user(disabled.login, disabled.githubId),
      org_name: disabled.orgName,
    });
    expect(off.status).toBe(403);
    expect(await off.json()).toEqual(denied("User is inactive"));
  });
});

describe("GitHub login: GitHub unavailable is a 503 with Retry-After, nothing issued", () => {
  const clock = manualClock();
  const github = fakeGitHub();
  const worker = app({ clock, outbound: github.outbound });
  const nowSeconds = () => Math.floor(clock() / 1000);

  async function expect503(behaviour: Behaviour, retryAfter: string, envOverrides: Vars = {}) {
    const s = await githubMember();
    const response = await loginGitHub(
      worker,
      { access_token: github.answer(behaviour), org_name: s.orgName },
      envOverrides,
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe(retryAfter);
    const body = await response.json<Record<string, unknown>>();
    expect(body.detail).toMatch(/GitHub/);
    expect(body).not.toHaveProperty("refresh");
  }

  it("429 with Retry-After: GitHub's wait", () =>
    expect503(() => new Response("{}", { status: 429, headers: { "Retry-After": "120" } }), "120"));

  it("403 with x-ratelimit-remaining 0: until x-ratelimit-reset", () =>
    expect503(
      () =>
        Response.json(
          { message: "API rate limit exceeded" },
          { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(nowSeconds() + 600) } },
        ),
      "600",
    ));

  it("403 with Retry-After (a secondary rate limit): GitHub's wait, at most an hour", () =>
    expect503(() => new Response("", { status: 403, headers: { "Retry-After": "999999" } }), "3600"));

  it("5xx, even with a body that is not JSON: the default wait", () =>
    expect503(() => new Response("<html>unicorn</html>", { status: 502 }), "30"));

  it("an unexpected status (a redirect) is not followed", () =>
    expect503(() => new Response(null, { status: 301, headers: { Location: "https://evil.test/user" } }), "30"));

  it("GitHub unreachable (the fetch fails)", () =>
    expect503(() => {
      throw new TypeError("Network connection lost.");
    }, "30"));

  it("GitHub slower than GITHUB_TIMEOUT: the request is abandoned", () =>
    expect503(
      (request) =>
        new Promise<Response>((_resolve, reject) => {
          request.signal.addEventListener("abort", () => reject(request.signal.reason));
        }),
      "30",
      { GITHUB_TIMEOUT: "0.02" },
    ));

  for (const [name, body] of [
    ["not JSON", "<html>hello</html>"],
    ["JSON without a login", JSON.stringify({ id: 1 })],
    ["a login that is not a string", JSON.stringify({ login: 42, id: 1 })],
    ["an empty login", JSON.stringify({ login: "", id: 1 })],
    ["an array", JSON.stringify([{ login: "a", id: 1 }])],
    ["JSON without an id", JSON.stringify({ login: "a" })],
    ["an id that is a string", JSON.stringify({ login: "a", id: "1" })],
    ["an id of 0", JSON.stringify({ login: "a", id: 0 })],
    ["a negative id", JSON.stringify({ login: "a", id: -1 })],
    ["an id that is no integer", JSON.stringify({ login: "a", id: 1.5 })],
    ["an id past 2^53", '{"login": "a", "id": 9007199254740993}'],
  ] as const) {
    it(`a 200 that is ${name}: not a 500`, () => expect503(() => new Response(body, { status: 200 }), "30"));
  }
});

describe("GitHub login: throttling and secrecy", () => {
  it("per address: past the limit, 429 with Retry-After and GitHub is no longer asked", async () => {
    const github = fakeGitHub();
    const worker = app({ clock: manualClock(), outbound: github.outbound });
    const limits = { LOGIN_ADDRESS_FAILURE_LIMIT: "2" };
    const address = "203.0.113.7";
    for (let i = 0; i < 2; i += 1) {
      expect((await loginGitHub(worker, { access_token: "ghp_bad", org_name: "O" }, limits, address)).status).toBe(403);
    }
    const asked = github.requests.length;
    const throttled = await loginGitHub(worker, { access_token: "ghp_bad", org_name: "O" }, limits, address);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(github.requests.length).toBe(asked);
    // Another address is not affected.
    expect((await loginGitHub(worker, { access_token: "ghp_bad", org_name: "O" }, limits)).status).toBe(403);
  });

  it("per GitHub account: an id without an account is throttled past the pair limit, whatever login GitHub names", async () => {
    const github = fakeGitHub();
    const worker = app({ clock: manualClock(), outbound: github.outbound });
    const limits = { LOGIN_PAIR_FAILURE_LIMIT: "2" };
    const login = unique("gh-nobody-");
    const id = unlinkedGitHubId();
    const address = "203.0.113.8";
    for (const name of [login, unique("gh-renamed-")]) {
      const response = await loginGitHub(
        worker,
        { access_token: github.user(name, id), org_name: "O" },
        limits,
        address,
      );
      expect(response.status).toBe(403);
    }
    const throttled = await loginGitHub(
      worker,
      { access_token: github.user(login.toUpperCase(), id), org_name: "O" },
      limits,
      address,
    );
    expect(throttled.status).toBe(429);
    // Another account that GitHub now calls by that login is counted apart.
    const other = await loginGitHub(
      worker,
      { access_token: github.user(login, unlinkedGitHubId()), org_name: "O" },
      limits,
      address,
    );
    expect(other.status).toBe(403);
  });

  it("GitHub's outages and successes are given back: they never use up the address's attempts", async () => {
    const github = fakeGitHub();
    const worker = app({ clock: manualClock(), outbound: github.outbound });
    const limits = { LOGIN_ADDRESS_FAILURE_LIMIT: "1" };
    const address = "203.0.113.9";
    const s = await githubMember();
    const down = github.answer(() => new Response("", { status: 503 }));
    for (let i = 0; i < 3; i += 1) {
      expect((await loginGitHub(worker, { access_token: down, org_name: s.orgName }, limits, address)).status).toBe(
        503,
      );
    }
    for (let i = 0; i < 3; i += 1) {
      const ok = await loginGitHub(
        worker,
        { access_token: github.user(s.login, s.githubId), org_name: s.orgName },
        limits,
        address,
      );
      expect(ok.status).toBe(200);
    }
  });

  it("no log line holds the GitHub token, whatever the answer", async () => {
    const lines: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const github = fakeGitHub();
    const worker = app({ outbound: github.outbound });
    const s = await githubMember();
    const tokens = [
      github.user(s.login, s.githubId),
      github.answer(() => new Response("nope", { status: 200 })),
      github.answer(() => {
        throw new TypeError("connection refused");
      }),
      github.answer(() => new Response("", { status: 429 })),
      "ghp_refused_by_github",
    ];
    for (const token of tokens) await loginGitHub(worker, { access_token: token, org_name: s.orgName });
    expect(lines.length).toBeGreaterThan(0);
    for (const token of tokens) expect(lines.join("\n")).not.toContain(token);
  });
});

describe("GitHub login: storage", () => {
  it("D1 failing on the social account's read: the contract's 503, nothing issued", async () => {
    const github = fakeGitHub();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const s = await githubMember();
    const response = await loginGitHub(app({ outbound: github.outbound, stores: faultyStores("replica.read") }), {
      access_token: github.user(s.login, s.githubId),
      org_name: s.orgName,
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await response.json()).not.toHaveProperty("refresh");
  });
});

describe("GitHub login: round trips", () => {
  it("the address counted before GitHub, the login after, the account and the standing read, settled after", async () => {
    const github = fakeGitHub();
    const record = recorder();
    const asked: number[] = [];
    const outbound: typeof fetch = (input, init) => {
      asked.push(record.calls.length); // how many storage calls came before GitHub was asked
      return github.outbound(input, init);
    };
    const target = app({
      outbound,
      stores: (bindings) => {
        const recorded = record.env(bindings);
        return storesOver({ db: recorded.DB, kv: recorded.BLACKLIST });
      },
    });
    const s = await githubMember();
    const response = await loginGitHub(target, { access_token: github.user(s.login, s.githubId), org_name: s.orgName });
    expect(response.status).toBe(200);
    // take (address), GitHub, take (login and pair), the social account, then the standing beside the settlement.
    expect(asked).toEqual([1]);
    expect(record.names()).toEqual(["d1.batch", "d1.batch", "session.first", "d1.batch", "session.first"]);
    expect(record.calls.filter((c) => c.name === "d1.batch").map((c) => c.statements)).toEqual([1, 2, 3]);
  });
});

describe("GitHub settings and waits", () => {
  const secret = "github-settings-secret-that-is-long-enough-0123";
  const load = (settings: Record<string, string>) => loadConfig({ secret, settings });

  it("GITHUB_API_URL: a GitHub Enterprise base keeps its path, loses its trailing slash; a query or credentials are refused", async () => {
    expect((await load({ githubApiUrl: "https://ghe.example.org/api/v3/" })).githubApiUrl).toBe(
      "https://ghe.example.org/api/v3",
    );
    await expect(load({ githubApiUrl: "https://api.github.com/?x=1" })).rejects.toBeInstanceOf(ConfigError);
    await expect(load({ githubApiUrl: "https://u:p@api.github.com" })).rejects.toBeInstanceOf(ConfigError);
    await expect(load({ githubApiUrl: "not a url" })).rejects.toThrow(/githubApiUrl is not a URL/);
  });

  it("GITHUB_TIMEOUT: seconds from 0.001 to 60, default 5", async () => {
    expect((await load({})).githubTimeout).toBe(5);
    expect((await load({ githubTimeout: "0.5" })).githubTimeout).toBe(0.5);
    await expect(load({ githubTimeout: "0" })).rejects.toBeInstanceOf(ConfigError);
    await expect(load({ githubTimeout: "61" })).rejects.toBeInstanceOf(ConfigError);
  });

  it("Retry-After as seconds or an HTTP date, else x-ratelimit-reset, within 1 s and an hour", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(waitOf("17", null, now)).toBe(17);
    expect(waitOf(new Date(now + 90_000).toUTCString(), null, now)).toBe(90);
    expect(waitOf(null, String(now / 1000 + 45), now)).toBe(45);
    expect(waitOf(null, String(now / 1000 - 45), now)).toBe(1); // a reset already past
    expect(waitOf("0", null, now)).toBe(1);
    expect(waitOf(null, null, now)).toBe(30);
    expect(waitOf("soon", "later", now)).toBe(30);
  });
});
