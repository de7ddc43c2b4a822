/**
 * simplejwt's test_token_blacklist_will_not_be_removed_on_User_delete, over HTTP: a refresh
 * token blacklisted before its user is deleted at the origin stays blacklisted (the origin's
 * BlacklistedToken outlives the user; the edge's ledger row is keyed by jti alone).
 */
import { describe, it } from "vitest";
import { postJson, quickApp } from "../support/harness";
import { expectInvalid, obtain, PASSWORD, PATHS, seedUser, sjEnv, V522, V551 } from "../support/simplejwt";
import { deleted, deliver } from "../support/sync";

const CONFIGS = {
  "5.2.2": V522,
  "5.5.1 (which looks the user up at refresh)": V551,
  "rotation with blacklisting": sjEnv({ ROTATE_REFRESH_TOKENS: "True", BLACKLIST_AFTER_ROTATION: "True" }),
};

describe("a blacklisted refresh token whose user is then deleted at the origin", () => {
  for (const [name, config] of Object.entries(CONFIGS)) {
    it(`${name}: refresh and blacklist still answer 401 "Token is blacklisted"`, async () => {
      const target = quickApp();
      const user = await seedUser();
      const { refresh } = await obtain(target, user.userName, config);
      expectOk(await postJson(target, PATHS.blacklist, { refresh }, config));
      expectOk(await deliver(target, Date.now(), { records: [deleted("user", user.userId)] }));
      const login = await postJson(target, PATHS.obtain, { username: user.userName, password: PASSWORD }, config);
      if (login.status !== 401) throw new Error(`the user is still there: login ${login.status}`);
      await expectInvalid(await postJson(target, PATHS.refresh, { refresh }, config), "Token is blacklisted");
      await expectInvalid(await postJson(target, PATHS.blacklist, { refresh }, config), "Token is blacklisted");
    });
  }
});

function expectOk(response: Response) {
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}`);
}
