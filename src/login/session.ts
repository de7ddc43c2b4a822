/**
 * What follows authentication, for every way of logging in (password, GitHub token): the
 * throttle settled as a success, the user's standing in the organization checked in the
 * contract's order, and the pair issued with the login's body.
 */
import type { Context } from "hono";
import { fail } from "../errors";
import { log, noteRequest } from "../log";
import { requireMember } from "../policy/membership";
import { issueLoginPair, pairBody } from "../tokens/issue";
import type { AppEnv } from "../types";
import { type Admission, succeeded } from "./throttle";

export interface Authenticated {
  userId: number;
  /** The Django username: the tokens' user_name and the bodies' <username>. */
  userName: string;
}

/** A session for an authenticated user: the pair, or the contract's 403 for its standing. */
export async function startSession(
  c: Context<AppEnv>,
  account: Authenticated,
  orgName: string,
  nowMs: number,
  admissions: readonly Admission[],
): Promise<Response> {
  const { config, stores } = c.var;
  noteRequest(c, { userId: account.userId });
  c.var.background(quietly("attempts_success", succeeded(stores.attempts, ...admissions)));
  const standing = await stores.members.standing(account.userId, orgName);
  // The name is the client's text until the database knows it: only a real organization is logged.
  if (standing.kind !== "no_organization") noteRequest(c, { org: orgName });
  if (!requireMember(standing, account.userName, orgName).active) {
    throw fail({ kind: "member_not_active", user: account.userName, org: orgName });
  }
  const pair = await issueLoginPair(config, { userId: account.userId, userName: account.userName, orgName }, nowMs);
  noteRequest(c, { outcome: "logged_in" });
  return c.json(pairBody(pair, config));
}

/** Giving attempts back is a courtesy: a failure costs at most one counted attempt, never a 503. */
export function quietly(event: string, work: Promise<void>): Promise<void> {
  return work.catch((error: unknown) => log("error", `${event}_failed`, { error: String(error) }));
}
