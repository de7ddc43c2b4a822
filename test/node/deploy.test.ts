/**
 * `npm run deploy` refuses wrangler.toml's placeholders (ids, domain, routes without
 * ORIGIN_URL) before wrangler is called; a configuration without them passes.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type DeployConfig, deployProblems } from "../../scripts/deploy-check";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const ready: DeployConfig = {
  d1Databases: [{ binding: "DB", databaseId: "6f1c2a9e-3b1d-4c55-9a0e-2d7b8c1f4e21" }],
  kvNamespaces: [{ binding: "BLACKLIST", id: "0f2b9c7d4e5a41b8a3c6d9e8f7a6b5c4" }],
  routes: ["ps.sliderule.example.io/api/org_token*"],
  vars: { ORIGIN_URL: "https://ps.sliderule.example.io" },
};

describe("deploy checks", () => {
  it("a configuration with real ids, domain and ORIGIN_URL passes", () => {
    expect(deployProblems(ready)).toEqual([]);
    expect(deployProblems({ ...ready, routes: [], vars: {} })).toEqual([]); // workers.dev only
  });

  it("each placeholder is named", () => {
    const problems = deployProblems({
      d1Databases: [{ binding: "DB", databaseId: "00000000-0000-0000-0000-000000000000" }],
      kvNamespaces: [{ binding: "BLACKLIST", id: "00000000000000000000000000000000" }],
      routes: ["ps.example.org/api/org_token*"],
      vars: {},
    });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^D1 binding DB: database_id is a placeholder/);
    expect(problems[1]).toMatch(/^KV binding BLACKLIST: id is a placeholder/);
    expect(problems[2]).toMatch(/example\.org is a placeholder/);
    expect(problems[3]).toMatch(/ORIGIN_URL is not/);
    expect(deployProblems({ ...ready, vars: { ORIGIN_URL: "https://origin.example.org" } })).toEqual([
      "ORIGIN_URL points at example.org, a placeholder; set the origin's URL.",
    ]);
  });

  it("npm run deploy stops on the shipped wrangler.toml before calling wrangler", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/deploy.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_API_TOKEN: "" },
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("deploy: not deploying, wrangler.toml is not ready");
    expect(result.stderr).toContain("database_id is a placeholder");
    expect(result.stdout).not.toMatch(/Uploaded|Deployed/);
  });
});
