/**
 * DRF's content negotiation for simplejwt's views and the guard's refusals, under DRF's default
 * renderers (JSONRenderer, then BrowsableAPIRenderer) and URL_FORMAT_OVERRIDE `format`
 * (rest_framework/negotiation.py DefaultContentNegotiation.select_renderer, utils/mediatypes.py,
 * renderers.py JSONRenderer.get_indent; Django 3.2's multipartparser.parse_header reads each
 * media type). What it picks: JSON, compact or indented by the accepted type's `indent`
 * parameter (0 to 8), or the browsable API, which the edge does not render (docs/contract.md
 * "What the four views share"): the caller answers that with the 406.
 */
import { fail } from "../errors";

export type Rendering = { renderer: "json"; indent: number | undefined } | { renderer: "browsable" };

interface MediaType {
  main: string;
  sub: string;
  params: Map<string, string>;
}

/** The renderers in DRF's default order: media type and `format`. */
const RENDERERS = [
  { renderer: "json", mediaType: "application/json", format: "json" },
  { renderer: "browsable", mediaType: "text/html", format: "api" },
] as const;

/** The renderers' own media types, parsed once. */
const RENDERER_TYPES = new Map(RENDERERS.map(({ mediaType }) => [mediaType, parseMediaType(mediaType)]));

/** Django's _parse_header_params: `;`-separated, a `;` inside double quotes kept. */
function splitParams(line: string): string[] {
  const parts: string[] = [];
  let rest = `;${line}`;
  while (rest.startsWith(";")) {
    rest = rest.slice(1);
    let end = rest.indexOf(";");
    while (end > 0 && (rest.slice(0, end).match(/"/g)?.length ?? 0) % 2 === 1) end = rest.indexOf(";", end + 1);
    if (end < 0) end = rest.length;
    parts.push(rest.slice(0, end).trim());
    rest = rest.slice(end);
  }
  return parts;
}

/** Django's parse_header: the type lower-cased, then `name=value` parameters (names lower-cased, quotes removed). */
function parseMediaType(text: string): MediaType {
  const [full = "", ...rest] = splitParams(text);
  const type = full.toLowerCase();
  const slash = type.indexOf("/");
  const params = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    let value = part.slice(at + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replaceAll("\\\\", "\\").replaceAll('\\"', '"');
    }
    params.set(part.slice(0, at).trim().toLowerCase(), value);
  }
  return slash < 0
    ? { main: type, sub: "", params }
    : { main: type.slice(0, slash), sub: type.slice(slash + 1), params };
}

/** _MediaType.precedence: 0 `*\/*`, 1 `type/*`, 2 `type/subtype` (and only `q`), 3 with other parameters. */
function precedence(media: MediaType): number {
  if (media.main === "*") return 0;
  if (media.sub === "*") return 1;
  if (media.params.size === 0 || (media.params.size === 1 && media.params.has("q"))) return 2;
  return 3;
}

/** _MediaType.match for a renderer's type (no parameters): `q` is never read, so q=0 accepts too. */
function matches(renderer: MediaType, accepted: MediaType): boolean {
  if (renderer.sub !== "*" && accepted.sub !== "*" && accepted.sub !== renderer.sub) return false;
  return !(renderer.main !== "*" && accepted.main !== "*" && accepted.main !== renderer.main);
}

/** JSONRenderer.get_indent: int(indent) bounded to 0..8, 0 none; anything int() refuses, none. */
function indentOf(params: Map<string, string>): number | undefined {
  const raw = params.get("indent");
  if (raw === undefined || !/^\s*[+-]?[0-9]+(_[0-9]+)*\s*$/.test(raw)) return undefined;
  const value = Math.max(Math.min(Number.parseInt(raw.replaceAll("_", ""), 10), 8), 0);
  return value === 0 ? undefined : value;
}

/**
 * select_renderer for `accept` (the Accept header; absent is `*\/*`) and `format` (the query's
 * last `format`; empty is none). A format no renderer has is DRF's 404 `Not found.`; no
 * renderer matching is the 406. Within one precedence the first matching entry in the header
 * wins (DRF iterates a Python set there).
 */
export function negotiate(accept: string | null | undefined, format: string | null | undefined): Rendering {
  const renderers = format ? RENDERERS.filter((r) => r.format === format) : RENDERERS;
  if (renderers.length === 0) throw fail({ kind: "format_not_found" });
  const accepted = (accept ?? "*/*").split(",").map((token) => parseMediaType(token.trim()));
  for (const level of [3, 2, 1, 0]) {
    const set = accepted.filter((media) => precedence(media) === level);
    for (const candidate of renderers) {
      const media = set.find((m) => matches(RENDERER_TYPES.get(candidate.mediaType)!, m));
      if (media === undefined) continue;
      // The accepted type's parameters go with the renderer's type either way (`*\/*; indent=4` too).
      return candidate.renderer === "json"
        ? { renderer: "json", indent: indentOf(media.params) }
        : { renderer: "browsable" };
    }
  }
  throw fail({ kind: "not_acceptable" });
}

/** The request's `format` as Django's QueryDict.get reads it: the last value. */
export function formatOf(url: string): string | null {
  const values = new URL(url).searchParams.getAll("format");
  return values.length === 0 ? null : values[values.length - 1]!;
}

/** `headers`' Vary with `token` added unless it names it already (or `*`). */
export function addVary(headers: Headers, token: string): void {
  const present = (headers.get("Vary") ?? "")
    .split(",")
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== "");
  if (present.includes(token.toLowerCase()) || present.includes("*")) return;
  headers.set("Vary", [...(headers.get("Vary") ? [headers.get("Vary")!] : []), token].join(", "));
}

/**
 * A JSON response rendered as DRF's JSONRenderer with `indent`: json.dumps(indent=n,
 * separators=(",", ": "), ensure_ascii=False), which JSON.stringify(value, null, n) writes
 * byte for byte for these bodies (strings, numbers, lists, objects). Compact: unchanged.
 */
export async function indented(response: Response, indent: number | undefined): Promise<Response> {
  if (indent === undefined || !(response.headers.get("Content-Type") ?? "").startsWith("application/json")) {
    return response;
  }
  const text = await response.text();
  let body = text;
  try {
    body = JSON.stringify(JSON.parse(text), null, indent);
  } catch {
    // Not JSON after all: as it was.
  }
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
