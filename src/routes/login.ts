/** POST /api/org_token/: a token pair for a username, password and organization. */
import type { Context } from "hono";
import { readFields } from "../http/body";
import { authenticate } from "../login/password";
import { startSession } from "../login/session";
import type { AppEnv } from "../types";

export async function login(c: Context<AppEnv>) {
  const { clock } = c.var;
  const { username, password, org_name: orgName } = await readFields(c.req.raw, ["username", "password", "org_name"]);
  const now = clock();
  const { account, admission } = await authenticate(c, username, password, now, { kind: "bad_credentials" });
  return startSession(c, account, orgName, now, [admission]);
}
