/**
 * Cloudflare's production runtime refuses a single PBKDF2 call above 100000 iterations
 * (workerd's DEFAULT_MAX_PBKDF2_ITERATIONS, src/workerd/io/limit-enforcer.h); local workerd, and
 * so these tests, have no limit unless this setup file (run inside workerd before each test file)
 * puts it back. It refuses as production does, with the same DOMException, in WebCrypto's
 * deriveBits and deriveKey and in node:crypto's pbkdf2 and pbkdf2Sync (nodejs_compat), after
 * the runtime's own argument checks (run with a single iteration). Everything else stays real.
 */

// Imported by name at run time: the project's types are the Workers' own, without @types/node.
const NODE_CRYPTO = "node:crypto";
const nodeCrypto = (await import(/* @vite-ignore */ NODE_CRYPTO).then(
  (module: { default?: Record<string, unknown> }) => module.default,
  () => undefined,
)) as Record<string, unknown> | undefined;

export const PRODUCTION_MAX_PBKDF2_ITERATIONS = 100_000;

export function pbkdf2Refusal(requested: number): DOMException {
  return new DOMException(
    `Pbkdf2 failed: iteration counts above ${PRODUCTION_MAX_PBKDF2_ITERATIONS} are not supported (requested ${requested}).`,
    "NotSupportedError",
  );
}

/** The refused count of a WebCrypto PBKDF2 algorithm, or undefined when the call is allowed. */
function refusedWebCrypto(algorithm: unknown): number | undefined {
  if (typeof algorithm !== "object" || algorithm === null) return undefined;
  const { name, iterations } = algorithm as { name?: unknown; iterations?: unknown };
  if (typeof name !== "string" || name.toUpperCase() !== "PBKDF2") return undefined;
  const requested = Number(iterations);
  return requested > PRODUCTION_MAX_PBKDF2_ITERATIONS ? requested : undefined;
}

function refusedNode(iterations: unknown): number | undefined {
  return typeof iterations === "number" && iterations > PRODUCTION_MAX_PBKDF2_ITERATIONS ? iterations : undefined;
}

const LIMITED = Symbol.for("org-token-edge.production-limits");

/**
 * Replaces `target[key]` (own or inherited) with `make(real)`. True when the limited version is
 * in place now (or was already, or there is no such function to limit).
 */
function replace<T extends object>(target: T, key: keyof T & string, make: (real: any) => unknown): boolean {
  const real = target[key] as ((...args: unknown[]) => unknown) & { [LIMITED]?: true };
  if (typeof real !== "function" || real[LIMITED]) return true;
  const limited = Object.assign(make(real) as object, { [LIMITED]: true as const });
  try {
    Object.defineProperty(target, key, { value: limited, writable: true, configurable: true, enumerable: false });
  } catch {
    return false;
  }
  return target[key] === limited;
}

type Algorithm = Record<string, unknown>;
const subtle = Object.getPrototypeOf(crypto.subtle) as SubtleCrypto;

const webCryptoLimited =
  replace(
    subtle,
    "deriveBits",
    (real: SubtleCrypto["deriveBits"]) =>
      function deriveBits(this: SubtleCrypto, algorithm: Algorithm, baseKey: CryptoKey, length?: number | null) {
        const requested = refusedWebCrypto(algorithm);
        if (requested === undefined) return real.call(this, algorithm as never, baseKey, length as never);
        return real.call(this, { ...algorithm, iterations: 1 } as never, baseKey, length as never).then(() => {
          throw pbkdf2Refusal(requested);
        });
      },
  ) &&
  replace(
    subtle,
    "deriveKey",
    (real: SubtleCrypto["deriveKey"]) =>
      function deriveKey(this: SubtleCrypto, algorithm: Algorithm, baseKey: CryptoKey, ...rest: unknown[]) {
        const requested = refusedWebCrypto(algorithm);
        const call = real as unknown as (this: SubtleCrypto, ...args: unknown[]) => Promise<CryptoKey>;
        if (requested === undefined) return call.call(this, algorithm, baseKey, ...rest);
        return call.call(this, { ...algorithm, iterations: 1 }, baseKey, ...rest).then(() => {
          throw pbkdf2Refusal(requested);
        });
      },
  );
// Tests passing without the limit would prove nothing about production: stop loudly instead.
if (!webCryptoLimited) throw new Error("production-limits: could not limit PBKDF2 in crypto.subtle");

type Pbkdf2Sync = (password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown) => unknown;
type Pbkdf2 = (...args: [...Parameters<Pbkdf2Sync>, (error: unknown, key?: unknown) => void]) => void;

/** Whether node:crypto's default export carries the limit too (its named exports cannot be patched). */
export const nodeCryptoLimited =
  nodeCrypto !== undefined &&
  replace(
    nodeCrypto,
    "pbkdf2Sync",
    (real: Pbkdf2Sync) =>
      function pbkdf2Sync(password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown) {
        const requested = refusedNode(iterations);
        if (requested === undefined) return real(password, salt, iterations, keylen, digest);
        real(password, salt, 1, keylen, digest);
        throw pbkdf2Refusal(requested);
      },
  ) &&
  replace(
    nodeCrypto,
    "pbkdf2",
    (real: Pbkdf2) =>
      function pbkdf2(...args: Parameters<Pbkdf2>) {
        const [password, salt, iterations, keylen, digest, callback] = args;
        const requested = refusedNode(iterations);
        if (requested === undefined) return real(...args);
        real(password, salt, 1, keylen, digest, (error) =>
          error ? callback(error) : callback(pbkdf2Refusal(requested)),
        );
      },
  );
