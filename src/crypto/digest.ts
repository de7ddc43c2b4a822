/** SHA-256 of a text's UTF-8 bytes, as lower-case hex: synchronous, for keys derived from names. */
import { hashTail, wordsToBytes } from "./hmac-sha256";
import { SHA256_IV } from "./sha256";

const encoder = new TextEncoder();

export function sha256Hex(text: string): string {
  const bytes = wordsToBytes(hashTail(Int32Array.from(SHA256_IV), encoder.encode(text), 0));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
