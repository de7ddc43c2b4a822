/**
 * How DRF finishes every response of simplejwt's views (rest_framework/views.py APIView
 * initial, finalize_response): the renderer negotiated first (./negotiation.ts), before the
 * method, the body or anything else is looked at, so a 406 or the format's 404 comes first;
 * then every answer, refusals too, rendered by it (indented when the Accept header asks),
 * with `Vary: Accept` (DRF's, for more than one renderer) and `Allow`. A response the origin
 * gave (a login it checked) is left as the origin wrote it.
 */
import type { Context, Next } from "hono";
import { fail } from "../errors";
import type { AppEnv } from "../types";
import { addVary, formatOf, indented, negotiate, type Rendering } from "./negotiation";
import { problemOf, problemResponse } from "./problem";

/** The renderer for this request; the browsable API is not rendered here: the 406 (docs/contract.md). */
export function jsonRendering(c: Context): Extract<Rendering, { renderer: "json" }> {
  const rendering = negotiate(c.req.header("Accept"), formatOf(c.req.url));
  if (rendering.renderer !== "json") throw fail({ kind: "not_acceptable" });
  return rendering;
}

/** DRF's headers on any answer of a view with the default renderers. */
function finished(response: Response, allow: string): Response {
  addVary(response.headers, "Accept");
  if (!response.headers.has("Allow")) response.headers.set("Allow", allow);
  return response;
}

/** Runs the view (`next`) under DRF's rendering; `allow` is the view's Allow header. */
export async function drfRendered(c: Context<AppEnv>, next: Next, allow: string): Promise<Response | undefined> {
  let rendering: Extract<Rendering, { renderer: "json" }>;
  try {
    rendering = jsonRendering(c);
  } catch (error) {
    const problem = problemOf(error);
    if (problem === undefined) throw error;
    c.error = error as Error; // the request log's outcome
    return finished(problemResponse(c, problem), allow);
  }
  await next(); // the view's answer or its error's, on c.res
  if (c.var.requestNote?.outcome === "forwarded") return undefined;
  c.res = finished(await indented(c.res, rendering.indent), allow);
  return undefined;
}
