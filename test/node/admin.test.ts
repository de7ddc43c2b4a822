/**
 * The admin CLI, run as the operator runs it: a child process per command, against a local
 * D1 in a fresh state directory (--persist-to). Independent scenarios run concurrently, each
 * with its own directory; a scenario's steps run in order. Setup that is not under test is
 * written straight into D1 through the same getPlatformProxy binding the CLI uses.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeJwt, jwtVerify } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { collect } from "../../scripts/lib/process";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SECRET = "admin-cli-test-secret-that-is-long-enough-0123456789";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  input?: string;
  env?: Record<string, string | undefined>;
}

/** No command of the CLI takes this long; past it the child is killed and the test fails. */
const COMMAND_TIMEOUT_MS = 90_000;

function run(args: string[], { input, env = {} }: RunOptions = {}): Promise<Result> {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    JWT_SECRET_KEY: SECRET,
    ...env,
  };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  // `node --import tsx` is what `npm run admin` (tsx) does, without npm's and npx's wrappers.
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/admin.ts", ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    timeout: COMMAND_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  const done = collect(child);
  // The CLI may exit without reading its stdin (it refuses before asking for a password).
  if (input !== undefined) child.stdin!.on("error", () => {}).end(input);
  return done;
}

const stateDirs: string[] = [];
afterAll(() => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh local database; `admin(...)` runs the CLI against it. */
function freshState() {
  const dir = mkdtempSync(join(tmpdir(), "admin-test-"));
  stateDirs.push(dir);
  const admin = (args: string[], options?: RunOptions) => run(["--persist-to", dir, ...args], options);
  return { dir, admin };
}

/** Direct access to a state directory's D1, for setup and for looking at what the CLI wrote. */
async function withD1<T>(dir: string, use: (db: D1Database) => Promise<T>): Promise<T> {
  const { getPlatformProxy, unstable_splitSqlQuery } = await import("wrangler");
  const proxy = await getPlatformProxy<{ DB: D1Database }>({
    configPath: join(ROOT, "wrangler.toml"),
    persist: { path: join(dir, "v3") },
    remoteBindings: false,
  });
  try {
    const db = proxy.env.DB;
    const schema = unstable_splitSqlQuery(readFileSync(join(ROOT, "schema.sql"), "utf8"));
    await db.batch(schema.map((statement) => db.prepare(statement)));
    return await use(db);
  } finally {
    await proxy.dispose();
  }
}

async function seed(dir: string, statements: string[]) {
  await withD1(dir, (db) => db.batch(statements.map((statement) => db.prepare(statement))));
}

function ok(result: Result): string {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return result.stdout;
}

function fails(result: Result, code: number, message: string | RegExp) {
  expect(result.stdout).toBe("");
  expect(result.code).toBe(code);
  expect(result.stderr).toMatch(message);
}

function json(result: Result): any {
  return JSON.parse(ok(result));
}

// Generous: a loaded two-core machine runs these processes several times slower than usual.
describe.concurrent("admin CLI", { timeout: 300_000 }, () => {
  it("explains itself and refuses bad command lines before touching a database", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const words of [
      "org add <name>",
      "org list",
      "user add <username> [--id N] [--inactive] [--password]",
      "user set-password <username>",
      "user list",
      "user activate <username>",
      "user deactivate <username>",
      "member add <username> <org> [--active]",
      "member activate <username> <org>",
      "member deactivate <username> <org>",
      "member remove <username> <org>",
      "member list [<org>]",
      "token mint <username> <org>",
      "--remote",
      "--persist-to DIR",
      "--json",
    ]) {
      expect(help.stdout).toContain(words);
    }
    const userHelp = ok(await run(["user", "--help"]));
    expect(userHelp).toContain("user set-password");
    expect(userHelp).not.toContain("member add");

    const usage: [string[], RegExp][] = [
      [[], /no command given/],
      [["frobnicate"], /unknown command: frobnicate/],
      [["user", "frob"], /unknown user command: frob/],
      [["user", "add"], /usage: user add <username>/],
      [["org", "add", "a", "b"], /usage: org add <name>/],
      [["org", "add", "x", "--active"], /--active does not apply to org add/],
      [["org", "add", "a/b"], /invalid organization name "a\/b"/],
      [["org", "add", " padded"], /invalid organization name/],
      [["user", "add", "two words"], /invalid username "two words"/],
      [["user", "add", "x", "--id", "0"], /--id must be a positive integer/],
      [["user", "add", "x", "--id", "12abc"], /--id must be a positive integer/],
      [["user", "add", "x", "--password=hunter2"], /--password/], // never from argv
      [["org", "list", "--bogus"], /Unknown option '--bogus'/],
      [["--remote", "--persist-to", "x", "org", "list"], /--remote goes with neither/],
    ];
    const results = await Promise.all(usage.map(([args]) => run(args)));
    results.forEach((result, i) => {
      fails(result, 2, usage[i]![1]);
      expect(result.stderr).toContain("--help");
    });
  });

  it("adds and lists organizations and users, refusing duplicates and unknowns", async () => {
    const { admin } = freshState();
    expect(ok(await admin(["org", "add", "acme"]))).toBe("Added organization acme (id 1)\n");
    fails(await admin(["org", "add", "acme"]), 1, "admin: organization already exists: acme\n");

    expect(ok(await admin(["user", "add", "alice", "--id", "42"]))).toBe("Added user alice (id 42, active, no password)\n");
    expect(json(await admin(["user", "add", "bob", "--inactive", "--json"]))).toMatchObject({
      id: 43,
      username: "bob",
      is_active: false,
      has_password: false,
    });
    fails(await admin(["user", "add", "alice"]), 1, "admin: user already exists: alice\n");
    fails(await admin(["user", "add", "zed", "--id", "42"]), 1, "admin: user id 42 is already taken by alice\n");

    expect(ok(await admin(["user", "deactivate", "alice"]))).toBe("User alice is now inactive\n");
    expect(ok(await admin(["user", "activate", "bob"]))).toBe("User bob is now active\n");
    fails(await admin(["user", "activate", "nobody"]), 1, "admin: unknown user: nobody\n");

    const users = json(await admin(["user", "list", "--json"]));
    expect(users).toEqual([
      { id: 42, username: "alice", is_active: false, has_password: false, date_joined: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      { id: 43, username: "bob", is_active: true, has_password: false, date_joined: expect.any(String) },
    ]);
  });

  it("manages memberships", async () => {
    const { dir, admin } = freshState();
    await seed(dir, [
      "INSERT INTO users_orgaccount (id, name) VALUES (1, 'acme'), (2, 'beta')",
      "INSERT INTO users_user (id, username) VALUES (7, 'alice'), (8, 'bob')",
    ]);
    expect(ok(await admin(["member", "add", "alice", "acme", "--active"]))).toBe("Added alice to acme as an active member\n");
    expect(ok(await admin(["member", "add", "bob", "acme"]))).toBe("Added bob to acme as an inactive member\n");
    expect(json(await admin(["member", "add", "alice", "beta", "--json"]))).toEqual({ org: "beta", username: "alice", active: false });
    fails(await admin(["member", "add", "alice", "acme"]), 1, "admin: alice is already a member of acme\n");
    fails(await admin(["member", "add", "nobody", "acme"]), 1, "admin: unknown user: nobody\n");
    fails(await admin(["member", "add", "alice", "nope"]), 1, "admin: unknown organization: nope\n");

    expect(ok(await admin(["member", "activate", "bob", "acme"]))).toBe("bob is now an active member of acme\n");
    expect(ok(await admin(["member", "deactivate", "alice", "acme"]))).toBe("alice is now an inactive member of acme\n");

    expect(ok(await admin(["member", "remove", "alice", "beta"]))).toBe("Removed alice from beta\n");
    fails(await admin(["member", "remove", "alice", "beta"]), 1, "admin: alice is not a member of beta\n");

    expect(json(await admin(["member", "list", "--json"]))).toEqual([
      { org: "acme", username: "alice", user_id: 7, active: false, user_active: true },
      { org: "acme", username: "bob", user_id: 8, active: true, user_active: true },
    ]);
    fails(await admin(["member", "list", "gamma"]), 1, "admin: unknown organization: gamma\n");
    const table = ok(await admin(["member", "list", "acme"])).trimEnd().split("\n");
    expect(table).toHaveLength(3);
    expect(table[0]).toMatch(/^ORG\s+USERNAME\s+USER_ID\s+ACTIVE\s+USER_ACTIVE$/);
    expect(table[2]).toMatch(/^acme\s+bob\s+8\s+yes\s+yes$/);
    expect(json(await admin(["org", "list", "--json"]))).toEqual([
      { id: 1, name: "acme", members: 2, active_members: 1 },
      { id: 2, name: "beta", members: 0, active_members: 0 },
    ]);
  });

  it("mints a login pair for an active member only, as the API would issue it", async () => {
    const { dir, admin } = freshState();
    await seed(dir, [
      "INSERT INTO users_orgaccount (id, name) VALUES (1, 'acme'), (2, 'beta')",
      "INSERT INTO users_user (id, username, is_active) VALUES (7, 'alice', 1), (8, 'bob', 0), (9, 'dave', 1)",
      "INSERT INTO users_membership (user_id, org_id, active) VALUES (7, 1, 1), (8, 1, 1), (9, 1, 0)",
    ]);
    const lifetimes = { ACCESS_TOKEN_LIFETIME: "600", REFRESH_TOKEN_LIFETIME: "3600" };
    const [minted, ...refusals] = await Promise.all([
      admin(["token", "mint", "alice", "acme"], { env: lifetimes }),
      admin(["token", "mint", "bob", "acme"]),
      admin(["token", "mint", "dave", "acme"]),
      admin(["token", "mint", "alice", "beta"]),
      admin(["token", "mint", "alice", "nope"]),
      admin(["token", "mint", "nobody", "acme"]),
      admin(["token", "mint", "alice", "acme"], { env: { JWT_SECRET_KEY: "" } }),
    ]);

    const body = json(minted);
    expect(Object.keys(body)).toEqual(["exp", "access_lifetime", "refresh_lifetime", "refresh", "access"]);
    expect(body.access_lifetime).toBe("600.0");
    expect(body.refresh_lifetime).toBe("3600.0");
    const key = new TextEncoder().encode(SECRET);
    for (const [type, lifetime] of [["access", 600], ["refresh", 3600]] as const) {
      const token: string = body[type];
      const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: ["HS256"] });
      expect(protectedHeader).toEqual({ alg: "HS256", typ: "JWT" });
      expect(decodeJwt(token)).toEqual(payload);
      expect(payload).toMatchObject({ token_type: type, user_id: 7, org_name: "acme", user_name: "alice" });
      expect(payload.jti).toMatch(/^[0-9a-f]{32}$/);
      expect(payload.exp! - payload.iat!).toBe(lifetime);
      expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(120);
      if (type === "access") expect(body.exp).toBe(`${new Date(payload.exp! * 1000).toISOString().slice(0, 19)}UTC`);
    }
    expect(decodeJwt(body.access).jti).not.toBe(decodeJwt(body.refresh).jti);

    const messages = [
      "admin: user bob is inactive\n",
      "admin: dave is NOT an active Member of acme\n",
      "admin: alice is NOT a member of beta\n",
      "admin: nope is NOT a valid organization name\n",
      "admin: unknown user: nobody\n",
      /no JWT_SECRET_KEY/,
    ];
    refusals.forEach((result, i) => fails(result, 1, messages[i]!));
  });

  it("hashes passwords read from stdin, never from the command line", async () => {
    const { dir, admin } = freshState();
    expect(ok(await admin(["user", "add", "carol", "--password"], { input: "first pass\n" }))).toBe(
      "Added user carol (id 1, active, with a password)\n",
    );
    fails(await admin(["user", "add", "carol", "--password"], { input: "x\n" }), 1, "admin: user already exists: carol\n");
    fails(await admin(["user", "add", "erin", "--password"], { input: "" }), 1, "admin: the password is empty\n");
    fails(await admin(["user", "set-password", "nobody"], { input: "pw\n" }), 1, "admin: unknown user: nobody\n");
    expect(ok(await admin(["user", "set-password", "carol"], { input: "sécond pass" }))).toBe("Set the password of carol\n");

    const { verifyPassword } = await import("../../src/passwords/index");
    const stored = await withD1(dir, (db) => db.prepare("SELECT username, password FROM users_user ORDER BY id").all<{ username: string; password: string }>());
    expect(stored.results.map((row) => row.username)).toEqual(["carol"]); // erin was never added
    const hash = stored.results[0]!.password;
    expect(hash).toMatch(/^pbkdf2_sha256\$600000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    expect((await verifyPassword("sécond pass", hash)).ok).toBe(true);
    expect((await verifyPassword("first pass", hash)).ok).toBe(false);
  });

  it("runs the same commands through `wrangler d1 execute` (the --remote code path) on the same data", async () => {
    const { admin } = freshState();
    const tricky = "x'y; DROP TABLE users_user; -- ?1";
    const viaWrangler = (args: string[]) => admin(["--via-wrangler", ...args]);
    expect(ok(await viaWrangler(["org", "add", tricky]))).toBe(`Added organization ${tricky} (id 1)\n`);
    fails(await viaWrangler(["org", "add", tricky]), 1, `admin: organization already exists: ${tricky}\n`);
    expect(json(await viaWrangler(["user", "add", "alice", "--id", "5", "--json"]))).toMatchObject({ id: 5, username: "alice" });
    ok(await viaWrangler(["member", "add", "alice", tricky, "--active"]));
    // Read back through the bound D1 binding: the literals stored exactly what was given.
    expect(json(await admin(["member", "list", tricky, "--json"]))).toEqual([
      { org: tricky, username: "alice", user_id: 5, active: true, user_active: true },
    ]);
  });
});
