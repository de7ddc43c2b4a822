/**
 * simplejwt's TokenVerifyView (serializers.py TokenVerifySerializer.validate): an
 * UntypedToken (no type, no blacklist in its pipeline), then, only with
 * BLACKLIST_AFTER_ROTATION, the ledger by the token's id.
 */
import type { Context } from "hono";
import { fail } from "../../errors";
import { readFields } from "../../http/body";
import { noteRequest } from "../../log";
import { decodeToken, jtiOf, tokenMessage } from "../../tokens/simplejwt";
import type { AppEnv } from "../../types";
import { refuse, simpleJwtOf } from "./common";

export async function simpleJwtVerify(c: Context<AppEnv>) {
  const { clock, stores } = c.var;
  const sj = simpleJwtOf(c);

  // 1. The field.
  const { token: raw } = await readFields(c.req.raw, ["token"]);
  const now = clock();

  // 2. UntypedToken(raw): decode, exp, id; any type.
  const decoded = await decodeToken(raw, sj, now);
  if (!decoded.ok) refuse(sj, decoded.message);
  const message = tokenMessage(decoded.payload, sj, undefined, now);
  if (message !== undefined) refuse(sj, message);

  // 3. BLACKLIST_AFTER_ROTATION: a blacklisted id is a ValidationError, 400 non_field_errors.
  if (sj.blacklistAfterRotation && (await stores.revocations.inLedger(jtiOf(decoded.payload, sj)))) {
    throw fail({ kind: "simplejwt_verify_blacklisted" });
  }
  noteRequest(c, { outcome: "ok" });
  return c.json({});
}
