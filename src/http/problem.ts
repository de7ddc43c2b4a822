import type { Context } from "hono";
import { type Problem, render } from "../errors";

/** A Problem as the contract's response: the API's error handler and requireOrgToken() answer with it. */
export function problemResponse(c: Context, problem: Problem): Response {
  const { status, body, headers } = render(problem);
  return c.json(body, status as 400, headers);
}
