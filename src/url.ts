/**
 * The one URL parse-and-validate: settings (src/settings.ts: GITHUB_API_URL, ORIGIN_URL,
 * CORS_ALLOWED_ORIGINS) and forwarding (src/http/forward.ts: the origin's Location) all
 * read a URL through `parseUrl`, each asking for the shape it needs.
 */

/**
 * - `absolute`: any absolute URL.
 * - `origin`: a bare origin, scheme://host[:port] (one trailing slash allowed), of a scheme that has one.
 * - `http-origin`: the same, http or https.
 * - `http-base`: an http(s) URL without credentials, query or fragment (a path allowed).
 */
export type UrlShape = "absolute" | "origin" | "http-origin" | "http-base";

const isHttp = (url: URL) => url.protocol === "https:" || url.protocol === "http:";
const isBareOrigin = (url: URL, raw: string) => url.origin === raw.replace(/\/$/, "");

const SHAPES: Record<UrlShape, (url: URL, raw: string) => boolean> = {
  absolute: () => true,
  origin: isBareOrigin,
  "http-origin": (url, raw) => isHttp(url) && isBareOrigin(url, raw),
  "http-base": (url) =>
    isHttp(url) && url.search === "" && url.hash === "" && url.username === "" && url.password === "",
};

/**
 * `raw` as an absolute URL of `shape`: the URL; "unparsable" when it is no absolute URL at
 * all (relative, or not a URL); "misshapen" when it is a URL of another shape.
 */
export function parseUrl(raw: string, shape: UrlShape = "absolute"): URL | "unparsable" | "misshapen" {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "unparsable";
  }
  return SHAPES[shape](url, raw) ? url : "misshapen";
}
