/** The Django side of the origin sync (integrations/django) as the scripts and tests run it. */
import { join } from "node:path";
import { runProcess } from "./process";
import { ROOT } from "./project";

/** Debian's interpreter, the one with python3-django (a pyenv python3 on PATH may lack it). */
export const PYTHON = process.env.DJANGO_PYTHON ?? "/usr/bin/python3";
export const DJANGO_APP = join(ROOT, "integrations", "django");
/** The test project: ps-web's model shapes with org_token_edge installed. */
export const DJANGO_PROJECT = join(DJANGO_APP, "tests");

/** `python3 <args>` in the test project, to completion; throws with the output on failure. */
export async function python(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  const result = await runProcess(PYTHON, args, {
    cwd: DJANGO_PROJECT,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env },
    timeoutMs,
  });
  const output = result.stdout + result.stderr;
  if (result.timedOut)
    throw new Error(`python3 ${args.slice(0, 2).join(" ")} did not finish within ${timeoutMs} ms\n${output}`);
  if (result.code !== 0)
    throw new Error(`python3 ${args.slice(0, 2).join(" ")} failed (${result.signal ?? result.code})\n${output}`);
  return result.stdout;
}
