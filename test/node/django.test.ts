/**
 * The Django side of the origin sync (integrations/django): its own tests under Django's test
 * runner, on Debian's python3-django (`.ci/run` installs it), against the test project with
 * ps-web's model shapes; the package installs with pip as the README says; and its Python is
 * flake8-clean (Debian's python3-flake8, integrations/django/.flake8). Where CI is set
 * (CI=true, as CI runs `.ci/run`) a missing flake8 is a failure; elsewhere it is skipped with a
 * warning.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DJANGO_APP as APP, DJANGO_PROJECT, PYTHON } from "../../scripts/lib/django";
import { runProcess } from "../../src/cli/lib/process";

const scratch = mkdtempSync(join(tmpdir(), "django-test-"));

/** CI says flake8 is there: `.ci/run` installs python3-flake8 and fails if it cannot. */
const FLAKE8_REQUIRED = (process.env.CI ?? "") !== "" && !["0", "false"].includes(process.env.CI!.toLowerCase());
const HAVE_FLAKE8 = spawnSync(PYTHON, ["-m", "flake8", "--version"], { stdio: "ignore", timeout: 30_000 }).status === 0;
const NO_FLAKE8 = `${PYTHON} -m flake8 is not available (apt-get install python3-flake8)`;
if (!HAVE_FLAKE8 && !FLAKE8_REQUIRED)
  console.warn(`django: flake8 check skipped, ${NO_FLAKE8}; required where CI=true`);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it.skipIf(!HAVE_FLAKE8 && !FLAKE8_REQUIRED)("integrations/django is flake8-clean", async () => {
  if (!HAVE_FLAKE8) expect.fail(`${NO_FLAKE8}, and CI=${process.env.CI} requires it (.ci/run installs it)`);
  // integrations/django/.flake8: max-line-length 120, nothing excluded but build output.
  const { code, stdout, stderr, timedOut } = await runProcess(PYTHON, ["-m", "flake8"], {
    cwd: APP,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    timeoutMs: 90_000,
  });
  const output = stdout + stderr;
  expect(timedOut, output).toBe(false);
  expect(output).toBe("");
  expect(code).toBe(0);
});

describe("integrations/django", () => {
  it("passes its tests under Django's test runner", async () => {
    const { code, stdout, stderr, timedOut } = await runProcess(
      PYTHON,
      ["manage.py", "test", "--noinput", "sync_tests"],
      {
        cwd: DJANGO_PROJECT,
        env: { ...process.env, OTE_TEST_DB_PATH: join(scratch, "test-db.sqlite3"), PYTHONDONTWRITEBYTECODE: "1" },
        timeoutMs: 300_000,
      },
    );
    const output = stdout + stderr;
    expect(timedOut, output).toBe(false);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^OK/m);
    expect(Number(/Ran (\d+) tests/.exec(output)?.[1])).toBeGreaterThanOrEqual(25);
  });

  it("installs with pip and needs nothing beyond Django", async () => {
    const target = join(scratch, "site");
    // From a copy: pip builds in the source tree, which would leave build/ and *.egg-info here.
    const source = join(scratch, "source");
    cpSync(APP, source, { recursive: true, filter: (path) => !path.startsWith(join(APP, "tests")) });
    const install = await runProcess(
      PYTHON,
      [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-build-isolation",
        "--no-deps",
        "--no-index",
        "--target",
        target,
        source,
      ],
      { cwd: scratch, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" }, timeoutMs: 180_000 },
    );
    expect(install.code, install.stdout + install.stderr).toBe(0);
    const probe = await runProcess(
      PYTHON,
      [
        "-c",
        [
          "import django, sys",
          "from django.conf import settings",
          "settings.configure(INSTALLED_APPS=['django.contrib.auth','django.contrib.contenttypes','org_token_edge'],",
          "  DATABASES={'default':{'ENGINE':'django.db.backends.sqlite3','NAME':':memory:'}}, ORG_TOKEN_EDGE={'URL':'https://x','SECRET':'short'})",
          "django.setup()",
          "import org_token_edge",
          "from django.core import checks",
          "print(org_token_edge.__file__)",
          "print([m.id for m in checks.run_checks()])",
        ].join("\n"),
      ],
      { cwd: scratch, env: { ...process.env, PYTHONPATH: target, PYTHONDONTWRITEBYTECODE: "1" }, timeoutMs: 60_000 },
    );
    const output = probe.stdout + probe.stderr;
    expect(probe.code, output).toBe(0);
    expect(output).toContain(join(target, "org_token_edge"));
    // The weak secret is reported; the missing ps-web models too (this project has none).
    expect(output).toContain("org_token_edge.W001");
  });
});
