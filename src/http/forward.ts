/**
 * Forwarding to the Django origin: a request for a path the API does not own, when a route
 * pattern covers more than the API's paths, goes to ORIGIN_URL as it came — method,
 * headers, query, and the body as a stream (never read or buffered here). Redirects are
 * handed back to the client, not followed.
 */
import type { MiddlewareHandler } from "hono";
import { fail } from "../errors";
import { noteRequest } from "../log";
import type { AppEnv } from "../types";

/** Marks a request this Worker forwarded; seeing it come back in means ORIGIN_URL points here. */
export const VIA = "1.1 org-token-edge";

/** The request to send to `origin` (scheme://host[:port]) for `request`. */
export function forwardedRequest(request: Request, origin: URL): Request {
  const incoming = new URL(request.url);
  // Set piecewise: resolving the path against the origin would let `//other.host/` change the host.
  const target = new URL(origin.href);
  target.pathname = incoming.pathname;
  target.search = incoming.search;

  const headers = new Headers(request.headers);
  // The origin is reached by its own name (Host follows the URL); it learns the public one here.
  headers.delete("Host");
  headers.set("X-Forwarded-Host", incoming.host);
  headers.set("X-Forwarded-Proto", incoming.protocol.replace(/:$/, ""));
  headers.append("Via", VIA);

  return new Request(target, {
    method: request.method,
    headers,
    body: request.body, // the stream itself, with its Content-Length header kept
    redirect: "manual",
  });
}

/** Whether this request already went through this Worker's forwarding once. */
export function isForwardingLoop(request: Request): boolean {
  return (request.headers.get("Via") ?? "").split(",").some((hop) => hop.trim() === VIA);
}

/**
 * Middleware: with ORIGIN_URL set, a request for a path the API does not own (no `route`
 * matched) goes to the origin and its answer comes back as it is (status, headers, streamed
 * body); everything else, and every request when ORIGIN_URL is unset, goes on to the API.
 */
export function forwardUnowned<E extends object>(originOf: (env: E) => URL | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get("route") !== undefined) return next();
    const origin = originOf(c.env as E);
    if (origin === undefined) return next();
    if (isForwardingLoop(c.req.raw)) throw fail({ kind: "forwarding_loop" });
    let response: Response;
    try {
      response = await fetch(forwardedRequest(c.req.raw, origin));
    } catch (error) {
      throw fail({ kind: "origin_unreachable" }, error);
    }
    noteRequest(c, { outcome: "forwarded" });
    return response;
  };
}
