/**
 * application/x-www-form-urlencoded as Django's QueryDict reads it (django/http/request.py):
 * the bytes decoded with the request's encoding, falling back to iso-8859-1 when they do not
 * decode; then urllib.parse.parse_qsl(keep_blank_values=True, encoding=...) splits on "&"
 * only, skips empty fields, takes a field without "=" as a blank value, turns "+" into a
 * space and percent-decodes with urllib.parse.unquote (errors="replace"). As QueryDict's
 * __getitem__, a repeated name keeps its last value.
 */
import { type Codec, decode } from "./charset";

export function parseForm(bytes: Uint8Array, codec: Codec): Record<string, string> {
  let text: string;
  try {
    text = decode(bytes, codec, true);
  } catch {
    text = decode(bytes, "latin_1", true);
  }
  const data: Record<string, string> = {};
  for (const field of text.split("&")) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    const name = eq < 0 ? field : field.slice(0, eq);
    const value = eq < 0 ? "" : field.slice(eq + 1);
    data[unquote(name.replaceAll("+", " "), codec)] = unquote(value.replaceAll("+", " "), codec);
  }
  return data;
}

/**
 * Python's urllib.parse.unquote: without "%", the text as it is; otherwise each run of ASCII
 * characters is percent-decoded to bytes and decoded with the codec (errors="replace"), and
 * other characters are kept as they are. A "%" not followed by two hex digits stays literal.
 */
function unquote(text: string, codec: Codec): string {
  if (!text.includes("%")) return text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, as unquote splits it
  return text.replace(/[\x00-\x7f]+/g, (run) => {
    const bytes: number[] = [];
    for (let i = 0; i < run.length; i++) {
      const hex = run.slice(i + 1, i + 3);
      if (run[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(run.charCodeAt(i));
      }
    }
    return decode(Uint8Array.from(bytes), codec, false);
  });
}
