/** Text and bytes the way Django sees them. */

// With the u flag a surrogate pair is one code point, so this matches only unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const encoder = new TextEncoder();

/**
 * UTF-8, or undefined for a string Python cannot encode: Django's force_bytes is strict UTF-8
 * and raises on lone surrogates, where TextEncoder would quietly substitute U+FFFD (and so let
 * "\uD800" collide with "\uFFFD").
 */
export function utf8(text: string): Uint8Array | undefined {
  return LONE_SURROGATE.test(text) ? undefined : encoder.encode(text);
}

/** Standard base64 with padding, as Python's base64.b64encode. */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
