/**
 * Asymmetric test keys, made by Web Crypto in each test file (no key file is committed), as
 * the PEM an operator would paste into SIGNING_KEY, VERIFYING_KEY or PREVIOUS_VERIFYING_KEYS;
 * and tokens signed with them as the origin's PyJWT writes them (no kid).
 */
import { calculateJwkThumbprint, exportJWK, type JWK, SignJWT } from "jose";

export type Algorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA";

export interface TestKeyPair {
  algorithm: Algorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** PKCS#8, `BEGIN PRIVATE KEY`. */
  privatePem: string;
  /** SPKI, `BEGIN PUBLIC KEY`. */
  publicPem: string;
  /** The public key's RFC 7638 thumbprint: the kid the edge writes. */
  kid: string;
  publicJwk: JWK;
}

function params(algorithm: Algorithm, bits: number) {
  const rsa = { modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) };
  const hash = `SHA-${algorithm.slice(2)}`;
  if (algorithm.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5", hash, ...rsa };
  if (algorithm.startsWith("PS")) return { name: "RSA-PSS", hash, ...rsa };
  if (algorithm === "EdDSA") return { name: "Ed25519" };
  return { name: "ECDSA", namedCurve: { ES256: "P-256", ES384: "P-384", ES512: "P-521" }[algorithm as "ES256"] };
}

export function pem(der: ArrayBuffer | Uint8Array, label: string): string {
  const body = btoa(String.fromCharCode(...new Uint8Array(der))).replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${body.replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

export async function keyPair(algorithm: Algorithm, { bits = 2048 } = {}): Promise<TestKeyPair> {
  const pair = (await crypto.subtle.generateKey(params(algorithm, bits) as never, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const pkcs8 = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
  const spki = (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
  const publicJwk = await exportJWK(pair.publicKey);
  return {
    algorithm,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    privatePem: pem(pkcs8, "PRIVATE KEY"),
    publicPem: pem(spki, "PUBLIC KEY"),
    kid: await calculateJwkThumbprint(publicJwk, "sha256"),
    publicJwk,
  };
}

/** The env of an asymmetric ALGORITHM signing with `pair`. */
export function keyEnv(pair: TestKeyPair, more: Record<string, string> = {}): Record<string, string> {
  return { ALGORITHM: pair.algorithm, SIGNING_KEY: pair.privatePem, ...more };
}

/** A token signed with the pair's private key: no kid, as PyJWT (the origin) writes it; `kid` adds one. */
export function signWith(
  pair: TestKeyPair,
  payload: Record<string, unknown>,
  { kid, alg = pair.algorithm }: { kid?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT", ...(kid ? { kid } : {}) }).sign(pair.privateKey);
}

// A few DER pieces, to write the older PEM forms `cryptography` accepts.

/** The element at the start of `bytes`: its tag, its content, and the bytes after it. */
export function tlv(bytes: Uint8Array): { tag: number; content: Uint8Array; rest: Uint8Array } {
  let length = bytes[1]!;
  let start = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i]!;
    start = 2 + count;
  }
  return {
    tag: bytes[0]!,
    content: bytes.subarray(start, start + length),
    rest: bytes.subarray(start + length),
  };
}

function derBytes(text: string): Uint8Array {
  const body = text.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (char) => char.charCodeAt(0));
}

/** PKCS#1 `BEGIN RSA PRIVATE KEY`: the octet string inside PKCS#8 (version, algorithm, key). */
export function pkcs1Private(pair: TestKeyPair): string {
  const inner = tlv(derBytes(pair.privatePem)).content;
  const version = tlv(inner);
  const algorithm = tlv(version.rest);
  return pem(tlv(algorithm.rest).content, "RSA PRIVATE KEY");
}

/** PKCS#1 `BEGIN RSA PUBLIC KEY`: the bit string inside SPKI, less its unused-bits byte. */
export function pkcs1Public(pair: TestKeyPair): string {
  const inner = tlv(derBytes(pair.publicPem)).content;
  const algorithm = tlv(inner);
  return pem(tlv(algorithm.rest).content.subarray(1), "RSA PUBLIC KEY");
}

function element(tag: number, content: Uint8Array): Uint8Array {
  const length = content.length < 0x80 ? [content.length] : [0x81, content.length];
  return new Uint8Array([tag, ...length, ...content]);
}

const b64url = (text: string) =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

/** SEC1 `BEGIN EC PRIVATE KEY` of a P-256 key, as OpenSSL writes it: version 1, d, [0] the curve, [1] the point. */
export async function sec1Private(pair: TestKeyPair): Promise<string> {
  const jwk = await exportJWK(pair.privateKey);
  const curve = new Uint8Array([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
  const point = new Uint8Array([0x00, 0x04, ...b64url(jwk.x!), ...b64url(jwk.y!)]);
  const body = new Uint8Array([
    ...element(0x02, new Uint8Array([1])),
    ...element(0x04, b64url(jwk.d!)),
    ...element(0xa0, curve),
    ...element(0xa1, element(0x03, point)),
  ]);
  return pem(element(0x30, body), "EC PRIVATE KEY");
}
