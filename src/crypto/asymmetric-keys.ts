/**
 * The key ring of an asymmetric ALGORITHM from PEM text, as simplejwt reads SIGNING_KEY and
 * VERIFYING_KEY: the private key signs; its public key (derived, or VERIFYING_KEY, which must
 * be its pair) and the previous public keys verify and are published as a JWKS. Each key's
 * `kid` is its RFC 7638 thumbprint (SHA-256): the same on every deploy, and computable by anyone.
 * A key that is not one of the algorithm's, or too weak, is refused before anything is signed.
 */
import { calculateJwkThumbprint, exportJWK, importJWK, importPKCS8, importSPKI, type JWK } from "jose";
import type { AsymmetricAlgorithm, KeyRing, RingKey } from "./keys";
import { type KeyType, PemError, type PemKey, pemKeys, pemOf } from "./pem";

/** A key refused; its message starts with the setting's name. */
export class KeyError extends Error {}

/** Below this, an RSA key is refused (NIST SP 800-131A; RFC 7518 3.3 requires 2048). */
export const MIN_RSA_BITS = 2048;

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

/** The published key: its public members, then kid, use and alg. */
export type PublishedKey = JWK & { kid: string; use: "sig"; alg: AsymmetricAlgorithm };

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
function publicMembers(jwk: JWK): JWK {
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
  jwk: JWK,
  algorithm: AsymmetricAlgorithm,
  name: string,
): Promise<{ entry: RingKey; published: PublishedKey }> {
  const members = publicMembers(jwk);
  const key = (await importJWK(members, algorithm)) as CryptoKey;
  checkStrength(key, name);
  const kid = await calculateJwkThumbprint(members, "sha256");
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
    return await exportJWK(await importSPKI(pemOf(key), algorithm, { extractable: true }));
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
  let privateJwk: JWK;
  try {
    const pem = pemOf(privatePem);
    privateJwk = await exportJWK(await importPKCS8(pem, algorithm, { extractable: true }));
    // The key that signs is not extractable: nothing in the Worker can read it back.
    privateKey = await importPKCS8(pem, algorithm);
  } catch {
    throw new KeyError(`${signing.name} is not a valid ${algorithm} private key`);
  }
  checkStrength(privateKey, signing.name);
  const current = await publicKey(privateJwk, algorithm, signing.name);

  if (verifying !== undefined) {
    const given = parsed(verifying);
    if (given.length !== 1) throw new KeyError(`${verifying.name} must hold one public key, not ${given.length} keys`);
    const jwk = await publicJwk(given[0]!, algorithm, verifying.name, signing.name);
    if ((await calculateJwkThumbprint(publicMembers(jwk), "sha256")) !== current.entry.kid) {
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
