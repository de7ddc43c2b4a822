/**
 * Why Python refuses a JSON body, in Python's own words, for DRF's JSONParser.parse
 * (rest_framework/parsers.py): `json.load(codecs.getreader(encoding)(stream),
 * parse_constant=strict_constant)`, answered as `'JSON parse error - %s' % str(exc)`.
 * Only the error path runs this: the body's bytes through the codec's StreamReader
 * (pythonStreamDecode), then the text through CPython 3.11's C scanner (pythonJsonError,
 * Modules/_json.c scan_once_unicode and friends, with json/decoder.py's decode around it).
 * Positions are in code points of the decoded text, as Python counts them.
 */
import { type Codec, decode } from "./charset";

/** sys.get_int_max_str_digits()'s default (Python 3.11+): PyLong_FromString refuses more digits. */
export const INT_MAX_STR_DIGITS = 4300;
/** Deeper than Python ever gets (its RecursionError is no ValueError: the origin answers 500). */
const MAX_DEPTH = 2000;

class Refused {
  constructor(readonly reason: string) {}
}
class StopIteration {
  constructor(readonly idx: number) {}
}

/** JSONDecodeError's str(): "<msg>: line L column C (char P)". */
function decodeError(msg: string, s: readonly number[], pos: number): Refused {
  let line = 1;
  let lastNewline = -1;
  for (let i = 0; i < pos; i++) {
    if (s[i] === 0x0a) {
      line++;
      lastNewline = i;
    }
  }
  return new Refused(`${msg}: line ${line} column ${pos - lastNewline} (char ${pos})`);
}

const isWhitespace = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function matches(s: readonly number[], idx: number, word: string): boolean {
  if (idx + word.length > s.length) return false;
  for (let i = 0; i < word.length; i++) if (s[idx + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** The C scanner over the text's code points; a refusal is thrown, the end index returned. */
class Scanner {
  private readonly end: number;
  constructor(private readonly s: readonly number[]) {
    this.end = s.length - 1;
  }

  private skip(idx: number): number {
    while (idx <= this.end && isWhitespace(this.s[idx])) idx++;
    return idx;
  }

  /** scanstring_unicode: `end` is just after the opening quote. */
  private string(end: number): number {
    const { s } = this;
    const len = s.length;
    const begin = end - 1;
    for (;;) {
      let next = end;
      let c = 0;
      for (; next < len; next++) {
        c = s[next]!;
        if (c === 0x22 || c === 0x5c) break;
        if (c <= 0x1f) throw decodeError("Invalid control character at", s, next);
      }
      if (next >= len) throw decodeError("Unterminated string starting at", s, begin);
      next++;
      if (c === 0x22) return next;
      if (next === len) throw decodeError("Unterminated string starting at", s, begin);
      c = s[next]!;
      if (c !== 0x75) {
        end = next + 1;
        // " \ / b f n r t
        if (![0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74].includes(c)) {
          throw decodeError("Invalid \\escape", s, end - 2);
        }
        continue;
      }
      next++;
      end = next + 4;
      if (end >= len) throw decodeError("Invalid \\uXXXX escape", s, next - 1);
      let code = 0;
      for (; next < end; next++) {
        const digit = hexValue(s[next]);
        if (digit < 0) throw decodeError("Invalid \\uXXXX escape", s, end - 5);
        code = (code << 4) | digit;
      }
      // A high surrogate and a following \uXXXX: both are read (a bad one refused), a low one joins.
      if (code >= 0xd800 && code <= 0xdbff && end + 6 < len && s[next++] === 0x5c && s[next++] === 0x75) {
        end += 6;
        let low = 0;
        for (; next < end; next++) {
          const digit = hexValue(s[next]);
          if (digit < 0) throw decodeError("Invalid \\uXXXX escape", s, end - 5);
          low = (low << 4) | digit;
        }
        if (!(low >= 0xdc00 && low <= 0xdfff)) end -= 6;
      }
    }
  }

  private object(idx: number, depth: number): number {
    const { s } = this;
    idx = this.skip(idx);
    if (idx <= this.end && s[idx] === 0x7d) return idx + 1;
    for (;;) {
      if (idx > this.end || s[idx] !== 0x22) {
        throw decodeError("Expecting property name enclosed in double quotes", s, idx);
      }
      idx = this.skip(this.string(idx + 1));
      if (idx > this.end || s[idx] !== 0x3a) throw decodeError("Expecting ':' delimiter", s, idx);
      idx = this.skip(this.value(this.skip(idx + 1), depth));
      if (idx <= this.end && s[idx] === 0x7d) return idx + 1;
      if (idx > this.end || s[idx] !== 0x2c) throw decodeError("Expecting ',' delimiter", s, idx);
      idx = this.skip(idx + 1);
    }
  }

  private array(idx: number, depth: number): number {
    const { s } = this;
    idx = this.skip(idx);
    if (idx <= this.end && s[idx] === 0x5d) return idx + 1;
    for (;;) {
      idx = this.skip(this.value(idx, depth));
      if (idx <= this.end && s[idx] === 0x5d) return idx + 1;
      if (idx > this.end || s[idx] !== 0x2c) throw decodeError("Expecting ',' delimiter", s, idx);
      idx = this.skip(idx + 1);
    }
  }

  /** _match_number_unicode, with PyLong_FromString's digit limit for an integer. */
  private number(start: number): number {
    const { s, end } = this;
    let idx = start;
    if (s[idx] === 0x2d) {
      idx++;
      if (idx > end) throw new StopIteration(start);
    }
    const first = s[idx]!;
    if (first >= 0x31 && first <= 0x39) {
      idx++;
      while (idx <= end && isDigit(s[idx])) idx++;
    } else if (first === 0x30) {
      idx++;
    } else {
      throw new StopIteration(start);
    }
    let isFloat = false;
    if (idx < end && s[idx] === 0x2e && isDigit(s[idx + 1])) {
      isFloat = true;
      idx += 2;
      while (idx <= end && isDigit(s[idx])) idx++;
    }
    if (idx < end && (s[idx] === 0x65 || s[idx] === 0x45)) {
      const eStart = idx;
      idx++;
      if (idx < end && (s[idx] === 0x2d || s[idx] === 0x2b)) idx++;
      while (idx <= end && isDigit(s[idx])) idx++;
      if (isDigit(s[idx - 1])) isFloat = true;
      else idx = eStart;
    }
    const digits = idx - start - (s[start] === 0x2d ? 1 : 0);
    if (!isFloat && digits > INT_MAX_STR_DIGITS) {
      throw new Refused(
        `Exceeds the limit (${INT_MAX_STR_DIGITS} digits) for integer string conversion: value has ${digits} digits; use sys.set_int_max_str_digits() to increase the limit`,
      );
    }
    return idx;
  }

  /** scan_once_unicode: the index after the term at `idx`. */
  value(idx: number, depth = 0): number {
    const { s } = this;
    if (idx >= s.length) throw new StopIteration(idx);
    if (depth > MAX_DEPTH) throw new RangeError("too deep");
    switch (s[idx]) {
      case 0x22:
        return this.string(idx + 1);
      case 0x7b:
        return this.object(idx + 1, depth + 1);
      case 0x5b:
        return this.array(idx + 1, depth + 1);
      case 0x6e:
        if (matches(s, idx, "null")) return idx + 4;
        break;
      case 0x74:
        if (matches(s, idx, "true")) return idx + 4;
        break;
      case 0x66:
        if (matches(s, idx, "false")) return idx + 5;
        break;
      case 0x4e:
      case 0x49:
      case 0x2d:
        for (const constant of ["NaN", "Infinity", "-Infinity"]) {
          // rest_framework/utils/json.py strict_constant: 'Out of range ...: ' + repr(o)
          if (matches(s, idx, constant)) {
            throw new Refused(`Out of range float values are not JSON compliant: '${constant}'`);
          }
        }
        break;
    }
    return this.number(idx);
  }
}

/**
 * Python's reason for refusing `text` (json.loads with DRF's strict_constant), or undefined
 * when Python accepts it (or nests it past any recursion limit Python has).
 */
export function pythonJsonError(text: string): string | undefined {
  const s = Array.from(text, (c) => c.codePointAt(0)!);
  if (s[0] === 0xfeff) return decodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", s, 0).reason;
  const scanner = new Scanner(s);
  let idx = 0;
  while (isWhitespace(s[idx])) idx++;
  try {
    try {
      idx = scanner.value(idx);
    } catch (error) {
      if (error instanceof StopIteration) throw decodeError("Expecting value", s, error.idx);
      throw error;
    }
    while (isWhitespace(s[idx])) idx++;
    if (idx !== s.length) throw decodeError("Extra data", s, idx);
  } catch (error) {
    if (error instanceof Refused) return error.reason;
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  return undefined;
}

const LABELS: Partial<Record<Codec, string>> = { utf_8: "utf-8", utf_16_le: "utf-16-le", utf_16_be: "utf-16-be" };

function unicodeDecodeError(label: string, start: number, end: number, reason: string, bytes: Uint8Array): string {
  const where =
    end - start === 1
      ? `byte 0x${bytes[start]!.toString(16).padStart(2, "0")} in position ${start}`
      : `bytes in position ${start}-${end - 1}`;
  return `'${label}' codec can't decode ${where}: ${reason}`;
}

/** The length of the valid utf-8 prefix, or the error's span and reason (CPython's decoder). */
function utf8Stop(bytes: Uint8Array): { at: number } | { start: number; end: number; reason: string } {
  const n = bytes.length;
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < n && bytes[i]! >= lo && bytes[i]! <= hi;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      // A truncated surrogate (ED A0-BF at the very end) waits for more data, as CPython's does.
      if (b === 0xed && !(i + 2 >= n && cont(i + 1, 0xa0))) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return { start: i, end: i + 1, reason: "invalid start byte" };
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return { at: i }; // incomplete at the end: the StreamReader keeps it back
      if (!(k === 1 ? cont(i + 1, lo, hi) : cont(i + k))) {
        return { start: i, end: i + k, reason: "invalid continuation byte" };
      }
    }
    i += need + 1;
  }
  return { at: n };
}

/** UTF-16 code units from `from`: the decoded length, or the error's span and reason. */
function utf16Stop(
  bytes: Uint8Array,
  from: number,
  little: boolean,
): { at: number } | { start: number; end: number; reason: string } {
  const unit = (i: number) => (little ? bytes[i]! | (bytes[i + 1]! << 8) : (bytes[i]! << 8) | bytes[i + 1]!);
  let i = from;
  while (i + 2 <= bytes.length) {
    const u = unit(i);
    if (u >= 0xdc00 && u <= 0xdfff) return { start: i, end: i + 2, reason: "illegal encoding" };
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 4 > bytes.length) break;
      const low = unit(i + 2);
      if (!(low >= 0xdc00 && low <= 0xdfff)) return { start: i, end: i + 2, reason: "illegal UTF-16 surrogate" };
      i += 4;
    } else i += 2;
  }
  return { at: i };
}

/**
 * The body as `codecs.getreader(codec)(stream).read()` reads it (one read of the whole body,
 * final=False): the text, with an incomplete sequence at the end dropped, or the error's str().
 * Only utf-8, ascii and the utf-16 codecs can fail (latin-1 decodes anything).
 */
export function pythonStreamDecode(bytes: Uint8Array, codec: Codec): { text: string } | { reason: string } {
  if (codec === "ascii") {
    const at = bytes.findIndex((b) => b >= 0x80);
    if (at < 0) return { text: decode(bytes, codec, true) };
    return { reason: unicodeDecodeError("ascii", at, at + 1, "ordinal not in range(128)", bytes) };
  }
  if (codec === "utf_8") {
    const stop = utf8Stop(bytes);
    if ("reason" in stop) return { reason: unicodeDecodeError("utf-8", stop.start, stop.end, stop.reason, bytes) };
    return { text: new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(bytes.subarray(0, stop.at)) };
  }
  if (codec === "latin_1") return { text: decode(bytes, codec, true) };
  // encodings/utf_16.py StreamReader.decode: a BOM picks the order; without one, the first
  // call decodes little-endian (errors named 'utf-16-le') and then refuses the stream.
  let from = 0;
  let little = codec !== "utf_16_be";
  const bom = codec === "utf_16" && bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : 0;
  if (bom === 0xfffe || bom === 0xfeff) {
    from = 2;
    little = bom === 0xfffe;
  }
  const stop = utf16Stop(bytes, from, little);
  const label = LABELS[little ? "utf_16_le" : "utf_16_be"]!;
  if ("reason" in stop) return { reason: unicodeDecodeError(label, stop.start, stop.end, stop.reason, bytes) };
  if (codec === "utf_16" && from === 0 && stop.at >= 2) return { reason: "UTF-16 stream does not start with BOM" };
  return {
    text: new TextDecoder(little ? "utf-16le" : "utf-16be", { fatal: false, ignoreBOM: true }).decode(
      bytes.subarray(from, stop.at),
    ),
  };
}
