/**
 * 64-bit integers arrive as JavaScript numbers (grpc-loader.ts: longs as
 * Number), exact only up to 2^53 - 1. A larger one (an epoch of 2^64 - 1)
 * is already rounded when a handler sees it, and compared as if it were
 * real it would outrank every epoch a real arbiter will ever grant: one
 * such Hold would wedge an apparatus until restart. So every request is
 * checked once, before any handler runs, and such a number is refused.
 */

/** The largest integer a request may carry (epochs, generations, byte offsets): 2^53 - 1. */
export const requestIntegerMax: number = Number.MAX_SAFE_INTEGER;
/** Nesting a request may have before the check gives up on it (ours nest four deep). */
const nestingMax = 32;

/** The first integer field of `message` over requestIntegerMax, as "field.path = value"; undefined when there is none. */
export function integerOutOfRange(message: unknown, path = "", depth = 0): string | undefined {
  if (typeof message === "number") {
    return Number.isInteger(message) && !Number.isSafeInteger(message) ? `${path === "" ? "value" : path} = ${message}` : undefined;
  }
  if (typeof message !== "object" || message === null || Buffer.isBuffer(message)) return undefined;
  if (depth >= nestingMax) return `${path} nests deeper than ${nestingMax}`;
  for (const [key, value] of Object.entries(message)) {
    const found = integerOutOfRange(value, path === "" ? key : `${path}.${key}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Why a request is refused for its integers (the text of an INVALID_ARGUMENT), or undefined. */
export function integerRangeRefusal(request: unknown): string | undefined {
  const found = integerOutOfRange(request);
  return found === undefined ? undefined : `${found} is out of range: integers in requests go up to 2^53 - 1 (${requestIntegerMax})`;
}
