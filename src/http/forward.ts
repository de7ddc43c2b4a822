/**
 * Forwarding to the Django origin: a request for a path the API does not own, when a route
 * pattern covers more than the API's paths, goes to ORIGIN_URL as a reverse proxy sends it —
 * method, end-to-end headers, query, and the body as a stream (never read or buffered here).
 * Hop-by-hop headers stop here both ways; the client's address is the one Cloudflare saw
 * (CF-Connecting-IP), never one the client wrote; redirects are handed back, not followed,
 * with the origin's own name replaced by the public one. docs/forwarding.md says what the
 * origin may trust.
 */
import type { MiddlewareHandler } from "hono";
import { fail } from "../errors";
import { noteRequest } from "../log";
import type { AppEnv, OriginTarget } from "../types";
import { parseUrl } from "../url";

/** Marks a request this Worker forwarded; seeing it come back in means ORIGIN_URL points here. */
export const VIA = "1.1 org-token-edge";

/** RFC 9110 §7.6.1's hop-by-hop fields, plus the legacy ones proxies still meet. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/**
 * Headers through which a client could claim an address, host or scheme: the origin gets
 * this Worker's values for them, or none.
 */
const CLIENT_CLAIMS = [
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-forwarded-server",
  "x-forwarded-ssl",
  "x-real-ip",
  "true-client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "forwarded",
];

/** `headers` without hop-by-hop fields, including every field its Connection header names. */
function endToEnd(headers: Headers): Headers {
  const out = new Headers(headers);
  const named = (headers.get("Connection") ?? "")
    .split(",")
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== "");
  for (const name of [...HOP_BY_HOP, ...named]) {
    // Content-Length describes the body, which goes on: a Connection token cannot remove it.
    if (name !== "content-length") out.delete(name);
  }
  return out;
}

/** The request to send to `origin` (scheme://host[:port]) for `request`. */
export function forwardedRequest(request: Request, origin: URL, signal?: AbortSignal): Request {
  const incoming = new URL(request.url);
  // Set piecewise: resolving the path against the origin would let `//other.host/` change the host.
  const target = new URL(origin.href);
  target.pathname = incoming.pathname;
  target.search = incoming.search;

  const headers = endToEnd(request.headers);
  for (const name of CLIENT_CLAIMS) headers.delete(name);
  // The origin is reached by its own name (Host follows the URL); it learns the public one here.
  headers.delete("Host");
  headers.set("X-Forwarded-Host", incoming.host);
  headers.set("X-Forwarded-Proto", incoming.protocol.replace(/:$/, ""));
  // The client's address as Cloudflare saw it; the client's own X-Forwarded-For is not kept,
  // so the chain the origin gets has one entry, which it can trust.
  const client = request.headers.get("CF-Connecting-IP")?.trim();
  if (client) {
    headers.set("X-Forwarded-For", client);
    headers.set("X-Real-IP", client);
  }
  headers.append("Via", VIA);

  return new Request(target, {
    method: request.method,
    headers,
    body: request.body, // the stream itself, with its Content-Length header kept
    redirect: "manual",
    signal,
  });
}

/** A Location or Content-Location naming the internal origin, said with the public origin instead. */
function publicLocation(value: string, origin: URL, publicOrigin: string): string {
  const url = parseUrl(value);
  if (!(url instanceof URL)) return value; // relative: already the client's
  if (url.origin !== origin.origin) return value;
  return publicOrigin + value.slice(url.origin.length);
}

/** The origin's response as the client gets it: hop-by-hop fields dropped, its own name replaced. */
export function returnedResponse(response: Response, origin: URL, publicOrigin: string): Response {
  const headers = endToEnd(response.headers);
  for (const name of ["Location", "Content-Location"]) {
    const value = headers.get(name);
    if (value !== null) headers.set(name, publicLocation(value, origin, publicOrigin));
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * The origin's answer to a request for one of the API's own paths (a login the origin checks,
 * a view's browsable page): as returnedResponse, but CORS stays the edge's, which answered the
 * path's preflight (the origin's Access-Control-* headers are dropped; the CORS middleware adds its own).
 */
export function answeredByOrigin(response: Response, origin: URL, publicOrigin: string): Response {
  const answer = returnedResponse(response, origin, publicOrigin);
  for (const name of [...answer.headers.keys()]) {
    if (name.toLowerCase().startsWith("access-control-")) answer.headers.delete(name);
  }
  ORIGINS_ANSWERS.add(answer);
  return answer;
}

const ORIGINS_ANSWERS = new WeakSet<Response>();

/** Whether `response` is the origin's own answer (answeredByOrigin): passed on as it is, never rendered again. */
export function isOriginsAnswer(response: Response): boolean {
  return ORIGINS_ANSWERS.has(response);
}

/** Whether this request already went through this Worker's forwarding once (any case or spacing of VIA). */
export function isForwardingLoop(request: Request): boolean {
  const mark = VIA.toLowerCase().split(/\s+/).join(" ");
  return (request.headers.get("Via") ?? "")
    .split(",")
    .some((hop) => hop.trim().toLowerCase().split(/\s+/).join(" ") === mark);
}

/** A WebSocket (or any protocol) upgrade: refused, since the origin is a WSGI app and hop-by-hop Upgrade stops here. */
function isUpgrade(request: Request): boolean {
  return request.headers.has("Upgrade");
}

/**
 * `request` sent to the origin, its status and headers awaited at most `origin.timeoutMs`
 * (then the body streams as long as it takes): the origin's response as it came, or the
 * contract's 504 (too slow) or 502 (unreachable).
 */
export async function askOrigin(
  request: Request,
  origin: OriginTarget,
  send: (request: Request) => Promise<Response>,
): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), origin.timeoutMs);
  try {
    return await send(forwardedRequest(request, origin.url, controller.signal));
  } catch (error) {
    if (controller.signal.aborted) throw fail({ kind: "origin_timeout" }, error);
    throw fail({ kind: "origin_unreachable" }, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Middleware: with ORIGIN_URL set, a request for a path the API does not own (no `route`
 * matched) goes to the origin and its answer comes back (status, end-to-end headers, streamed
 * body); everything else, and every request when ORIGIN_URL is unset, goes on to the API.
 * An origin that has not started answering within the timeout is a 504.
 */
export function forwardUnowned<E extends object>(
  originOf: (env: E) => OriginTarget | undefined,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get("route") !== undefined) return next();
    const origin = originOf(c.env as E);
    if (origin === undefined) return next();
    if (isForwardingLoop(c.req.raw)) throw fail({ kind: "forwarding_loop" });
    if (isUpgrade(c.req.raw)) throw fail({ kind: "upgrade_refused" });
    const response = await askOrigin(c.req.raw, origin, (request) => fetch(request));
    noteRequest(c, { outcome: "forwarded" });
    return returnedResponse(response, origin.url, new URL(c.req.url).origin);
  };
}
