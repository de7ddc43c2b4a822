/**
 * How DRF finishes every response of simplejwt's views (rest_framework/views.py APIView
 * initial, finalize_response): the renderer negotiated first (./negotiation.ts), before the
 * method, the body or anything else is looked at, so a 406 or the format's 404 comes first;
 * then every answer, refusals too, rendered by it (indented when the Accept header asks),
 * with `Vary: Accept` (DRF's, for more than one renderer) and `Allow`. A response the origin
 * gave (a login it checked) is left as the origin wrote it.
 *
 * The browsable API (an HTML page) is not rendered here: a request without a body that would
 * get it (GET, HEAD, OPTIONS: a 405 page or the metadata page, nothing spent or counted) goes to
 * the origin when ORIGIN_URL is set; any other (a POST: the origin would check a password past
 * the edge's throttle, or spend a token the edge's ledger does not see) is the 406.
 */
import type { Context, Next } from "hono";
import { fail } from "../errors";
import { noteRequest } from "../log";
import type { AppEnv } from "../types";
import { answeredByOrigin, askOrigin, isForwardingLoop, isOriginsAnswer } from "./forward";
import { addVary, formatOf, indented, negotiate, type Rendering } from "./negotiation";
import { problemOf, problemResponse } from "./problem";

/** The renderer for this request; the browsable API is not rendered here: the 406 (docs/contract.md). */
export function jsonRendering(c: Context): Extract<Rendering, { renderer: "json" }> {
  const rendering = negotiate(c.req.header("Accept"), formatOf(c.req.url));
  if (rendering.renderer !== "json") throw fail({ kind: "not_acceptable" });
  return rendering;
}

/** Methods whose browsable page the origin may render: nothing is read, spent or counted. */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** The browsable API's page: the origin's, for a safe method and an origin to ask; else the 406. */
async function browsable(c: Context<AppEnv>): Promise<Response> {
  const origin = SAFE.has(c.req.method) ? c.var.origin() : undefined;
  if (origin === undefined) throw fail({ kind: "not_acceptable" });
  if (isForwardingLoop(c.req.raw)) throw fail({ kind: "forwarding_loop" }); // as every forward: 508
  const response = await askOrigin(c.req.raw, origin, (request) => c.var.outbound(request));
  noteRequest(c, { outcome: "forwarded" });
  return answeredByOrigin(response, origin.url, new URL(c.req.url).origin);
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
    const negotiated = negotiate(c.req.header("Accept"), formatOf(c.req.url));
    if (negotiated.renderer === "browsable") return await browsable(c);
    rendering = negotiated;
  } catch (error) {
    const problem = problemOf(error);
    if (problem === undefined) throw error;
    c.error = error as Error; // the request log's outcome
    return finished(problemResponse(c, problem), allow);
  }
  await next(); // the view's answer or its error's, on c.res
  if (isOriginsAnswer(c.res)) return undefined;
  c.res = finished(await indented(c.res, rendering.indent), allow);
  return undefined;
}
