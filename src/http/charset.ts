/**
 * The `charset` parameter of a request body, as Django reads it. Django's HttpRequest takes
 * `encoding` from the Content-Type's charset when Python's `codecs.lookup` knows it, and
 * otherwise keeps settings.DEFAULT_CHARSET (utf-8) (django/http/request.py,
 * `_set_content_type_params`); DRF hands it to its parsers as parser_context["encoding"]
 * (rest_framework/request.py). Python's codec names are looked up after
 * `encodings.normalize_encoding` (lower case, punctuation runs to one "_"), then its aliases
 * (encodings/aliases.py). Python's latin-1 is ISO-8859-1 proper (bytes 0x80-0x9F are C1
 * controls), not the WHATWG "latin1" label, which means windows-1252.
 */

export type Codec = "utf_8" | "latin_1" | "ascii" | "utf_16" | "utf_16_le" | "utf_16_be";

const ALIASES: Record<string, Codec> = {};
const names: Record<Codec, string[]> = {
  utf_8: ["utf_8", "utf8", "u8", "utf", "utf8_ucs2", "utf8_ucs4", "cp65001"],
  latin_1: [
    "latin_1",
    "latin1",
    "latin",
    "l1",
    "iso8859_1",
    "iso_8859_1",
    "8859",
    "cp819",
    "iso8859",
    "iso_ir_100",
    "csisolatin1",
    "ibm819",
    "iso_8859_1_1987",
  ],
  ascii: [
    "ascii",
    "us_ascii",
    "646",
    "us",
    "ansi_x3.4_1968",
    "ansi_x3_4_1968",
    "ansi_x3.4_1986",
    "cp367",
    "csascii",
    "ibm367",
    "iso646_us",
    "iso_646.irv_1991",
    "iso_ir_6",
  ],
  utf_16: ["utf_16", "utf16", "u16"],
  utf_16_le: ["utf_16_le", "utf_16le", "unicodelittleunmarked"],
  utf_16_be: ["utf_16_be", "utf_16be", "unicodebigunmarked"],
};
for (const [codec, list] of Object.entries(names)) for (const name of list) ALIASES[name] = codec as Codec;

/** Python's encodings.normalize_encoding, lower-cased as codecs.lookup does. */
function normalize(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/** The Content-Type's parameters (names lower-cased, quoted values unquoted). */
export function contentTypeParams(contentType: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of contentType.split(";").slice(1)) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    params.set(part.slice(0, eq).trim().toLowerCase(), value);
  }
  return params;
}

export type CharsetChoice = { codec: Codec } | { unsupported: string };

/**
 * The codec of a body. No charset: utf-8. A charset this module decodes: that one. Any other
 * charset: `unsupported` (answered 415), rather than reading, say, Shift_JIS as UTF-8; Django
 * would decode the ones Python has, and ignore (read as utf-8) the names Python does not know.
 */
export function bodyCharset(contentType: string): CharsetChoice {
  const charset = contentTypeParams(contentType).get("charset");
  if (charset === undefined) return { codec: "utf_8" };
  const codec = ALIASES[normalize(charset)];
  return codec === undefined ? { unsupported: charset } : { codec };
}

export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

const LABELS: Record<Codec, string> = {
  utf_8: "utf-8",
  latin_1: "latin-1",
  ascii: "ascii",
  utf_16: "utf-16",
  utf_16_le: "utf-16-le",
  utf_16_be: "utf-16-be",
};

/**
 * Bytes to text as Python's codec does. `strict`: a byte the codec cannot decode throws
 * DecodeError; otherwise it becomes U+FFFD (Python's errors="replace").
 * Python's utf-8 keeps a BOM (U+FEFF) as a character; "utf-16" takes a BOM to choose the
 * byte order and drops it (little-endian without one); "utf-16-le"/"-be" keep it.
 */
export function decode(bytes: Uint8Array, codec: Codec, strict: boolean): string {
  switch (codec) {
    case "latin_1":
      return latin1(bytes);
    case "ascii": {
      if (bytes.every((b) => b < 0x80)) return latin1(bytes);
      if (strict)
        throw new DecodeError(`'ascii' codec can't decode byte 0x${bytes.find((b) => b >= 0x80)!.toString(16)}`);
      return Array.from(bytes, (b) => (b < 0x80 ? String.fromCharCode(b) : "\ufffd")).join("");
    }
    case "utf_16": {
      if (bytes[0] === 0xfe && bytes[1] === 0xff) return textDecode("utf-16be", bytes.subarray(2), strict, codec);
      if (bytes[0] === 0xff && bytes[1] === 0xfe) return textDecode("utf-16le", bytes.subarray(2), strict, codec);
      return textDecode("utf-16le", bytes, strict, codec);
    }
    case "utf_16_le":
      return textDecode("utf-16le", bytes, strict, codec);
    case "utf_16_be":
      return textDecode("utf-16be", bytes, strict, codec);
    case "utf_8":
      return textDecode("utf-8", bytes, strict, codec);
  }
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}

function textDecode(label: string, bytes: Uint8Array, strict: boolean, codec: Codec): string {
  try {
    return new TextDecoder(label, { fatal: strict, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new DecodeError(`'${LABELS[codec]}' codec can't decode the body`);
  }
}
