/**
 * POST /api/org_token/: a token pair for a username, password and organization; a user whose
 * password hash only the origin verifies is logged in by the origin's view, forwarded.
 */
import type { Context } from "hono";
import { readFieldsKeepingBytes } from "../http/body";
import { loginAtOrigin } from "../login/origin-login";
import { authenticate } from "../login/password";
import { startSession } from "../login/session";
import type { AppEnv } from "../types";

export async function login(c: Context<AppEnv>) {
  const { clock } = c.var;
  const { fields, body } = await readFieldsKeepingBytes(c.req.raw, ["username", "password", "org_name"]);
  const { username, password, org_name: orgName } = fields;
  const now = clock();
  const { checkedBy, account, admission } = await authenticate(c, username, password, now, { kind: "bad_credentials" });
  // A password hash the edge does not verify: ps-web's own view answers (OrgTokenObtainPairView).
  if (checkedBy === "origin") return loginAtOrigin(c, account.userId, admission, body, [403]);
  return startSession(c, account, orgName, now, [admission]);
}
