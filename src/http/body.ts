/**
 * Request bodies as Django REST framework reads them: JSON, form and multipart, in the
 * body's charset (./charset.ts); string fields validated like DRF's CharField (numbers
 * become strings, whitespace trimmed as Python's str.strip, NUL and surrogates refused).
 */
import { type FieldMessage, fail } from "../errors";
import { bodyCharset, type Codec, DecodeError, decode } from "./charset";
import { parseForm } from "./form";
import { INT_MAX_STR_DIGITS, pythonJsonError, pythonStreamDecode } from "./python-json";

export const MAX_BODY_BYTES = 64 * 1024;

type Data = Record<string, unknown>;

/** The raw body, at most `limit` bytes (else the contract's 413). */
export async function readBytes(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > limit) throw fail({ kind: "payload_too_large", limit });
  if (request.body === null) return new Uint8Array();
  // Count as we read: a chunked body has no Content-Length to trust.
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client went away mid-body: nobody hears the answer, and it is no server error.
      throw fail({ kind: "body_unreadable" });
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw fail({ kind: "payload_too_large", limit });
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function pythonTypeName(value: unknown): string {
  if (Array.isArray(value)) return "list";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return "NoneType";
}

/**
 * DRF's JSONParser: codecs.getreader(encoding)(stream), strict, then json.load. JSON.parse is
 * the fast path; when it refuses, or a case where Python and JSON.parse differ may be present
 * (an integer past Python's 4300 digits, utf-16 without a BOM), ./python-json.ts says what
 * Python says, by position and never by quoting the input (a password or a token).
 * Python's json refuses a leading BOM (U+FEFF) that the codec kept, as utf-8 and utf-16-le/-be do.
 */
function parseJson(bytes: Uint8Array, codec: Codec): Data {
  let text: string;
  try {
    const bom = (bytes[0]! << 8) | bytes[1]!;
    if (codec === "utf_16" && bom !== 0xfffe && bom !== 0xfeff) throw new DecodeError("no BOM"); // Python's StreamReader wants one
    text = decode(bytes, codec, true);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    // The StreamReader reads the body in one final=False call: an incomplete tail is dropped.
    const decoded = pythonStreamDecode(bytes, codec);
    if ("reason" in decoded) throw fail({ kind: "json_parse_error", reason: decoded.reason });
    text = decoded.text;
  }
  let data: unknown;
  try {
    if (text.startsWith("\ufeff")) throw new SyntaxError("BOM");
    data = JSON.parse(text);
  } catch {
    throw fail({ kind: "json_parse_error", reason: pythonJsonError(text) ?? "Invalid JSON" });
  }
  if (text.length > INT_MAX_STR_DIGITS && new RegExp(`[0-9]{${INT_MAX_STR_DIGITS + 1}}`).test(text)) {
    const reason = pythonJsonError(text);
    if (reason !== undefined) throw fail({ kind: "json_parse_error", reason });
  }
  if (data === null) throw fail({ kind: "no_data" });
  if (typeof data !== "object" || Array.isArray(data)) {
    throw fail({ kind: "not_an_object", got: pythonTypeName(data) });
  }
  return data as Data;
}

async function parseMultipart(bytes: Uint8Array, contentType: string): Promise<Data> {
  let form: FormData;
  try {
    form = await new Request("http://body.invalid/", {
      method: "POST",
      body: bytes,
      headers: { "Content-Type": contentType },
    }).formData();
  } catch (error) {
    throw fail({ kind: "multipart_parse_error", reason: error instanceof Error ? error.message : String(error) });
  }
  const data: Data = {};
  form.forEach((value, key) => {
    data[key] = value; // as Django's QueryDict: the last value of a repeated key
  });
  return data;
}

async function parseBody(bytes: Uint8Array, contentType: string): Promise<Data> {
  // DRF reads an empty body as empty data, whatever its media type.
  if (bytes.byteLength === 0) return {};
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  const charset = bodyCharset(contentType);
  if (
    "unsupported" in charset &&
    (mediaType === "application/json" || mediaType === "application/x-www-form-urlencoded")
  ) {
    throw fail({ kind: "unsupported_media_type", mediaType: contentType.trim() });
  }
  const codec = "codec" in charset ? charset.codec : "utf_8";
  switch (mediaType) {
    case "application/json":
      return parseJson(bytes, codec);
    case "application/x-www-form-urlencoded":
      return parseForm(bytes, codec);
    case "multipart/form-data":
      return parseMultipart(bytes, contentType);
    default:
      throw fail({ kind: "unsupported_media_type", mediaType: contentType.trim() });
  }
}

type Field = { value: string } | { error: FieldMessage };

/**
 * What Python's str.isspace() calls whitespace, so what str.strip() removes: the characters
 * of bidirectional class WS, B or S or category Zs (Tools/unicode/makeunicodedata.py), listed
 * from Python 3.11's own str.isspace over every code point. Unlike JavaScript's trim: U+001C-U+001F and U+0085
 * are stripped, U+FEFF (a BOM, "zero width no-break space") is not.
 */
const PY_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

export function pythonStrip(value: string): string {
  return value.replace(PY_STRIP, "");
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * DRF's CharField (rest_framework/fields.py), in its order: run_validation answers "blank"
 * for "" or what strips to ""; to_internal_value refuses bool and anything but str, int and
 * float, and returns str(data).strip(); then the validators: ProhibitNullCharactersValidator
 * (django/core/validators.py) and ProhibitSurrogateCharactersValidator (DRF).
 */
function charField(data: Data, name: string): Field {
  if (!(name in data)) return { error: "This field is required." };
  const value = data[name];
  if (value === null) return { error: "This field may not be null." };
  if (typeof value === "string" && pythonStrip(value) === "") return { error: "This field may not be blank." };
  if (typeof value === "number" && Number.isFinite(value)) return { value: String(value) };
  if (typeof value !== "string") return { error: "Not a valid string." };
  const trimmed = pythonStrip(value);
  if (trimmed.includes("\0")) return { error: "Null characters are not allowed." };
  const surrogate = LONE_SURROGATE.exec(trimmed);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return { error: `Surrogate characters are not allowed: U+${code}.` };
  }
  return { value: trimmed };
}

/** The named string fields of the body, or the contract's 400 naming every bad one. */
export async function readFields<const Name extends string>(
  request: Request,
  names: readonly Name[],
): Promise<Record<Name, string>> {
  return (await readFieldsKeepingBytes(request, names)).fields;
}

/** A body to send on: its bytes, and its Content-Type when it is not the client's. */
export interface ForwardBody {
  bytes: Uint8Array;
  contentType?: string;
}

/**
 * As readFields, with the body a login the origin checks (src/login/origin-login.ts) sends on:
 * the bytes as the client sent them, but a multipart body as the form of the fields read here.
 * Django's multipart parser decodes what workerd's does not (a part's base64 transfer encoding,
 * its charset): the origin must check the very username and password the throttle counted.
 */
export async function readFieldsKeepingBytes<const Name extends string>(
  request: Request,
  names: readonly Name[],
): Promise<{ fields: Record<Name, string>; body: ForwardBody }> {
  const bytes = await readBytes(request);
  const contentType = request.headers.get("Content-Type") ?? "";
  const data = await parseBody(bytes, contentType);
  const values = {} as Record<Name, string>;
  const errors: Record<string, FieldMessage> = {};
  for (const name of names) {
    const field = charField(data, name);
    if ("error" in field) errors[name] = field.error;
    else values[name] = field.value;
  }
  if (Object.keys(errors).length > 0) throw fail({ kind: "field_errors", fields: errors });
  return { fields: values, body: forwardBody(bytes, contentType, data) };
}

function forwardBody(bytes: Uint8Array, contentType: string, data: Data): ForwardBody {
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "multipart/form-data") return { bytes };
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(data)) if (typeof value === "string") form.append(name, value);
  return { bytes: new TextEncoder().encode(form.toString()), contentType: "application/x-www-form-urlencoded" };
}
