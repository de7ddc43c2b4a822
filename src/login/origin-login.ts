/**
 * A login whose password the origin checks: the user's stored hash is one the edge does not
 * verify (argon2, bcrypt_sha256, scrypt…: src/passwords/identify.ts), so the request goes to
 * the origin's own view at the same path, with the body's exact bytes (a multipart body as
 * the form of the fields the edge read: src/http/body.ts), the method and the
 * headers a forwarded request carries (src/http/forward.ts), and the origin's answer comes
 * back unchanged but for CORS, which stays the edge's (its preflight answered for this path).
 * The attempt was counted by the throttle before; the origin's status settles it: 401 a
 * failure (it stays counted), a success or a refusal the view makes only after the password
 * (`afterPassword`: ps-web's 403 of a membership) no failure, anything else (the origin down,
 * 5xx, a 403 of a proxy in front of simplejwt's view) nothing checked.
 */
import type { Context } from "hono";
import { fail } from "../errors";
import type { ForwardBody } from "../http/body";
import { answeredByOrigin, askOrigin, isForwardingLoop } from "../http/forward";
import { log, noteRequest } from "../log";
import type { AppEnv } from "../types";
import { quietly } from "./session";
import { type Admission, refused, succeeded } from "./throttle";

export async function loginAtOrigin(
  c: Context<AppEnv>,
  userId: number,
  admission: Admission,
  body: ForwardBody,
  afterPassword: readonly number[] = [],
): Promise<Response> {
  const { stores } = c.var;
  noteRequest(c, { userId });
  const giveBack = () => c.var.background(quietly("attempts_refund", refused(stores.attempts, admission)));
  const origin = c.var.origin();
  if (origin === undefined) {
    giveBack();
    log("error", "config_error", {
      message: "ORIGIN_URL is not set: a login whose password hash only the origin checks cannot be answered",
    });
    throw fail({ kind: "origin_not_set" });
  }
  if (isForwardingLoop(c.req.raw)) {
    giveBack();
    throw fail({ kind: "forwarding_loop" });
  }
  const { raw } = c.req;
  const headers = new Headers(raw.headers);
  if (body.contentType !== undefined) {
    headers.set("Content-Type", body.contentType);
    headers.delete("Content-Length"); // the new body's own
  }
  // To the view's own spelling, trailing slash included: the client's may lack it, which
  // Django's APPEND_SLASH answers with a redirect no POST follows.
  const url = new URL(raw.url);
  url.pathname = c.get("route") ?? url.pathname;
  const request = new Request(url, { method: raw.method, headers, body: body.bytes });
  let response: Response;
  try {
    response = await askOrigin(request, origin, (forwarded) => c.var.outbound(forwarded));
  } catch (error) {
    giveBack();
    throw error;
  }
  const { status } = response;
  if (status < 300 || afterPassword.includes(status)) {
    c.var.background(quietly("attempts_success", succeeded(stores.attempts, admission)));
  } else if (status !== 401) {
    giveBack();
  }
  noteRequest(c, { outcome: "forwarded" });
  return answeredByOrigin(response, origin.url, new URL(raw.url).origin);
}
