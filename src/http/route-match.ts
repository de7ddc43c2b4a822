/**
 * Which of the API's routes a path belongs to, and which spellings of the API's paths are
 * refused. The origin behind the edge (nginx, gunicorn, Django) decodes percent-escapes,
 * sometimes twice (nginx's proxy_pass with a URI, then gunicorn's PATH_INFO), and may treat
 * `\` as `/`, merge slashes and resolve dot segments: a spelling the edge did not route
 * could reach the origin's own token views. So ownership is decided on the path as the
 * origin could end up seeing it, not as it came.
 */

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Enough rounds for any real stack of decoders; a path still changing after them is refused under a prefix. */
const DECODE_ROUNDS = 8;

/** One round of percent-decoding, byte by byte (a malformed escape stays as it is). */
function decodeOnce(path: string): string {
  return path.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * The path as the most liberal origin stack would route it: percent-decoded until stable,
 * `\` as `/`, repeated slashes merged, dot segments resolved (RFC 3986 §5.2.4).
 */
export function normalizePath(raw: string): string {
  let path = raw;
  for (let round = 0; round < DECODE_ROUNDS; round++) {
    const next = decodeOnce(path);
    if (next === path) break;
    path = next;
  }
  const segments = path
    .replace(/\\/g, "/")
    .replace(/\/{2,}/g, "/")
    .split("/")
    .slice(1);
  const out: string[] = [];
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === "." || segment === "..") {
      if (segment === "..") out.pop();
      if (last) out.push("");
    } else out.push(segment);
  });
  return `/${out.join("/")}`;
}

/**
 * The normalized path cut at its first `?`, `#` or control character: a stack that decodes
 * and then splits a query or fragment off again, or a pattern whose `$` matches before a
 * trailing newline (Django's `re_path`, and `path()` before 3.2.10), routes what is left.
 */
function truncated(normalized: string): string {
  for (let i = 0; i < normalized.length; i++) {
    const code = normalized.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x3f /* ? */ || code === 0x23 /* # */) return normalized.slice(0, i);
  }
  return normalized;
}

/**
 * A path the edge serves as it is: no escape of a separator, a dot or `%` itself, no `\`,
 * no repeated slash, no dot segment. Anything else under the API's prefixes is refused.
 */
function isPlainSpelling(raw: string): boolean {
  return (
    !/%(2f|5c|25|2e)/i.test(raw) &&
    !raw.includes("\\") &&
    !raw.includes("//") &&
    !raw.split("/").some((segment) => segment === "." || segment === "..")
  );
}

/** The prefixes the API owns: each route's path up to its first parameter, minus those inside another. */
export function ownedPrefixes(paths: readonly string[]): string[] {
  const statics = [...new Set(paths.map((path) => path.split("{")[0]!.replace(/\/+$/, "")))];
  return statics.filter((prefix) => !statics.some((other) => other !== prefix && prefix.startsWith(`${other}/`)));
}

/** The `route` a refused spelling is logged under (never the path itself). */
export const REFUSED_ROUTE = "(refused)";

/** The API's route a path is (its OpenAPI pattern), a spelling to refuse, or neither (not the API's). */
export type PathOwner = { route: string } | { refused: true } | undefined;

/**
 * A lookup from a request path (a URL's pathname) to its owner:
 * - a route pattern (OpenAPI style, `{name}` for one segment) for a plain spelling of one of
 *   `paths`, with or without the trailing slash, non-separator escapes decoded as the router does;
 * - refused: a path under one of the API's prefixes, as it came or normalized, that is not a
 *   plain spelling (encoded separators, `%25`, `\`, `//`, dot segments), or whose normalized
 *   form, whole or cut at a `?`, `#` or control character, is one of the API's paths although
 *   the path as it came is not;
 * - undefined: every other path, which the origin (or the host) gets unchanged.
 */
export function pathOwner(paths: readonly string[]): (pathname: string) => PathOwner {
  const patterns = paths.map((path) => {
    const pieces = path
      .replace(/\/$/, "")
      .split(/\{\w+\}/)
      .map(escapeRegExp);
    return { path, pattern: new RegExp(`^${pieces.join("[^/]+")}/?$`) };
  });
  const prefixes = ownedPrefixes(paths);
  const under = (path: string) => prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  const matchOf = (path: string) => patterns.find(({ pattern }) => pattern.test(path))?.path;
  // One of the API's paths as the origin could route the normalized path, cut or not.
  const routedOnto = (normalized: string) =>
    matchOf(normalized) !== undefined || matchOf(truncated(normalized)) !== undefined;

  return (pathname) => {
    const normalized = normalizePath(pathname);
    const owned = under(normalized) || under(pathname) || routedOnto(normalized);
    if (!owned) return undefined;
    if (!isPlainSpelling(pathname)) return { refused: true };
    let decoded = pathname;
    try {
      decoded = decodeURI(pathname); // as the router: escapes of reserved characters stay
    } catch {
      // A malformed escape: match it as it is.
    }
    const route = matchOf(decoded) ?? matchOf(pathname);
    if (route !== undefined) return { route };
    // A plain path under a prefix that is none of the API's paths: the origin's, unless it
    // still normalizes onto one of them.
    return routedOnto(normalized) ? { refused: true } : undefined;
  };
}

/** The route pattern a path belongs to, or undefined (refused spellings included). */
export function routeMatcher(paths: readonly string[]): (pathname: string) => string | undefined {
  const owner = pathOwner(paths);
  return (pathname) => {
    const found = owner(pathname);
    return found !== undefined && "route" in found ? found.route : undefined;
  };
}
