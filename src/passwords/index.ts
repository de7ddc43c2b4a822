/** Passwords: Django-compatible verification and hashing within Cloudflare's PBKDF2 limit. */
export { verifyPassword, type PasswordCheck } from "./verify";
export { hashPassword } from "./hash";
export { burnPasswordTime } from "./burn";
