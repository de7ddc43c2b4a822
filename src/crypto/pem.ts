/**
 * PEM text as `cryptography` (hence simplejwt's SIGNING_KEY and VERIFYING_KEY) accepts it,
 * brought to the two forms Web Crypto imports: PKCS#8 (`BEGIN PRIVATE KEY`) and SPKI
 * (`BEGIN PUBLIC KEY`). PKCS#1 (`BEGIN RSA PRIVATE KEY`, `BEGIN RSA PUBLIC KEY`) and SEC1
 * (`BEGIN EC PRIVATE KEY`) are wrapped in a few DER bytes; each key's type is read from its
 * algorithm identifier, so a message can say what a key is before Web Crypto refuses it.
 */

export type KeyType = "RSA" | "RSA-PSS" | "P-256" | "P-384" | "P-521" | "secp256k1" | "Ed25519" | "Ed448" | "unknown";

export interface PemKey {
  kind: "private" | "public";
  /** PKCS#8 (private) or SPKI (public) DER. */
  der: Uint8Array;
  type: KeyType;
}

/** Why a PEM text is refused, for a message that names its setting. */
export class PemError extends Error {}

const hex = (text: string) => Uint8Array.from(text.match(/../g)!, (byte) => Number.parseInt(byte, 16));
// The DER of each object identifier (tag 06, length, value).
const RSA_ENCRYPTION = "06092a864886f70d010101";
const OIDS: readonly [string, KeyType][] = [
  [RSA_ENCRYPTION, "RSA"],
  ["06092a864886f70d01010a", "RSA-PSS"],
  ["06082a8648ce3d030107", "P-256"],
  ["06052b81040022", "P-384"],
  ["06052b81040023", "P-521"],
  ["06052b8104000a", "secp256k1"],
  ["06032b6570", "Ed25519"],
  ["06032b6571", "Ed448"],
];
const EC_PUBLIC_KEY = "06072a8648ce3d0201";

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The key's type: the identifier nearest its start (an EC key's curve follows id-ecPublicKey). */
function typeOf(der: Uint8Array): KeyType {
  const head = toHex(der.subarray(0, 40));
  let found: { at: number; type: KeyType } = { at: Infinity, type: "unknown" };
  for (const [oid, type] of OIDS) {
    const at = head.indexOf(oid);
    if (at >= 0 && at % 2 === 0 && at < found.at) found = { at, type };
  }
  return found.type;
}

/** A DER element: tag, length (short or long form), content. */
function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const lengthBytes: number[] = [];
  if (length < 0x80) lengthBytes.push(length);
  else {
    for (let rest = length; rest > 0; rest >>= 8) lengthBytes.unshift(rest & 0xff);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  const out = new Uint8Array(1 + lengthBytes.length + length);
  out[0] = tag;
  out.set(lengthBytes, 1);
  let offset = 1 + lengthBytes.length;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const SEQUENCE = 0x30;
const VERSION_0 = hex("020100");
const NULL = hex("0500");

/** PKCS#8 around a PKCS#1 RSA private key (RFC 5208: version 0, rsaEncryption, the key as an octet string). */
function pkcs8OfRsa(pkcs1: Uint8Array): Uint8Array {
  return der(SEQUENCE, VERSION_0, der(SEQUENCE, hex(RSA_ENCRYPTION), NULL), der(0x04, pkcs1));
}

/** PKCS#8 around a SEC1 EC private key: id-ecPublicKey and the curve the key names in its parameters. */
function pkcs8OfEc(sec1: Uint8Array): Uint8Array {
  const head = toHex(sec1);
  const curve = OIDS.find(([oid, type]) => (type.startsWith("P-") || type === "secp256k1") && head.includes(oid));
  if (curve === undefined)
    throw new PemError("is an EC private key without a curve the edge knows (P-256, P-384, P-521)");
  return der(SEQUENCE, VERSION_0, der(SEQUENCE, hex(EC_PUBLIC_KEY), hex(curve[0])), der(0x04, sec1));
}

/** SPKI around a PKCS#1 RSA public key: rsaEncryption, the key as a bit string. */
function spkiOfRsa(pkcs1: Uint8Array): Uint8Array {
  return der(SEQUENCE, der(SEQUENCE, hex(RSA_ENCRYPTION), NULL), der(0x03, new Uint8Array([0]), pkcs1));
}

function base64Bytes(body: string): Uint8Array {
  const text = body.replace(/\s+/g, "");
  if (text === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new PemError("is not PEM: its body is not base64");
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    throw new PemError("is not PEM: its body is not base64");
  }
}

const ENCRYPTED =
  "is an encrypted private key: decrypt it (openssl pkcs8 -topk8 -nocrypt -in key.pem -out plain.pem), as simplejwt takes no password";

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block of a text, in order; anything between blocks but whitespace is refused. */
export function pemKeys(text: string): PemKey[] {
  const keys: PemKey[] = [];
  let rest = text;
  for (const [block, label = "", body = ""] of text.matchAll(BLOCK)) {
    rest = rest.replace(block, "");
    // `openssl ecparam -genkey` writes the curve's parameters before the key: the key names its curve itself.
    if (label === "EC PARAMETERS") continue;
    if (/^\s*Proc-Type:\s*4,\s*ENCRYPTED/m.test(body)) throw new PemError(ENCRYPTED);
    const bytes = base64Bytes(body);
    switch (label) {
      case "PRIVATE KEY":
        keys.push({ kind: "private", der: bytes, type: typeOf(bytes) });
        break;
      case "RSA PRIVATE KEY":
        keys.push({ kind: "private", der: pkcs8OfRsa(bytes), type: "RSA" });
        break;
      case "EC PRIVATE KEY": {
        const wrapped = pkcs8OfEc(bytes);
        keys.push({ kind: "private", der: wrapped, type: typeOf(wrapped) });
        break;
      }
      case "PUBLIC KEY":
        keys.push({ kind: "public", der: bytes, type: typeOf(bytes) });
        break;
      case "RSA PUBLIC KEY":
        keys.push({ kind: "public", der: spkiOfRsa(bytes), type: "RSA" });
        break;
      case "ENCRYPTED PRIVATE KEY":
        throw new PemError(ENCRYPTED);
      default:
        throw new PemError(`is a PEM ${label}, not a key`);
    }
  }
  if (rest.trim() !== "" || keys.length === 0) {
    throw new PemError("is not PEM: expected -----BEGIN PRIVATE KEY----- or -----BEGIN PUBLIC KEY----- blocks");
  }
  return keys;
}
