/**
 * C strings across the FFI boundary.
 *
 * @module
 */

const encoder = new TextEncoder();

/** `text` as a NUL-terminated UTF-8 buffer for a `const char *` parameter. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** Reads a `const char *` result; `null` for a NULL pointer. */
export function readCString(pointer: Deno.PointerValue): string | null {
  return pointer === null ? null : Deno.UnsafePointerView.getCString(pointer);
}

/** Reads a pointer written into an 8-byte out-parameter buffer (`T **out`). */
export function readPointerOut(cell: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(cell[0]);
}
