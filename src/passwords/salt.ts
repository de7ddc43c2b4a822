/** Salts as Django's get_random_string makes them: uniform over [a-zA-Z0-9]. */

export const SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/** Django's salt_entropy: a salt shorter than this many bits gets a hash upgraded. */
export const SALT_ENTROPY_BITS = 128;
/** ceil(128 / log2(62)) = 22 characters, about 131 bits. */
export const SALT_LENGTH = Math.ceil(SALT_ENTROPY_BITS / Math.log2(SALT_CHARS.length));

export function newSalt(length: number = SALT_LENGTH): string {
  // Rejection sampling: 248 = 4 * 62, so byte % 62 is uniform over the accepted bytes.
  const limit = 256 - (256 % SALT_CHARS.length);
  let salt = "";
  while (salt.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(2 * length))) {
      if (byte < limit && salt.length < length) salt += SALT_CHARS[byte % SALT_CHARS.length];
    }
  }
  return salt;
}

/** Django's must_update_salt: entropy from length alone, assuming the 62-character alphabet. */
export function saltTooWeak(salt: string): boolean {
  return [...salt].length * Math.log2(SALT_CHARS.length) < SALT_ENTROPY_BITS;
}
