/**
 * The package as a host gets it: `npm pack`, the tarball installed into a scratch copy of
 * examples/host (npm fetches hono and jose, from its cache where it can), the host's strict
 * tsconfig typechecks against the installed types, Node imports it by name, and wrangler's
 * dry-run bundles the host with one copy of Hono, and a client's day passes through the host
 * under `wrangler dev`. The steps run one after another.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, killGroup } from "../../src/cli/lib/process";
import { spawnWrangler, wranglerEnv } from "../../src/cli/lib/project";
import vectors from "../fixtures/simplejwt.json" with { type: "json" };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STEP_TIMEOUT_MS = 240_000;

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, env: wranglerEnv(), encoding: "utf8", timeout: STEP_TIMEOUT_MS });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) exited ${result.status}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return { stdout: result.stdout, all: result.stdout + result.stderr };
}

let scratch: string;
let host: string;
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "package-test-"));
  // prepack builds dist/ first (npm run build).
  [packed] = JSON.parse(
    run("npm", ["pack", "--json", "--pack-destination", scratch], ROOT).stdout.replace(/^[^[]*/, ""),
  );
  host = join(scratch, "host");
  mkdirSync(host);
  for (const entry of ["src", "tsconfig.json", "wrangler.toml"]) {
    cpSync(join(ROOT, "examples/host", entry), join(host, entry), { recursive: true });
  }
  const rootPackage = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  writeFileSync(
    join(host, "package.json"),
    JSON.stringify({
      name: "scratch-host",
      private: true,
      type: "module",
      dependencies: { "org-token-edge": `file:../${packed.filename}`, hono: rootPackage.devDependencies.hono },
    }),
  );
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts"], host);
  // The host's own dev tools (the Workers types, tsc, wrangler) are this repository's.
  mkdirSync(join(host, "node_modules/@cloudflare"), { recursive: true });
  symlinkSync(
    join(ROOT, "node_modules/@cloudflare/workers-types"),
    join(host, "node_modules/@cloudflare/workers-types"),
  );
}, 2 * STEP_TIMEOUT_MS);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the packed package in a host", () => {
  it("holds the built JavaScript, its declarations and schema.sql, and no sources", () => {
    const files = packed.files.map((file) => file.path);
    for (const file of ["dist/api.js", "dist/api.d.ts", "schema.sql", "package.json"]) expect(files).toContain(file);
    expect(files.filter((file) => file.startsWith("src/") || file.startsWith("test/"))).toEqual([]);
    console.log(
      `npm pack: ${packed.filename}, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`,
    );
  });

  it("installs with the host's Hono as the only Hono, and jose as its dependency", () => {
    const installed = join(host, "node_modules/org-token-edge");
    expect(existsSync(join(installed, "dist/api.js"))).toBe(true);
    expect(existsSync(join(installed, "node_modules/hono"))).toBe(false);
    expect(existsSync(join(host, "node_modules/jose"))).toBe(true);
  });

  it("Node imports it by name", () => {
    const out = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("org-token-edge"); console.log(Object.keys(m).sort().join(","))',
      ],
      host,
    ).stdout;
    expect(out.trim()).toBe("ConfigError,orgTokenApi,requireOrgToken,requireSimpleJwtToken");
  });

  it("the example host typechecks against the installed types under its strict tsconfig", () => {
    run(join(ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], host);
    // And the types are real, not `any`: a misuse of the verified token is caught.
    writeFileSync(
      join(host, "src/misuse.ts"),
      'import type { VerifiedOrgToken } from "org-token-edge";\nexport const id: string = ({} as VerifiedOrgToken).userId;\n',
    );
    const misuse = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], {
      cwd: host,
      encoding: "utf8",
    });
    rmSync(join(host, "src/misuse.ts"));
    expect(misuse.status).not.toBe(0);
    expect(misuse.stdout).toMatch(/misuse\.ts.*TS2322/);
  });

  it("wrangler's dry run bundles the host with one copy of Hono", () => {
    const output = run(
      process.execPath,
      [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "out"],
      host,
    ).all;
    const size = /Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+ KiB)/.exec(output);
    expect(size, output).not.toBeNull();
    console.log(`example host bundle: ${size![1]}, gzip ${size![2]}`);
    const bundle = readdirSync(join(host, "out")).find((file) => file.endsWith(".js"))!;
    const code = readFileSync(join(host, "out", bundle), "utf8");
    // esbuild marks each bundled module with its path: one hono-base.js, and it is the host's.
    const honoBases = code.match(/^\/\/ .*\/hono\/dist\/hono-base\.js$/gm) ?? [];
    expect(honoBases).toEqual(["// node_modules/hono/dist/hono-base.js"]);
    expect(code).toContain("node_modules/org-token-edge/dist/api.js");
  });

  it("a client's day passes through the installed host under wrangler dev, and the host's routes are its own", async () => {
    const wrangler = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
    const state = join(scratch, "state");
    const persist = ["--persist-to", state];
    // The API's tables from the installed package, and one member with a Django hash.
    run(
      process.execPath,
      [
        wrangler,
        "d1",
        "execute",
        "TOKENS_DB",
        "--local",
        "--file",
        "node_modules/org-token-edge/schema.sql",
        ...persist,
      ],
      host,
    );
    const hash = vectors.django_password_hashes.pbkdf2_sha256_600000;
    const seedSql = [
      `INSERT INTO users_user (id, username, password, is_active) VALUES (3, 'ceugarteblair', '${hash}', 1)`,
      "INSERT INTO users_orgaccount (id, name) VALUES (1, 'UofMDTest')",
      "INSERT INTO users_membership (user_id, org_id, active) VALUES (3, 1, 1)",
    ].join("; ");
    run(process.execPath, [wrangler, "d1", "execute", "TOKENS_DB", "--local", "--command", seedSql, ...persist], host);

    const [port, inspector] = [await freePort(), await freePort()];
    const secret = "packed-host-secret-that-is-long-enough-0123456789";
    const child = spawnWrangler(
      [
        "dev",
        ...["--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector)],
        ...persist,
        ...["--var", `TOKENS_SECRET:${secret}`, "--show-interactive-dev-session=false", "--log-level", "error"],
      ],
      { cwd: host, stdio: "ignore", detached: true },
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const up = await fetch(`${base}/health`).then(
          (response) => response.ok,
          () => false,
        );
        if (up) break;
        if (Date.now() > deadline) throw new Error("the host's wrangler dev did not come up in 90 s");
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const post = (path: string, body: unknown) =>
        fetch(`${base}${path}`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Origin: "https://elsewhere.example" },
          body: JSON.stringify(body),
        });
      const login = await post("/api/org_token/", {
        username: "ceugarteblair",
        password: vectors.django_password_hashes.password,
        org_name: "UofMDTest",
      });
      expect(login.status).toBe(200);
      const pair = (await login.json()) as { access: string; refresh: string };
      const status = await fetch(`${base}/api/membership_status/UofMDTest/`, {
        headers: { Authorization: `Bearer ${pair.access}` },
      });
      expect(await status.json()).toEqual({ active: true });
      const refreshed = await post("/api/org_token/refresh/", { refresh: pair.refresh });
      expect(refreshed.status).toBe(200);
      const next = (await refreshed.json()) as { refresh: string };
      expect(await (await post("/api/token/blacklist/", { refresh: next.refresh })).json()).toEqual({});
      const afterLogout = await post("/api/org_token/refresh/", { refresh: next.refresh });
      expect([afterLogout.status, await afterLogout.json()]).toEqual([
        403,
        { detail: "Token is blacklisted", code: "token_not_valid" },
      ]);
      // The host's own route: its answer, none of the API's headers.
      const health = await fetch(`${base}/health`, { headers: { Origin: "https://elsewhere.example" } });
      expect(health.status).toBe(200);
      expect(health.headers.get("Vary")).toBeNull();
    } finally {
      await killGroup(child);
    }
  });
});
