/** GET /api/schema/: an OpenAPI 3.1 document generated from the route table. */
import { type Problem, render } from "../errors";
import { COMMON_PROBLEMS, ROUTES, type RouteSpec, type SuccessBody, sourceOf } from "./table";

const SCHEMAS = {
  TokenPair: {
    type: "object",
    required: ["exp", "access_lifetime", "refresh_lifetime", "refresh", "access"],
    properties: {
      exp: {
        type: "string",
        description: "The access token's expiry, YYYY-MM-DDTHH:MM:SSUTC",
        examples: ["2022-11-29T15:24:09UTC"],
      },
      access_lifetime: { type: "string", description: "Seconds, as Python prints a float", examples: ["86400.0"] },
      refresh_lifetime: { type: "string", description: "Seconds, as Python prints a float", examples: ["2592000.0"] },
      refresh: { type: "string", description: "JWT (ALGORITHM, HS256 by default), token_type refresh" },
      access: { type: "string", description: "JWT (ALGORITHM, HS256 by default), token_type access" },
    },
  },
  ActiveFlag: { type: "object", required: ["active"], properties: { active: { type: "boolean" } } },
  Logout: { type: "object", properties: { active: { type: "boolean", const: false } } },
  Health: { type: "object", required: ["status"], properties: { status: { type: "string", const: "ok" } } },
  SyncResult: {
    type: "object",
    required: ["applied", "stale", "duplicate"],
    properties: {
      applied: { type: "integer" },
      stale: { type: "integer" },
      duplicate: { type: "boolean" },
      removed: { type: "object", additionalProperties: { type: "integer" } },
    },
  },
  Error: { type: "object", additionalProperties: true, description: "The contract's error bodies" },
} as const;

const SUCCESS_SCHEMA: Record<SuccessBody, string> = {
  token_pair: "TokenPair",
  active_flag: "ActiveFlag",
  logout: "Logout",
  health: "Health",
  sync_result: "SyncResult",
};

function ref(name: string) {
  return { $ref: `#/components/schemas/${name}` };
}

function responses(route: RouteSpec) {
  const byStatus = new Map<
    number,
    {
      description: string[];
      schemas: Set<string>;
      examples: Record<string, unknown>;
      headers: Record<string, unknown>;
    }
  >();
  const add = (status: number, description: string, schema: string, name: string, example?: unknown) => {
    const entry = byStatus.get(status) ?? { description: [], schemas: new Set<string>(), examples: {}, headers: {} };
    entry.description.push(description);
    entry.schemas.add(schema);
    // The example's summary is its row's source, as docs/contract.md's column.
    if (example !== undefined) entry.examples[name] = { summary: sourceOf(route, undefined), value: example };
    byStatus.set(status, entry);
    return entry;
  };
  for (const success of route.success)
    add(
      success.status,
      `${success.description} (${sourceOf(route, undefined)})`,
      SUCCESS_SCHEMA[success.body],
      success.body,
    );
  const problems: Problem[] = [...route.problems, ...COMMON_PROBLEMS];
  const named = new Map<string, number>();
  for (const problem of problems) {
    const { status, body, headers } = render(problem);
    const source = sourceOf(route, problem.kind);
    // A wrapped refusal is named by what it wraps; two rows of one kind (logout's two messages) get two examples.
    const kind = problem.kind === "permission_denied" ? `permission_denied:${problem.denied.kind}` : problem.kind;
    const seen = named.get(kind) ?? 0;
    named.set(kind, seen + 1);
    const name = seen === 0 ? kind : `${kind}_${seen + 1}`;
    const entry = add(status, `${kind.replaceAll("_", " ")} (${source})`, "Error", name);
    entry.examples[name] = { summary: source, value: body };
    for (const header of Object.keys(headers ?? {})) entry.headers[header] = { schema: { type: "string" } };
  }
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, entry]) => {
        const schemas = [...entry.schemas].map(ref);
        return [
          String(status),
          {
            description: entry.description.join("; "),
            ...(Object.keys(entry.headers).length > 0 ? { headers: entry.headers } : {}),
            content: {
              "application/json": {
                schema: schemas.length === 1 ? schemas[0] : { oneOf: schemas },
                ...(Object.keys(entry.examples).length > 0 ? { examples: entry.examples } : {}),
              },
            },
          },
        ];
      }),
  );
}

function requestBody(fields: readonly string[]) {
  const schema = {
    type: "object",
    required: [...fields],
    properties: Object.fromEntries(fields.map((field) => [field, { type: "string", minLength: 1 }])),
  };
  return {
    required: true,
    content: {
      "application/json": { schema },
      "application/x-www-form-urlencoded": { schema },
      "multipart/form-data": { schema },
    },
  };
}

function operation(route: RouteSpec) {
  const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: requestBody(route.body) } : {}),
    ...(route.bearer ? { security: [{ bearerAuth: [] }] } : {}),
    responses: responses(route),
  };
}

export function openApiDocument(serverUrl?: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "SlideRule provisioning system: organization tokens",
      version: "1.0.0",
      description:
        "Log in to an organization, refresh (each refresh token redeemed once), log out, check membership. Paths match with or without the trailing slash.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  };
}
