/**
 * Where paths the API does not own go, and how long the origin may take: parsed apart from
 * Config, so that a broken token setting does not take the origin's paths down.
 */
import { ConfigError } from "../config";

/**
 * ORIGIN_URL: where requests for paths the API does not own are forwarded (the Django
 * origin, by a name that does not route back to this Worker), a bare origin
 * scheme://host[:port]. Unset or blank: no forwarding, such paths get the contract's 404.
 */
export function loadOriginUrl(value: string | undefined, name = "ORIGIN_URL"): URL | undefined {
  const raw = value?.trim() ?? "";
  if (raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== raw.replace(/\/$/, "")) {
    throw new ConfigError(`${name} must be a bare http(s) origin, scheme://host[:port]`);
  }
  return url;
}

/** ORIGIN_TIMEOUT's default, seconds: the origin must start answering within it (gunicorn's own default worker timeout). */
export const DEFAULT_ORIGIN_TIMEOUT = 30;

/**
 * ORIGIN_TIMEOUT: seconds (fractions allowed) the origin has to start answering a forwarded
 * request, else a 504. Unset or blank: 30. At most 300: a hung origin must not hold requests.
 */
export function loadOriginTimeout(value: string | number | undefined, name = "ORIGIN_TIMEOUT"): number {
  const raw = typeof value === "number" ? String(value) : (value?.trim() ?? "");
  if (raw === "") return DEFAULT_ORIGIN_TIMEOUT * 1000;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(seconds > 0) || seconds > 300) {
    throw new ConfigError(`${name} must be a number of seconds above 0 and at most 300`);
  }
  return Math.ceil(seconds * 1000);
}
