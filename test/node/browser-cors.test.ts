/**
 * CORS as a real browser enforces it: headless Chromium loads a page from an allowed origin
 * and one from another origin, and each `fetch`es the Worker (`wrangler dev`, local D1) with
 * a JSON body, which makes the browser preflight. The allowed page logs in and refreshes;
 * the other page's requests are blocked by the browser, never reaching the routes.
 *
 * Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs
 * it). Where CI is set (CI=true, as CI runs `.ci/run`) it is required: its absence is a failure.
 * Elsewhere it is skipped with a warning. playwright-core drives it; no browser is downloaded.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalWorker,
  type PageServer,
  seedDatabase,
  servePage,
  sqlString,
  startWorker,
} from "./support/local-worker";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** CI says the browser is there: `.ci/run` installs it and fails if it cannot. */
const CHROMIUM_REQUIRED = (process.env.CI ?? "") !== "" && !["0", "false"].includes(process.env.CI!.toLowerCase());
const ABSENT = `${CHROMIUM} is absent (apt-get install -y chromium)`;
if (!HAVE_CHROMIUM && !CHROMIUM_REQUIRED) console.warn(`browser-cors: skipped, ${ABSENT}; required where CI=true`);

describe.runIf(!HAVE_CHROMIUM && CHROMIUM_REQUIRED)("CORS in headless Chromium, required under CI", () => {
  it("fails rather than skips: CI=true and Chromium is missing", () => {
    expect.fail(`browser-cors: ${ABSENT}, and CI=${process.env.CI} requires it (.ci/run installs it)`);
  });
});

const USERNAME = "ceugarteblair";
const PASSWORD = "correct horse battery staple";
const ORG = "UofMDTest";
// Django's make_password for PASSWORD (100000 iterations: older than the Worker's 600000).
const PASSWORD_HASH = "pbkdf2_sha256$100000$saltsaltsaltsalt123456$kp5UR2quNNhPh9tI2zSnPL2+0VaDxysdnYheVEgJc6U=";

const PAGE =
  "<!doctype html><html><head><meta charset=utf-8><title>CORS client</title></head><body>client</body></html>";

interface Pair {
  exp: string;
  access_lifetime: string;
  refresh_lifetime: string;
  refresh: string;
  access: string;
}

/** What a page's `fetch` came to: a response, or the rejection the browser raised. */
type Outcome = { ok: true; status: number; type: string; body: unknown } | { ok: false; name: string; message: string };

/** `fetch(url, POST JSON body)` run inside `page`, as a client's script would. */
function postJsonFrom(page: Page, url: string, body: unknown): Promise<Outcome> {
  return page.evaluate(
    async ({ url, body }) => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" }, // not CORS-safelisted: preflight
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep the text
        }
        return { ok: true as const, status: response.status, type: response.type, body: parsed };
      } catch (error) {
        const e = error as Error;
        return { ok: false as const, name: e.name, message: e.message };
      }
    },
    { url, body },
  );
}

/** A 200 token pair that the page could read: a cross-origin response CORS let through. */
function expectPair(outcome: Outcome): Pair {
  expect(outcome).toMatchObject({ ok: true, status: 200, type: "cors" });
  const body = (outcome as Extract<Outcome, { ok: true }>).body as Pair;
  expect(Object.keys(body).sort()).toEqual(["access", "access_lifetime", "exp", "refresh", "refresh_lifetime"]);
  for (const token of [body.access, body.refresh]) expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(body.access_lifetime).toBe("86400.0");
  expect(body.refresh_lifetime).toBe("2592000.0");
  return body;
}

function expectBlocked(outcome: Outcome) {
  // Chromium's wording for a request that CORS stopped: a TypeError, "Failed to fetch".
  expect(outcome).toEqual({ ok: false, name: "TypeError", message: "Failed to fetch" });
}

describe.skipIf(!HAVE_CHROMIUM)(
  `CORS in headless Chromium${HAVE_CHROMIUM ? "" : ` (skipped: ${ABSENT}; ${CHROMIUM_REQUIRED ? "required under CI: see the failure" : "not required, CI is not set"})`}`,
  () => {
    let stateDir: string | undefined;
    let worker: LocalWorker | undefined;
    let allowed: PageServer | undefined; // origin A, in CORS_ALLOWED_ORIGINS
    let other: PageServer | undefined; // origin B, not
    let browser: Browser | undefined;
    let pageA: Page;
    let pageB: Page;
    let login: string;
    let refresh: string;

    beforeAll(async () => {
      stateDir = mkdtempSync(join(tmpdir(), "browser-cors-"));
      const persistTo = join(stateDir, "state");

      await seedDatabase(
        persistTo,
        stateDir,
        [
          `INSERT INTO users_orgaccount (id, name) VALUES (1, ${sqlString(ORG)})`,
          `INSERT INTO users_user (id, username, password, is_active) VALUES (3, ${sqlString(USERNAME)}, ${sqlString(PASSWORD_HASH)}, 1)`,
          `INSERT INTO users_membership (id, user_id, org_id, active) VALUES (1, 3, 1, 1)`,
        ].join("; "),
      );

      // Pages first, so their origins are known when the Worker is configured.
      allowed = await servePage(PAGE);
      other = await servePage(PAGE);
      worker = await startWorker({
        persistTo,
        stateDir,
        vars: {
          JWT_SECRET_KEY: randomBytes(36).toString("base64url"), // 48 characters
          CORS_ALLOWED_ORIGINS: allowed.origin,
          REFRESH_REUSE_INTERVAL: "0", // a replayed refresh token is refused outright
        },
      });
      login = `${worker.url}/api/org_token/`;
      refresh = `${worker.url}/api/org_token/refresh/`;

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
        timeout: 20_000,
      });
      const context = await browser.newContext();
      context.setDefaultTimeout(20_000);
      pageA = await context.newPage();
      pageB = await context.newPage();
      await pageA.goto(`${allowed.origin}/`);
      await pageB.goto(`${other.origin}/`);
    }, 90_000);

    afterAll(async () => {
      // Each step on its own, so one failure does not leave the rest running.
      const steps: (() => Promise<unknown> | undefined)[] = [
        () => browser?.close(),
        () => worker?.stop(),
        () => allowed?.close(),
        () => other?.close(),
      ];
      for (const step of steps) {
        try {
          await Promise.race([step(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        } catch {
          // keep cleaning up
        }
      }
      if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true });
    }, 30_000);

    it("the allowed origin logs in and refreshes, with JSON bodies (preflighted)", async () => {
      const loggedIn = await postJsonFrom(pageA, login, { username: USERNAME, password: PASSWORD, org_name: ORG });
      const first = expectPair(loggedIn);

      const refreshed = await postJsonFrom(pageA, refresh, { refresh: first.refresh });
      const second = expectPair(refreshed);
      expect(second.refresh).not.toBe(first.refresh);
      expect(second.access).not.toBe(first.access);

      // The browser did preflight: wrangler logs an OPTIONS request for each route (its log
      // line may trail the response a little).
      await expect.poll(() => worker!.output(), { timeout: 5_000 }).toMatch(/OPTIONS \/api\/org_token\/ 204/);
      await expect.poll(() => worker!.output(), { timeout: 5_000 }).toMatch(/OPTIONS \/api\/org_token\/refresh\/ 204/);
    });

    it("another origin's login and refresh are blocked by the browser, before the request is sent", async () => {
      // A live refresh token, for the refresh attempt from origin B.
      const live = expectPair(
        await postJsonFrom(pageA, login, { username: USERNAME, password: PASSWORD, org_name: ORG }),
      );

      expectBlocked(await postJsonFrom(pageB, login, { username: USERNAME, password: PASSWORD, org_name: ORG }));
      expectBlocked(await postJsonFrom(pageB, refresh, { refresh: live.refresh }));

      // The preflight failed, so B's POST never ran: the token B sent is still unused, and
      // redeeming it from A works (a replay would be refused, REFRESH_REUSE_INTERVAL is 0).
      const redeemed = expectPair(await postJsonFrom(pageA, refresh, { refresh: live.refresh }));
      expect(redeemed.refresh).not.toBe(live.refresh);
    });
  },
);
