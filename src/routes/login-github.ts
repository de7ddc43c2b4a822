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

  const byAccount = await admit(config, stores.attempts, githubLoginKeys(config, answer.id, address), now);
  if (!byAccount.allowed) {
    c.var.background(quietly("attempts_refund", refused(stores.attempts, byAddress, byAccount)));
    throw fail({ kind: "too_many_attempts", retryAfter: byAccount.retryAfter });
  }
  // By GitHub's numeric id (allauth's uid), never the login: a renamed account's old login is
  // GitHub's to give to someone else, while extra_data keeps it until the next social login.
  const account = await stores.socialAccounts.userByUid("github", String(answer.id));
  if (account === undefined) throw fail({ kind: "no_social_account" }); // counted, by address and account

  try {
    return await startSession(c, account, orgName, now, [byAddress, byAccount]);
  } catch (error) {
    if (error instanceof ProblemError && DENIALS.has(error.problem.kind)) {
      throw fail({ kind: "permission_denied", denied: error.problem }, error);
    }
    throw error;
  }
}
