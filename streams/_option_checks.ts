/**
 * The checks every entry point runs on its options before it does anything: an options bag that is an
 * object, no name it does not know (a misspelt option would otherwise be dropped without a word, and an
 * option that silently does not apply is a promise broken), and values of the right type, each error naming
 * the option and what it got.
 *
 * @module
 */

import { describe } from "../ffi/pointers.ts";

/** Refuses anything but an object (or `undefined`, for the empty options) with a `TypeError` naming `caller`. */
export function checkOptionsObject(caller: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${caller}'s options must be an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

/** Refuses an option `known` does not list (one whose value is `undefined` too), naming it and `caller`. */
export function checkKeys(caller: string, options: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`${caller}: unknown option ${JSON.stringify(key)}`);
  }
}

/** Refuses a value that is neither `undefined` nor a boolean. */
export function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/** Refuses a value that is neither `undefined` nor a function. */
export function checkFunction<T>(name: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  }
  return value as T | undefined;
}

/** Refuses a value that is neither `undefined` nor an `AbortSignal`. */
export function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`${name} must be an AbortSignal, got ${describe(value)}`);
  }
  return value;
}
