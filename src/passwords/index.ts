/** Passwords: Django-compatible verification and hashing within Cloudflare's PBKDF2 limit. */

export { burnPasswordTime } from "./burn";
export { ITERATIONS, MAX_ITERATIONS } from "./django-format";
export { hashPassword } from "./hash";
export { type StoredScheme, storedScheme } from "./identify";
export { type PasswordCheck, verifyPassword } from "./verify";
export { djangoPasswordWork, type PasswordWork, passwordWork } from "./work";
