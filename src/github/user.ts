/**
 * GitHub as the GitHub login's one dependency: who a token belongs to, by `GET /user`.
 * Every answer is a value: the account (GitHub's numeric id, and its login now), a refusal
 * of the token (GitHub's 401, or a 403 that is no rate limit), or GitHub unavailable with
 * how long to wait. Nothing here throws, and the token goes nowhere but the Authorization
 * header (never a log line).
 */
import { log } from "../log";

/** A user's `id` is the account's for good; `login` is its name now, which its owner may change and GitHub then frees. */
export type GitHubAnswer =
  | { kind: "user"; id: number; login: string }
  | { kind: "refused" }
  | { kind: "unavailable"; retryAfter: number };

export interface GitHubOptions {
  /** GitHub's REST API base, no trailing slash (Config.githubApiUrl). */
  apiUrl: string;
  /** Seconds to wait for the whole answer, body included. */
  timeout: number;
  nowMs: number;
  /** The outbound fetch: the runtime's, or a test's stand-in for GitHub. */
  fetch: typeof fetch;
}

export const USER_AGENT = "org-token-edge (SlideRule provisioning system)";
/** When GitHub says nothing of when to come back. */
export const DEFAULT_RETRY_AFTER = 30;
const MAX_RETRY_AFTER = 3600;
/** GitHub's tokens are ASCII and short (ghp_…: 40, github_pat_…: 93); anything else is no token of theirs. */
const MAX_TOKEN_LENGTH = 1024;
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
/** /user is about 1.5 KB; a stand-in answering megabytes is not GitHub. */
const MAX_BODY_BYTES = 1 << 20;

/** Who GitHub says the token belongs to. */
export async function githubLogin(token: string, options: GitHubOptions): Promise<GitHubAnswer> {
  // Not a header value, or not a token GitHub could have made: refused without asking.
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN_CHARS.test(token)) return { kind: "refused" };
  let response: Response;
  let text: string;
  try {
    response = await options.fetch(`${options.apiUrl}/user`, {
      method: "GET",
      headers: {
        Authorization: `token ${token}`,
        Accept: "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": USER_AGENT,
      },
      redirect: "manual",
      signal: AbortSignal.timeout(Math.max(1, Math.round(options.timeout * 1000))),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return judgeRefusal(response, options.nowMs);
    }
    if (Number(response.headers.get("Content-Length") ?? 0) > MAX_BODY_BYTES) {
      await response.body?.cancel();
      return unavailable("github_bad_answer", { status: 200, reason: "too large" });
    }
    text = await response.text();
  } catch (error) {
    // Network failure or the timeout (the signal covers the body too). Only the error's
    // name: a message could quote the request.
    const name = error instanceof Error ? error.name : "error";
    return unavailable("github_unreachable", { reason: name });
  }
  const user = userOf(text);
  if (typeof user === "string") return unavailable("github_bad_answer", { status: 200, reason: user });
  return { kind: "user", ...user };
}

/** The account /user names, or why the answer names none. */
function userOf(text: string): { id: number; login: string } | "no login" | "no id" {
  if (text.length > MAX_BODY_BYTES) return "no login";
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "no login";
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "no login";
  const { login, id } = body as { login?: unknown; id?: unknown };
  if (typeof login !== "string" || login === "") return "no login";
  // GitHub's ids are positive integers; one past 2^53 could not be told from its neighbour.
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) return "no id";
  return { id, login };
}

/** A status other than 200: the token refused, or GitHub not able to say (GitHub's rate-limit docs). */
function judgeRefusal(response: Response, nowMs: number): GitHubAnswer {
  const { status, headers } = response;
  const retryAfter = headers.get("Retry-After");
  const rateLimited =
    status === 429 || (status === 403 && (headers.get("x-ratelimit-remaining") === "0" || retryAfter !== null));
  if (rateLimited) {
    return unavailable("github_rate_limited", { status }, waitOf(retryAfter, headers.get("x-ratelimit-reset"), nowMs));
  }
  if (status === 401 || status === 403) return { kind: "refused" };
  return unavailable("github_unavailable", { status }, waitOf(retryAfter, null, nowMs));
}

/** Seconds to wait: GitHub's Retry-After (seconds or a date), else its rate-limit reset (epoch seconds). */
export function waitOf(retryAfter: string | null, reset: string | null, nowMs: number): number {
  let seconds: number | undefined;
  if (retryAfter !== null && retryAfter.trim() !== "") {
    const value = /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : (Date.parse(retryAfter) - nowMs) / 1000;
    if (Number.isFinite(value)) seconds = value;
  }
  if (seconds === undefined && reset !== null && /^\d+$/.test(reset.trim())) {
    seconds = Number(reset) - nowMs / 1000;
  }
  if (seconds === undefined) return DEFAULT_RETRY_AFTER;
  return Math.min(MAX_RETRY_AFTER, Math.max(1, Math.ceil(seconds)));
}

function unavailable(event: string, fields: Record<string, unknown>, retryAfter = DEFAULT_RETRY_AFTER): GitHubAnswer {
  log("warn", event, fields);
  return { kind: "unavailable", retryAfter };
}
