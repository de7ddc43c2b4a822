/**
 * The key ring of an asymmetric ALGORITHM from PEM text, as simplejwt reads SIGNING_KEY and
 * VERIFYING_KEY: the private key signs; its public key (derived, or VERIFYING_KEY, which must
 * be its pair) and the previous public keys verify and are published as a JWKS. Each key's
 * `kid` is its RFC 7638 thumbprint (SHA-256): the same on every deploy, and computable by anyone.
 * A key that is not one of the algorithm's, or too weak, is refused before anything is signed.
 */
import { base64url } from "jose";
import type { AsymmetricAlgorithm } from "./algorithms";
import type { KeyRing, RingKey } from "./keys";
import { type KeyType, PemError, type PemKey, pemKeys } from "./pem";

// Web Crypto directly, not jose's key import and export (nor its thumbprint, which exports
// keys): those bring their own ASN.1 reader into the bundle, and ./pem.ts has already read
// what is needed.

/** A key refused; its message starts with the setting's name. */
export class KeyError extends Error {}

/** Below this, an RSA key is refused (NIST SP 800-131A; RFC 7518 3.3 requires 2048). */
const MIN_RSA_BITS = 2048;

/** The key type each algorithm signs with (`cryptography` would sign ES256 with a P-384 key; a verifier would not). */
const KEY_TYPES: Record<AsymmetricAlgorithm, KeyType> = {
  RS256: "RSA",
  RS384: "RSA",
  RS512: "RSA",
  PS256: "RSA",
  PS384: "RSA",
  PS512: "RSA",
  ES256: "P-256",
  ES384: "P-384",
  ES512: "P-521",
  EdDSA: "Ed25519",
};

/** A JWK's members as Web Crypto exports them. */
type Jwk = JsonWebKey;

/** The published key: its public members, then kid, use and alg. */
export type PublishedKey = Jwk & { kid: string; use: "sig"; alg: AsymmetricAlgorithm };

/** Web Crypto's parameters of each algorithm's keys (the ones jose checks a key against). */
function importParams(algorithm: AsymmetricAlgorithm): Parameters<SubtleCrypto["importKey"]>[2] {
  const hash = `SHA-${algorithm.slice(2)}`;
  if (algorithm.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5", hash };
  if (algorithm.startsWith("PS")) return { name: "RSA-PSS", hash };
  if (algorithm === "EdDSA") return { name: "Ed25519" };
  return { name: "ECDSA", namedCurve: KEY_TYPES[algorithm] };
}

/** RFC 7638: SHA-256 of the required members, in lexicographic order, as compact JSON; base64url. */
async function thumbprint(jwk: Jwk): Promise<string> {
  const members = Object.keys(jwk).sort();
  const json = `{${members.map((name) => `${JSON.stringify(name)}:${JSON.stringify(jwk[name as keyof Jwk])}`).join(",")}}`;
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(json))));
}

export interface AsymmetricKeys {
  ring: KeyRing;
  /** The JWKS's keys: the signing key's public key first, then the previous keys. */
  published: readonly PublishedKey[];
}

export interface PemSetting {
  /** The setting's name, as messages call it. */
  name: string;
  text: string;
}

function parsed(setting: PemSetting): PemKey[] {
  try {
    return pemKeys(setting.text);
  } catch (error) {
    if (error instanceof PemError) throw new KeyError(`${setting.name} ${error.message}`);
    throw error;
  }
}

function checkType(key: PemKey, algorithm: AsymmetricAlgorithm, name: string): void {
  const wanted = KEY_TYPES[algorithm];
  if (key.type === wanted) return;
  const article = /^[RE]/.test(key.type) ? "an" : "a";
  const what = key.type === "unknown" ? "a key of an unknown type" : `${article} ${key.type} key`;
  const runtime = key.type === "Ed448" || key.type === "secp256k1" ? " (workerd's Web Crypto has none)" : "";
  throw new KeyError(`${name} is ${what}${runtime}: ALGORITHM ${algorithm} signs with ${wanted} keys`);
}

/** The public members of a JWK, by key type (RFC 7638's, the thumbprint's). */
function publicMembers(jwk: Jwk): Jwk {
  if (jwk.kty === "RSA") return { kty: jwk.kty, n: jwk.n, e: jwk.e };
  if (jwk.kty === "EC") return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

function checkStrength(key: CryptoKey, name: string): void {
  const bits = (key.algorithm as { modulusLength?: number }).modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    throw new KeyError(`${name} is a ${bits}-bit RSA key: at least ${MIN_RSA_BITS} bits`);
  }
}

/** A public key of the algorithm, and its published form. */
async function publicKey(
  jwk: Jwk,
  algorithm: AsymmetricAlgorithm,
  name: string,
): Promise<{ entry: RingKey; published: PublishedKey }> {
  const members = publicMembers(jwk);
  const key = await crypto.subtle.importKey("jwk", members, importParams(algorithm), false, ["verify"]);
  checkStrength(key, name);
  const kid = await thumbprint(members);
  return { entry: { key, kid }, published: { ...members, kid, use: "sig", alg: algorithm } };
}

/** One public key of a setting (VERIFYING_KEY, an entry of PREVIOUS_VERIFYING_KEYS) as a JWK. */
async function publicJwk(key: PemKey, algorithm: AsymmetricAlgorithm, name: string, signingName: string) {
  if (key.kind === "private") {
    throw new KeyError(
      `${name} holds a private key: it takes public keys (BEGIN PUBLIC KEY), the private one goes in ${signingName}`,
    );
  }
  checkType(key, algorithm, name);
  try {
    const imported = await crypto.subtle.importKey("spki", key.der, importParams(algorithm), true, ["verify"]);
    return (await crypto.subtle.exportKey("jwk", imported)) as Jwk;
  } catch {
    throw new KeyError(`${name} is not a valid ${algorithm} public key`);
  }
}

/**
 * The ring and the JWKS of SIGNING_KEY, VERIFYING_KEY (optional: it must be the pair) and
 * PREVIOUS_VERIFYING_KEYS (zero or more public keys, verified and published until removed).
 */
export async function asymmetricKeys(
  algorithm: AsymmetricAlgorithm,
  signing: PemSetting,
  verifying: PemSetting | undefined,
  previous: PemSetting | undefined,
): Promise<AsymmetricKeys> {
  const keys = parsed(signing);
  if (keys.length !== 1) throw new KeyError(`${signing.name} must hold one private key, not ${keys.length} keys`);
  const privatePem = keys[0]!;
  if (privatePem.kind === "public") {
    throw new KeyError(
      `${signing.name} holds a public key: it takes the private key (BEGIN PRIVATE KEY); the public one may go in ${verifying?.name ?? "VERIFYING_KEY"}`,
    );
  }
  checkType(privatePem, algorithm, signing.name);
  let privateKey: CryptoKey;
  let privateJwk: Jwk;
  try {
    const params = importParams(algorithm);
    const extractable = await crypto.subtle.importKey("pkcs8", privatePem.der, params, true, ["sign"]);
    privateJwk = (await crypto.subtle.exportKey("jwk", extractable)) as Jwk;
    // The key that signs is not extractable: nothing in the Worker can read it back.
    privateKey = await crypto.subtle.importKey("pkcs8", privatePem.der, params, false, ["sign"]);
  } catch {
    throw new KeyError(`${signing.name} is not a valid ${algorithm} private key`);
  }
  checkStrength(privateKey, signing.name);
  const current = await publicKey(privateJwk, algorithm, signing.name);

  if (verifying !== undefined) {
    const given = parsed(verifying);
    if (given.length !== 1) throw new KeyError(`${verifying.name} must hold one public key, not ${given.length} keys`);
    const jwk = await publicJwk(given[0]!, algorithm, verifying.name, signing.name);
    if ((await thumbprint(publicMembers(jwk))) !== current.entry.kid) {
      throw new KeyError(`${verifying.name} is not the public key of ${signing.name}`);
    }
  }

  const entries: RingKey[] = [current.entry];
  const published: PublishedKey[] = [current.published];
  if (previous !== undefined) {
    for (const [index, pem] of parsed(previous).entries()) {
      const name = `${previous.name} key ${index + 1}`;
      const older = await publicKey(await publicJwk(pem, algorithm, name, signing.name), algorithm, name);
      // Listed twice (or the current key itself): one entry, so each kid names one key.
      if (entries.some((entry) => entry.kid === older.entry.kid)) continue;
      entries.push(older.entry);
      published.push(older.published);
    }
  }
  return { ring: { algorithm, signing: { key: privateKey, kid: current.entry.kid }, verifying: entries }, published };
}
