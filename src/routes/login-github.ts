/**
 * POST /api/org_token_github/: a token pair for a GitHub token and an organization, as
 * ps-web's OrgTokenObtainPairGitHubView answers it (its refusals wrapped as Permission Denied).
 */
import type { Context } from "hono";
import { fail, type Problem, ProblemError } from "../errors";
import { githubLogin } from "../github/user";
import { readFields } from "../http/body";
import { quietly, startSession } from "../login/session";
import { admit, githubAddressKeys, githubLoginKeys, refused } from "../login/throttle";
import type { AppEnv } from "../types";

/** The standing's refusals, which the origin's view answers wrapped. */
const DENIALS: ReadonlySet<Problem["kind"]> = new Set([
  "unknown_organization",
  "not_member",
  "member_not_active",
  "user_inactive",
]);

export async function loginGitHub(c: Context<AppEnv>) {
  const { config, clock, stores } = c.var;
  const { org_name: orgName, access_token: token } = await readFields(c.req.raw, ["org_name", "access_token"]);
  const now = clock();
  const address = c.req.header("CF-Connecting-IP");

  // Counted before GitHub is asked: a burst from one address spends at most the limit of GitHub calls.
  const byAddress = await admit(config, stores.attempts, githubAddressKeys(config, address), now);
  if (!byAddress.allowed) {
    c.var.background(quietly("attempts_refund", refused(stores.attempts, byAddress)));
    throw fail({ kind: "too_many_attempts", retryAfter: byAddress.retryAfter });
  }

  const answer = await githubLogin(token, {
    apiUrl: config.githubApiUrl,
    timeout: config.githubTimeout,
    nowMs: now,
    fetch: c.var.outbound,
  });
  if (answer.kind === "unavailable") {
    c.var.background(quietly("attempts_refund", refused(stores.attempts, byAddress))); // not the client's failure
    throw fail({ kind: "github_unavailable", retryAfter: answer.retryAfter });
  }
  if (answer.kind === "refused") throw fail({ kind: "no_social_account" }); // the attempt stays counted

  const byLogin = await admit(config, stores.attempts, githubLoginKeys(config, answer.login, address), now);
  if (!byLogin.allowed) {
    c.var.background(quietly("attempts_refund", refused(stores.attempts, byAddress, byLogin)));
    throw fail({ kind: "too_many_attempts", retryAfter: byLogin.retryAfter });
  }
  const account = await stores.socialAccounts.userByLogin("github", answer.login);
  if (account === undefined) throw fail({ kind: "no_social_account" }); // counted, by address and login

  try {
    return await startSession(c, account, orgName, now, [byAddress, byLogin]);
  } catch (error) {
    if (error instanceof ProblemError && DENIALS.has(error.problem.kind)) {
      throw fail({ kind: "permission_denied", denied: error.problem }, error);
    }
    throw error;
  }
}
