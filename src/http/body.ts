/**
 * Request bodies as Django REST framework reads them: JSON, form and multipart; string
 * fields validated like DRF's CharField (numbers become strings, whitespace trimmed).
 */
import { fail, type FieldMessage } from "../errors";

export const MAX_BODY_BYTES = 64 * 1024;

type Data = Record<string, unknown>;

async function readBytes(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw fail({ kind: "payload_too_large", limit: MAX_BODY_BYTES });
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
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw fail({ kind: "payload_too_large", limit: MAX_BODY_BYTES });
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
 * Where the JSON broke, as Python's json module says it (line, column, char), and never
 * the parser's own message: V8 quotes the input around the error, a password or a token.
 */
function jsonErrorReason(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const match = /position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : /end of JSON input/.test(message) ? text.length : undefined;
  if (position === undefined) return "Invalid JSON";
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - (before.lastIndexOf("\n") + 1) + 1;
  return `Invalid JSON: line ${line} column ${column} (char ${position})`;
}

function parseJson(bytes: Uint8Array): Data {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw fail({ kind: "json_parse_error", reason: "Invalid UTF-8" });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw fail({ kind: "json_parse_error", reason: jsonErrorReason(text, error) });
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

async function parseBody(request: Request): Promise<Data> {
  const bytes = await readBytes(request);
  // DRF reads an empty body as empty data, whatever its media type.
  if (bytes.byteLength === 0) return {};
  const contentType = request.headers.get("Content-Type") ?? "";
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  switch (mediaType) {
    case "application/json":
      return parseJson(bytes);
    case "application/x-www-form-urlencoded":
      return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)));
    case "multipart/form-data":
      return parseMultipart(bytes, contentType);
    default:
      throw fail({ kind: "unsupported_media_type", mediaType: contentType.trim() });
  }
}

type Field = { value: string } | { error: FieldMessage };

function charField(data: Data, name: string): Field {
  if (!(name in data)) return { error: "This field is required." };
  const value = data[name];
  if (value === null) return { error: "This field may not be null." };
  if (typeof value === "number" && Number.isFinite(value)) return { value: String(value) };
  if (typeof value !== "string") return { error: "Not a valid string." };
  const trimmed = value.trim();
  return trimmed === "" ? { error: "This field may not be blank." } : { value: trimmed };
}

/** The named string fields of the body, or the contract's 400 naming every bad one. */
export async function readFields<const Name extends string>(
  request: Request,
  names: readonly Name[],
): Promise<Record<Name, string>> {
  const data = await parseBody(request);
  const values = {} as Record<Name, string>;
  const errors: Record<string, FieldMessage> = {};
  for (const name of names) {
    const field = charField(data, name);
    if ("error" in field) errors[name] = field.error;
    else values[name] = field.value;
  }
  if (Object.keys(errors).length > 0) throw fail({ kind: "field_errors", fields: errors });
  return values;
}
