/**
 * simplejwt's four views, served where the origin mounts them (TOKEN_*_PATH): each view's
 * handler and DRF's metadata for OPTIONS (its name, docstring and fields).
 */
import type { Context } from "hono";
import type { SimpleJwtView } from "../../config";
import type { AppEnv } from "../../types";
import { simpleJwtBlacklist } from "./blacklist";
import { simpleJwtObtain } from "./obtain";
import { simpleJwtRefresh } from "./refresh";
import { simpleJwtVerify } from "./verify";

export interface ViewSpec {
  handler: (c: Context<AppEnv>) => Promise<Response>;
  /** DRF's get_view_name and get_view_description (the class docstring). */
  name: string;
  description: string;
  /** The serializer's fields (OPTIONS' actions.POST): writable ones, then read-only ones. */
  fields: (usernameField: string) => readonly string[];
  readOnly?: readonly string[];
}

export const SIMPLE_JWT_VIEW_SPECS: Record<SimpleJwtView, ViewSpec> = {
  obtain: {
    handler: simpleJwtObtain,
    name: "Token Obtain Pair",
    description:
      "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
    fields: (usernameField) => [usernameField, "password"],
  },
  refresh: {
    handler: simpleJwtRefresh,
    name: "Token Refresh",
    description:
      "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
    fields: () => ["refresh"],
    readOnly: ["access"],
  },
  verify: {
    handler: simpleJwtVerify,
    name: "Token Verify",
    description:
      "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
    fields: () => ["token"],
  },
  blacklist: {
    handler: simpleJwtBlacklist,
    name: "Token Blacklist",
    description:
      "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
    fields: () => ["refresh"],
  },
};

/** DRF's label of a field: its name, underscores as spaces, the first letter upper-cased. */
function label(field: string): string {
  const text = field.replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** SimpleMetadata's answer to OPTIONS (renders: the edge renders JSON only). */
export function viewMetadata(spec: ViewSpec, usernameField: string, parses: readonly string[]) {
  const field = (name: string, readOnly: boolean) => [
    name,
    { type: "string", required: !readOnly, read_only: readOnly, label: label(name) },
  ];
  return {
    name: spec.name,
    description: spec.description,
    renders: ["application/json"],
    parses,
    actions: {
      POST: Object.fromEntries([
        ...spec.fields(usernameField).map((name) => field(name, false)),
        ...(spec.readOnly ?? []).map((name) => field(name, true)),
      ]),
    },
  };
}
