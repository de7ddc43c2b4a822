/**
 * Where paths the API does not own go, and how long the origin may take: ORIGIN_URL and
 * ORIGIN_TIMEOUT, entries of the settings table (src/settings.ts) read apart from Config, so
 * that a broken token setting does not take the origin's paths down.
 */
import { readSetting, SETTINGS } from "../settings";

/**
 * ORIGIN_URL: where requests for paths the API does not own are forwarded (the Django
 * origin, by a name that does not route back to this Worker), a bare origin
 * scheme://host[:port]. Unset or blank: no forwarding, such paths get the contract's 404.
 */
export function loadOriginUrl(value: string | undefined, name: string = SETTINGS.originUrl.env): URL | undefined {
  return readSetting("originUrl", value, name);
}

/**
 * ORIGIN_TIMEOUT: seconds (fractions allowed) the origin has to start answering a forwarded
 * request, else a 504; in milliseconds. Unset or blank: 30 (gunicorn's own default worker
 * timeout). At most 300: a hung origin must not hold requests.
 */
export function loadOriginTimeout(
  value: string | number | undefined,
  name: string = SETTINGS.originTimeout.env,
): number {
  return readSetting("originTimeout", value, name);
}
