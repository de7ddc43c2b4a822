/** The JWS algorithms the edge signs and verifies with, by name: no key code, so that settings can name them. */

export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;
/** What simplejwt signs with through PyJWT and `cryptography`, and workerd's Web Crypto does too (EdDSA: Ed25519). */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
export type JwsAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;

export function isHmac(algorithm: JwsAlgorithm): algorithm is HmacAlgorithm {
  return (HMAC_ALGORITHMS as readonly string[]).includes(algorithm);
}
