/**
 * simplejwt's TokenObtainPairView (serializers.py TokenObtainSerializer.validate,
 * TokenObtainPairSerializer.validate), top to bottom in its check order.
 */
import type { Context } from "hono";
import { readFieldsKeepingBytes } from "../../http/body";
import { noteRequest } from "../../log";
import { loginAtOrigin } from "../../login/origin-login";
import { authenticate } from "../../login/password";
import { quietly } from "../../login/session";
import { succeeded } from "../../login/throttle";
import { ConfigError } from "../../settings";
import { accessFrom, refreshForUser, signPayload, tokenUserOf } from "../../tokens/simplejwt";
import type { AppEnv } from "../../types";
import { simpleJwtOf } from "./common";

export async function simpleJwtObtain(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const sj = simpleJwtOf(c);

  // 1. The fields, USERNAME_FIELD then password: DRF's CharField each, every error in one 400.
  const { fields, body } = await readFieldsKeepingBytes(c.req.raw, [sj.usernameField, "password"]);
  const now = clock();

  // 2-3. authenticate() (ModelBackend: the password, and is_active), then USER_AUTHENTICATION_RULE:
  // unknown, wrong and inactive alike are "No active account". The throttle (429) is the edge's.
  const { checkedBy, account, admission } = await authenticate(c, fields[sj.usernameField]!, fields.password!, now, {
    kind: "simplejwt_no_active_account",
    message: "No active account found with the given credentials",
    authenticate: sj.wwwAuthenticate,
  });
  // A password hash the edge does not verify (argon2, bcrypt…): the origin's own view answers.
  if (checkedBy === "origin") return loginAtOrigin(c, account.userId, admission, body);
  noteRequest(c, { userId: account.userId });
  c.var.background(quietly("attempts_success", succeeded(stores.attempts, admission)));

  // 4. The origin's get_token: RefreshToken.for_user(user) and the custom claims (the user's
  // synced fields; a user the sync has not brought them for is the edge's misconfiguration),
  // then its access token: refresh first in the body.
  const user = tokenUserOf(sj, account);
  if ("uuidKeyed" in user) {
    throw new ConfigError(
      `user ${account.userId} is keyed by a UUID at the origin: its primary key is no integer, so USER_ID_FIELD_TYPE must be uuid (org_token_edge_config prints it)`,
    );
  }
  if ("missing" in user) {
    throw new ConfigError(
      `user ${account.userId} has no synced ${user.missing}: run org_token_edge_sync --full after changing SIMPLE_JWT's USER_ID_FIELD or ORG_TOKEN_EDGE["CLAIMS"]`,
    );
  }
  const refresh = refreshForUser(sj, user, now, config.refreshLifetime);
  const access = accessFrom(refresh, sj, refresh.fam as string, now, config.accessLifetime);
  const [refreshToken, accessToken] = await Promise.all([signPayload(refresh, sj), signPayload(access, sj)]);
  noteRequest(c, { outcome: "logged_in" });
  return c.json({ refresh: refreshToken, access: accessToken });
}
