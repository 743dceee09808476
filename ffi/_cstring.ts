/**
 * C strings across the FFI boundary.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * `text` as a NUL-terminated UTF-8 buffer for a `const char *` parameter.
 * A NUL inside `text` would cut it short where C reads it (a host name
 * "localhost\0.attacker.example" would be checked as "localhost"), so it is
 * refused.
 *
 * @param what names the argument in the error.
 * @throws {TypeError} if `text` is not a string or contains a NUL.
 */
export function cString(text: string, what = "a string passed to OpenSSL"): Uint8Array<ArrayBuffer> {
  checkNoNul(text, what);
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/**
 * Refuses a string that C would read short.
 *
 * @throws {TypeError} naming `what` if `text` is not a string or contains a NUL.
 */
export function checkNoNul(text: unknown, what: string): asserts text is string {
  if (typeof text !== "string") throw new TypeError(`${what} must be a string, got ${typeof text}`);
  if (text.includes("\0")) {
    throw new TypeError(`${what} contains a NUL character, which C would read as its end: ${quote(text)}`);
  }
}

/** A user's string for an error message: JSON-quoted, cut to its first 64 characters. */
export function quote(text: string, limit = 64): string {
  return text.length <= limit
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, limit))}... (${text.length} characters)`;
}

/** Reads a `const char *` result; `null` for a NULL pointer. */
export function readCString(pointer: Deno.PointerValue): string | null {
  return pointer === null ? null : Deno.UnsafePointerView.getCString(pointer);
}

/** Reads a pointer written into an 8-byte out-parameter buffer (`T **out`). */
export function readPointerOut(cell: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(cell[0]);
}
