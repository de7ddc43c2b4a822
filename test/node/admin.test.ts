/**
 * The admin CLI. Most cases run the program in this process (`runAdmin`, output captured)
 * over one local D1 opened once for the file and emptied before each case: a case costs
 * queries, not processes. A few cases run it as the operator does, as a child process per
 * command (help and exit statuses, a password piped on stdin, the real opening of a local
 * database), and one through `wrangler d1 execute`, the --remote code path.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Result, runInProcess, SECRET, type SharedAdmin, sharedAdmin, spawnAdmin } from "./support/admin";

let shared: SharedAdmin;
beforeAll(async () => {
  shared = await sharedAdmin();
});
afterAll(() => shared?.close());
beforeEach(async () => {
  await shared.db.batch(
    ["users_membership", "users_orgaccount", "users_user"].map((table) => ({
      sql: `DELETE FROM ${table}`,
      params: [],
    })),
  );
});

const admin: SharedAdmin["admin"] = (args, options) => shared.admin(args, options);

async function seed(statements: string[]) {
  await shared.db.batch(statements.map((sql) => ({ sql, params: [] })));
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

// Sequential: the cases share one database. Generous: each may start processes on a busy machine.
describe("admin CLI", { timeout: 180_000 }, () => {
  it("explains itself and refuses bad command lines before touching a database", async () => {
    const help = await spawnAdmin(["--help"]); // the real program: its exit status and output
    expect(help.stderr).toBe("");
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
      "session end-user <username>",
      "session end-org <org>",
      "session end-family <family>",
      "--remote",
      "--persist-to DIR",
      "--json",
      "--config FILE",
      "--binding NAME",
      "import-django <file> [--dry-run]",
    ]) {
      expect(help.stdout).toContain(words);
    }
    const userHelp = ok(await admin(["user", "--help"]));
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
    const results = await Promise.all(usage.map(([args]) => admin(args)));
    results.forEach((result, i) => {
      fails(result, 2, usage[i]![1]);
      expect(result.stderr).toContain("--help");
    });
    // As a process: the same refusal, as exit status 2, before any database is opened.
    fails(await spawnAdmin(["user", "add", "two words"]), 2, /invalid username "two words"[\s\S]*--help/);
  });

  it("adds and lists organizations and users, refusing duplicates and unknowns", async () => {
    expect(ok(await admin(["org", "add", "acme"]))).toBe("Added organization acme (id 1)\n");
    fails(await admin(["org", "add", "acme"]), 1, "admin: organization already exists: acme\n");

    expect(ok(await admin(["user", "add", "alice", "--id", "42"]))).toBe(
      "Added user alice (id 42, active, no password)\n",
    );
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
      {
        id: 42,
        username: "alice",
        is_active: false,
        has_password: false,
        date_joined: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
      { id: 43, username: "bob", is_active: true, has_password: false, date_joined: expect.any(String) },
    ]);
  });

  it("manages memberships", async () => {
    await seed([
      "INSERT INTO users_orgaccount (id, name) VALUES (1, 'acme'), (2, 'beta')",
      "INSERT INTO users_user (id, username) VALUES (7, 'alice'), (8, 'bob')",
    ]);
    expect(ok(await admin(["member", "add", "alice", "acme", "--active"]))).toBe(
      "Added alice to acme as an active member\n",
    );
    expect(ok(await admin(["member", "add", "bob", "acme"]))).toBe("Added bob to acme as an inactive member\n");
    expect(json(await admin(["member", "add", "alice", "beta", "--json"]))).toEqual({
      org: "beta",
      username: "alice",
      active: false,
    });
    fails(await admin(["member", "add", "alice", "acme"]), 1, "admin: alice is already a member of acme\n");
    fails(await admin(["member", "add", "nobody", "acme"]), 1, "admin: unknown user: nobody\n");
    fails(await admin(["member", "add", "alice", "nope"]), 1, "admin: unknown organization: nope\n");

    expect(ok(await admin(["member", "activate", "bob", "acme"]))).toBe("bob is now an active member of acme\n");
    expect(ok(await admin(["member", "deactivate", "alice", "acme"]))).toBe(
      "alice is now an inactive member of acme\n",
    );

    expect(ok(await admin(["member", "remove", "alice", "beta"]))).toBe("Removed alice from beta\n");
    fails(await admin(["member", "remove", "alice", "beta"]), 1, "admin: alice is not a member of beta\n");

    expect(json(await admin(["member", "list", "--json"]))).toEqual([
      { org: "acme", username: "alice", user_id: 7, active: false, user_active: true },
      { org: "acme", username: "bob", user_id: 8, active: true, user_active: true },
    ]);
    fails(await admin(["member", "list", "gamma"]), 1, "admin: unknown organization: gamma\n");
    const table = ok(await admin(["member", "list", "acme"]))
      .trimEnd()
      .split("\n");
    expect(table).toHaveLength(3);
    expect(table[0]).toMatch(/^ORG\s+USERNAME\s+USER_ID\s+ACTIVE\s+USER_ACTIVE$/);
    expect(table[2]).toMatch(/^acme\s+bob\s+8\s+yes\s+yes$/);
    expect(json(await admin(["org", "list", "--json"]))).toEqual([
      { id: 1, name: "acme", members: 2, active_members: 1 },
      { id: 2, name: "beta", members: 0, active_members: 0 },
    ]);
  });

  it("mints a login pair for an active member only, as the API would issue it", async () => {
    await seed([
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
    for (const [type, lifetime] of [
      ["access", 600],
      ["refresh", 3600],
    ] as const) {
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
    for (const [i, result] of refusals.entries()) fails(result, 1, messages[i]!);
  });

  it("hashes passwords read from stdin, never from the command line", async () => {
    // As processes, with the password piped into the real stdin, on the same local state.
    const spawned = (args: string[], input: string) => spawnAdmin(["--persist-to", shared.dir, ...args], { input });
    expect(ok(await spawned(["user", "add", "carol", "--password"], "first pass\n"))).toBe(
      "Added user carol (id 1, active, with a password)\n",
    );
    fails(
      await admin(["user", "add", "carol", "--password"], { input: "x\n" }),
      1,
      "admin: user already exists: carol\n",
    );
    fails(await admin(["user", "add", "erin", "--password"], { input: "" }), 1, "admin: the password is empty\n");
    fails(
      await admin(["user", "add", "erin", "--password"], { input: "two\nlines" }),
      1,
      "admin: the password on stdin must be a single line\n",
    );
    fails(await admin(["user", "set-password", "nobody"], { input: "pw\n" }), 1, "admin: unknown user: nobody\n");
    expect(ok(await admin(["user", "set-password", "carol"], { input: "sécond pass" }))).toBe(
      "Set the password of carol\n",
    );

    const { verifyPassword } = await import("../../src/passwords/index");
    const stored = await shared.db.query<{ username: string; password: string }>(
      "SELECT username, password FROM users_user ORDER BY id",
    );
    expect(stored.map((row) => row.username)).toEqual(["carol"]); // erin was never added
    const hash = stored[0]!.password;
    expect(hash).toMatch(/^pbkdf2_sha256\$600000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    expect((await verifyPassword("sécond pass", hash)).ok).toBe(true);
    expect((await verifyPassword("first pass", hash)).ok).toBe(false);
  });

  it("runs the same commands through `wrangler d1 execute` (the --remote code path) on the same data", async () => {
    // A state directory of its own (migrated by the first command), open in no other process
    // while wrangler writes it; read back through the bound binding once wrangler has exited.
    const dir = mkdtempSync(join(tmpdir(), "admin-via-wrangler-"));
    try {
      const tricky = "x'y; DROP TABLE users_user; -- ?1";
      const viaWrangler = (args: string[]) => runInProcess(["--persist-to", dir, "--via-wrangler", ...args]);
      expect(ok(await viaWrangler(["org", "add", tricky]))).toBe(`Added organization ${tricky} (id 1)\n`);
      expect(json(await viaWrangler(["user", "add", "alice", "--id", "5", "--json"]))).toMatchObject({
        id: 5,
        username: "alice",
      });
      ok(await viaWrangler(["member", "add", "alice", tricky, "--active"]));
      // The literals stored exactly what was given.
      expect(json(await runInProcess(["--persist-to", dir, "member", "list", tricky, "--json"]))).toEqual([
        { org: tricky, username: "alice", user_id: 5, active: true, user_active: true },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
