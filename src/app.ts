/**
 * The API as a mountable unit: the host's env resolved to bindings and settings once per
 * request, configuration validated once per set of values, the routes under a base path,
 * and the one place where errors become the contract's responses. `src/api.ts` is the
 * public face of `buildApi`; this repository's own Worker is built from it too.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { type Clock, systemClock } from "./clock";
import {
  type Config,
  ConfigError,
  jwksPathOf,
  loadConfig,
  type SettingNames,
  type Settings,
  type SimpleJwtView,
  simpleJwtPathName,
  simpleJwtPaths,
} from "./config";
import { fail } from "./errors";
import { cors } from "./http/cors";
import { drfRendered } from "./http/drf-rendering";
import { forwardUnowned } from "./http/forward";
import { loadOriginTimeout, loadOriginUrl } from "./http/origin-settings";
import { problemOf, problemResponse } from "./http/problem";
import { requestLog } from "./http/request-log";
import { type OrgTokenVariables, orgTokenGuard, type RequireOrgTokenOptions } from "./http/require-org-token";
import { type SimpleJwtTokenVariables, simpleJwtTokenGuard } from "./http/require-simplejwt-token";
import { type PathOwner, pathOwner, REFUSED_ROUTE, routeMatcher } from "./http/route-match";
import { log } from "./log";
import { type PasswordWork, passwordWorkAt } from "./passwords/work";
import { jwks } from "./routes/jwks";
import { openApiDocument } from "./routes/openapi";
import { SIMPLE_JWT_VIEW_SPECS, viewMetadata } from "./routes/simplejwt";
import { ROUTES } from "./routes/table";
import { SETTINGS } from "./settings";
import { type Background, type StorageBindings, type Stores, storesOver } from "./storage";
import type { AppEnv, OriginTarget } from "./types";

export type { AppEnv } from "./types";

/** What the API needs from the host's env, under whatever names the host gave them. */
export interface OrgTokenBindings {
  /** The D1 database holding users, organizations, memberships and the token ledger (schema.sql). */
  db: D1Database | undefined;
  /**
   * The KV namespace of the edge blacklist of ended sessions (written after logout and
   * revocations, read by membership status and requireOrgToken) and the health probe's key.
   */
  kv: KVNamespace | undefined;
  /** JWT_SECRET_KEY, at least 32 bytes (a Worker secret): HS* signs with it; opaque ids derive from it always. */
  secret: string | undefined;
  /** Older secrets still accepted when verifying (key rotation). */
  previousSecrets?: string | readonly string[] | undefined;
}

/** How log lines and 500s name the bindings and settings: the host's own names, ideally. */
export type OrgTokenNames = SettingNames & { db?: string; kv?: string; originUrl?: string; originTimeout?: string };

/**
 * `bindings` and `settings` are read once per env object, and what they give is validated
 * then: a Worker's env is the same object on every request of an isolate. A host that
 * changes its env in place must pass a new object for the change to be seen.
 */
export interface OrgTokenApiOptions<E> {
  bindings: (env: E) => OrgTokenBindings;
  /** Lifetimes, limits, CORS origins…: strings (env vars) or numbers; absent or blank means the default. */
  settings?: (env: E) => Settings;
  /** Where the API's paths start: "/" (the default) or a prefix such as "/auth". */
  basePath?: string;
  /**
   * For a Worker whose routes cover more than the API's paths: the origin (scheme://host[:port])
   * that gets every other request unchanged. Unset: those paths get the contract's 404.
   * Only the standalone `fetch` forwards; `middleware` leaves other paths to the host.
   */
  originUrl?: (env: E) => string | undefined;
  /** Seconds the origin has to start answering a forwarded request (default 30, at most 300), else a 504. */
  originTimeout?: (env: E) => string | number | undefined;
  names?: OrgTokenNames;
}

export interface PurgeResult {
  tokens: number;
  families: number;
  /** Login attempt counters whose window has ended. */
  loginAttempts: number;
}

export interface OrgTokenApi<E extends object> {
  /** Hono middleware: answers the API's own paths (with or without trailing slash), next() for every other. */
  middleware: MiddlewareHandler<{ Bindings: E }>;
  /** A fetch handler: a standalone Worker's, or for hono/mount (with `replaceRequest: false`). */
  fetch: (request: Request, env: E, ctx?: ExecutionContext) => Promise<Response>;
  /**
   * Whether a request is the API's (by path only): for plain-fetch hosts. With `env`, the
   * simplejwt views' paths its settings configure too (TOKEN_*_PATH); without, the
   * org-token API's own paths only.
   */
  handles: (request: Request, env?: E) => boolean;
  /** Delete ledger rows whose tokens have expired: call it from the host's cron. */
  purgeExpired: (env: E, nowMs?: number) => Promise<PurgeResult>;
  /** Guard a host route: a valid access token, optionally for an organization and an active member. */
  requireOrgToken: (
    options?: RequireOrgTokenOptions<E>,
  ) => MiddlewareHandler<{ Bindings: E; Variables: OrgTokenVariables }>;
  /**
   * Guard a host route as simplejwt's JWTAuthentication with IsAuthenticated would: an access
   * token of simplejwt's views (the origin's SIMPLE_JWT settings), its user active in D1.
   */
  requireSimpleJwtToken: () => MiddlewareHandler<{ Bindings: E; Variables: SimpleJwtTokenVariables }>;
  /** The normalized base path: "" for the root, else "/prefix". */
  basePath: string;
}

/** Seams for this repository's tests and benchmarks; not part of the package's API. */
export interface Internals<E extends object> {
  clock?: Clock;
  /** A request's stores, from the host's env (in memory, recorded, faulty...): the routes' and the guard's. */
  stores?: (env: E, background: Background) => Stores;
  /** Outbound fetch for GitHub and for the logins the origin checks: a test's stand-in that answers as they would. */
  outbound?: typeof fetch;
  /**
   * The password login's hashing (check, unknown-user burn, upgrade): a test that is not about
   * passwords passes djangoPasswordWork at a low count, real PBKDF2 with fewer iterations.
   */
  passwords?: PasswordWork;
}

export interface Prepared {
  config: Config;
  storage: StorageBindings;
}

type Handler = (c: Context<AppEnv>) => Promise<Response>;

/**
 * What the views' metadata and the OpenAPI entries say of simplejwt's settings; under a
 * setting the edge cannot honour (the views' 500), the settings' defaults.
 */
function viewTerms(sj: Config["simpleJwt"]): { usernameField: string; wwwAuthenticate: string; rotate: boolean } {
  if (!("error" in sj)) {
    return { usernameField: sj.usernameField, wwwAuthenticate: sj.wwwAuthenticate, rotate: sj.rotateRefreshTokens };
  }
  return {
    usernameField: SETTINGS.usernameField.default,
    wwwAuthenticate: `${SETTINGS.authHeaderTypes.default} realm="api"`,
    rotate: false,
  };
}

const PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];
const SCHEMA_PATH = "/api/schema/";

/** "/", "", "auth/" → "" and "/auth". */
function normalizeBase(basePath = "/"): string {
  const trimmed = basePath.trim().replace(/\/+$/, "");
  return trimmed === "" ? "" : trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function isD1(value: unknown): value is D1Database {
  return typeof (value as D1Database | undefined)?.prepare === "function";
}

function isKv(value: unknown): value is KVNamespace {
  return typeof (value as KVNamespace | undefined)?.get === "function";
}

/** The host's ExecutionContext when it has one; else background work just runs on its own. */
function backgroundOf(c: Context): Background {
  const ctx = executionContextOf(c);
  return ctx ? (work) => ctx.waitUntil(work) : (work) => void work.catch(() => undefined);
}

function executionContextOf(c: Context): ExecutionContext | undefined {
  try {
    return c.executionCtx as ExecutionContext;
  } catch {
    return undefined;
  }
}

export function buildApi<E extends object>(options: OrgTokenApiOptions<E>, internals: Internals<E> = {}) {
  const base = normalizeBase(options.basePath);
  const names = options.names ?? {};
  const clock = internals.clock ?? systemClock;
  /** The one place a request's stores come from: the routes and requireOrgToken alike. */
  const storesFor = (env: E, prepared: Prepared, background: Background): Stores =>
    internals.stores ? internals.stores(env, background) : storesOver(prepared.storage);
  // Through a closure: workerd's fetch must not be called as another object's method.
  const outbound: typeof fetch = internals.outbound ?? ((input, init) => fetch(input, init));

  /** The request's bindings and configuration; a ConfigError names what is missing or wrong. */
  function boundD1(db: unknown): D1Database {
    if (!isD1(db)) throw new ConfigError(`${names.db ?? "db"} (the D1 database binding) is not bound`);
    return db;
  }

  const settingsByEnv = new WeakMap<object, Settings>();
  /** The host's settings, asked once per env object (configuration and path ownership both read them). */
  function settingsOf(env: E): Settings {
    const keyed = typeof env === "object" && env !== null;
    const known = keyed ? settingsByEnv.get(env) : undefined;
    if (known !== undefined) return known;
    const settings = options.settings?.(env) ?? {};
    if (keyed) settingsByEnv.set(env, settings);
    return settings;
  }

  async function load(env: E): Promise<Prepared> {
    const bindings = options.bindings(env);
    const db = boundD1(bindings.db);
    if (!isKv(bindings.kv)) throw new ConfigError(`${names.kv ?? "kv"} (the KV namespace binding) is not bound`);
    const config = await loadConfig({
      secret: bindings.secret,
      previousSecrets: bindings.previousSecrets,
      settings: settingsOf(env),
      names,
    });
    return { config, storage: { db, kv: bindings.kv } };
  }

  // A Worker gets the same env object on every request of an isolate: resolve it once.
  const preparedByEnv = new WeakMap<object, Prepared>();

  /** As `load`, a misconfiguration logged once per request and answered as the contract's 500. */
  async function prepare(env: E): Promise<Prepared> {
    // Without an env object (app.request(path) in a test, a runtime that passes none) nothing is kept.
    const keyed = typeof env === "object" && env !== null;
    const known = keyed ? preparedByEnv.get(env) : undefined;
    if (known !== undefined) return known;
    // A ConfigError goes on: problemOf logs it by name and answers the contract's 500.
    const prepared = await load(env);
    if (keyed) preparedByEnv.set(env, prepared);
    return prepared;
  }

  const originByEnv = new WeakMap<object, OriginTarget | undefined>();

  /**
   * Where paths the API does not own go: the origin, for a standalone Worker that sets one.
   * Apart from `prepare`, so that a broken token setting does not take the origin's paths down.
   */
  function originOf(env: E): OriginTarget | undefined {
    const keyed = typeof env === "object" && env !== null;
    if (keyed && originByEnv.has(env)) return originByEnv.get(env);
    const url = loadOriginUrl(options.originUrl?.(env), names.originUrl);
    const origin =
      url === undefined
        ? undefined
        : { url, timeoutMs: loadOriginTimeout(options.originTimeout?.(env), names.originTimeout) };
    if (keyed) originByEnv.set(env, origin);
    return origin;
  }

  const ownPaths = [...ROUTES.map((spec) => spec.path), SCHEMA_PATH].map((path) => base + path);
  const ownerOf = pathOwner(ownPaths);
  const orgRouteOf = routeMatcher(ownPaths);
  /** The logout path, which simplejwt's blacklist view may take over (it is that view at the origin). */
  const LOGOUT_PATH = `${base}/api/token/blacklist/`;
  const bare = (path: string) => path.replace(/\/+$/, "");

  interface Ownership {
    owner: (pathname: string) => PathOwner;
    /** The simplejwt view of a route (by its path without trailing slash). */
    views: ReadonlyMap<string, SimpleJwtView>;
    /** The JWKS's route (without trailing slash), under an asymmetric ALGORITHM. */
    jwks: string | undefined;
  }
  const ownershipByEnv = new WeakMap<object, Ownership>();

  /**
   * Which paths are the API's for this env: the org-token routes, and the simplejwt views'
   * paths its settings configure, owned the same way (every spelling served or refused). A
   * malformed view path, or one on an org-token route (but the logout path, for the blacklist
   * view), is a ConfigError: then no path can be told apart, and every request is the 500.
   * So is the JWKS's path (JWKS_PATH, under an asymmetric ALGORITHM) on another route.
   */
  function ownershipOf(env: E): Ownership {
    const keyed = typeof env === "object" && env !== null;
    const known = keyed ? ownershipByEnv.get(env) : undefined;
    if (known !== undefined) return known;
    const paths = simpleJwtPaths(settingsOf(env), names);
    const views = new Map<string, SimpleJwtView>();
    const viewPaths: string[] = []; // as configured: the route names a view by its own spelling
    for (const [view, path] of Object.entries(paths) as [SimpleJwtView, string][]) {
      const full = base + path;
      const taken = orgRouteOf(full) ?? orgRouteOf(`${bare(full)}/`);
      if (taken !== undefined && !(view === "blacklist" && taken === LOGOUT_PATH)) {
        throw new ConfigError(`${simpleJwtPathName(view, names)} ${path} is the org-token API's route ${taken}`);
      }
      views.set(bare(full), view);
      viewPaths.push(full);
    }
    const jwksPath = jwksPathOf(settingsOf(env), names);
    const jwks = jwksPath === undefined ? undefined : bare(base + jwksPath);
    if (jwks !== undefined) {
      const taken =
        orgRouteOf(jwks) ?? orgRouteOf(`${jwks}/`) ?? (views.has(jwks) ? `${views.get(jwks)} view's` : undefined);
      if (taken !== undefined)
        throw new ConfigError(`${names.jwksPath ?? "jwksPath"} ${jwksPath} is the route ${taken} too`);
    }
    const extra = [...viewPaths, ...(jwks === undefined ? [] : [jwks])];
    const ownership: Ownership =
      extra.length === 0 ? { owner: ownerOf, views, jwks } : { owner: pathOwner([...ownPaths, ...extra]), views, jwks };
    if (keyed) ownershipByEnv.set(env, ownership);
    return ownership;
  }

  // strict: false — every path matches with or without its trailing slash, as the origin's do.
  const app = new Hono<AppEnv>({ strict: false });

  // One log line per request; then paths the API does not own go to ORIGIN_URL, before
  // configuration and CORS touch them.
  app.use(async (c, next) => {
    const owner = ownershipOf(c.env as E).owner(new URL(c.req.url).pathname); // once: the log line and forwarding ask
    c.set("route", owner === undefined ? undefined : "route" in owner ? owner.route : REFUSED_ROUTE);
    await next();
  });
  app.use(requestLog());
  // Another spelling of the API's paths (or an encoded separator under its prefixes) is
  // neither served nor forwarded: the origin could decode it onto its own token views.
  app.use(async (c, next) => {
    if (c.get("route") === REFUSED_ROUTE) throw fail({ kind: "not_found" });
    await next();
  });
  app.use(forwardUnowned(originOf));
  app.use(async (c, next) => {
    const prepared = await prepare(c.env as E);
    c.set("config", prepared.config);
    c.set("clock", clock);
    c.set("outbound", outbound);
    c.set("origin", () => originOf(c.env as E));
    c.set("passwords", internals.passwords ?? passwordWorkAt(prepared.config.passwordIterations));
    const background = backgroundOf(c);
    c.set("background", background);
    c.set("stores", storesFor(c.env as E, prepared, background));
    await next();
  });
  app.use(cors);

  // The JWKS, under an asymmetric ALGORITHM.
  app.use(async (c, next) => {
    const route = c.get("route");
    const set = c.var.config.jwks;
    if (route === undefined || set === undefined || bare(route) !== ownershipOf(c.env as E).jwks) return next();
    return jwks(c, set);
  });

  const viewOf = (c: Context<AppEnv>) => {
    const route = c.get("route");
    return route === undefined ? undefined : ownershipOf(c.env as E).views.get(bare(route));
  };
  const VIEW_ALLOW = ["POST", "OPTIONS"];
  // simplejwt's views under DRF's content negotiation and rendering (Accept, indent, Vary).
  app.use(async (c, next) => {
    if (viewOf(c) === undefined) return next();
    return drfRendered(c, next, VIEW_ALLOW.join(", "));
  });
  // simplejwt's views, where the settings mount them: POST, DRF's metadata for OPTIONS, 405 else.
  app.use(async (c, next) => {
    const view = viewOf(c);
    if (view === undefined) return next();
    const spec = SIMPLE_JWT_VIEW_SPECS[view];
    if (c.req.method === "POST") return spec.handler(c);
    if (c.req.method === "OPTIONS") {
      const { usernameField } = viewTerms(c.var.config.simpleJwt);
      return c.json(viewMetadata(spec, usernameField, PARSES), 200, { Allow: VIEW_ALLOW.join(", ") });
    }
    throw fail({ kind: "method_not_allowed", method: c.req.method, allow: VIEW_ALLOW });
  });

  /** A route answering `methods`, with DRF's 405 and Allow header for every other method. */
  const route = (pathWithSlash: string, methods: readonly ("GET" | "POST")[], name: string, handler: Handler) => {
    // Hono's non-strict matching wants the path bare, and its parameters as :name.
    const path = base + pathWithSlash.replace(/\/$/, "").replace(/\{(\w+)\}/g, ":$1");
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : []), "OPTIONS"];
    app.on([...methods], path, handler);
    // A plain OPTIONS (not a CORS preflight) gets DRF's metadata answer.
    app.options(path, (c) =>
      c.json({ name, renders: ["application/json"], parses: PARSES }, 200, { Allow: allow.join(", ") }),
    );
    app.all(path, (c) => {
      throw fail({ kind: "method_not_allowed", method: c.req.method, allow });
    });
  };

  for (const spec of ROUTES) route(spec.path, [spec.method], spec.summary, spec.handler);
  route(SCHEMA_PATH, ["GET"], "OpenAPI document", async (c) => {
    // simplejwt's views where they are mounted (their paths already checked by ownershipOf).
    const paths = simpleJwtPaths(settingsOf(c.env as E), names);
    const views = Object.keys(paths).length === 0 ? undefined : { paths, ...viewTerms(c.var.config.simpleJwt) };
    return c.json(openApiDocument(new URL(c.req.url).origin + base, views));
  });

  app.notFound((c) => problemResponse(c, { kind: "not_found" }));
  app.onError((error, c) => {
    const problem = problemOf(error);
    if (problem !== undefined) return problemResponse(c, problem);
    log("error", "unhandled_error", { error: String(error) });
    return problemResponse(c, { kind: "internal" });
  });

  // Refused spellings too: a mounted host must not be handed an encoded spelling of an API path.
  const handles = (request: Request, env?: E) => {
    const pathname = new URL(request.url).pathname;
    if (env === undefined) return ownerOf(pathname) !== undefined;
    try {
      return ownershipOf(env).owner(pathname) !== undefined;
    } catch {
      return true; // misconfigured: the API answers (its 500), never the host
    }
  };

  const api: OrgTokenApi<E> = {
    basePath: base,
    handles,
    fetch: async (request, env, ctx) => app.fetch(request, env as object, ctx),
    middleware: async (c, next) => {
      // Another path is the host's: no config, no headers, nothing.
      if (!handles(c.req.raw, c.env)) return next();
      return app.fetch(c.req.raw, c.env as object, executionContextOf(c));
    },
    async purgeExpired(env, nowMs = Date.now()) {
      const { db, kv } = options.bindings(env);
      // The purge touches no KV (its entries expire on their own); the namespace only builds the stores.
      const stores = storesOver({ db: boundD1(db), kv: kv as KVNamespace });
      const removed = await stores.revocations.purgeExpired(nowMs);
      return { ...removed, loginAttempts: await stores.attempts.purge(nowMs) };
    },
    requireOrgToken: (guardOptions = {}) =>
      orgTokenGuard<E>(
        async (c) => {
          const prepared = await prepare(c.env);
          return { config: prepared.config, stores: storesFor(c.env, prepared, backgroundOf(c)) };
        },
        clock,
        guardOptions,
      ),
    requireSimpleJwtToken: () =>
      simpleJwtTokenGuard<E>(async (c) => {
        const prepared = await prepare(c.env);
        return { config: prepared.config, stores: storesFor(c.env, prepared, backgroundOf(c)) };
      }, clock),
  };
  return { ...api, app };
}
