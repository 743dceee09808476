/**
 * The checks every entry point runs on its options before it does anything: an options bag that is an
 * object, no name it does not know (a misspelt option would otherwise be dropped without a word, and an
 * option that silently does not apply is a promise broken), and values of the right type, each error naming
 * the option and what it got. An entry point takes its options once, as a copy of their own properties
 * (`ownOptions`), and checks and uses only that copy: a getter that answers one value to the check and
 * another to the use, or an option inherited from a prototype that a copy would drop (TLS asked for, a plain
 * connection made), cannot slip through.
 *
 * @module
 */

import { describe } from "./pointers.ts";

/**
 * The options as a copy of their own enumerable properties (each getter read once), after refusing anything
 * but an object (`undefined` is the empty options), a name `known` does not list, own or inherited and
 * enumerable (unless `others` allows names of a subclass's own), and a known name the copy lacks but a read of
 * the options finds (inherited from a prototype, a class's getter, hidden, a Proxy's get trap): the call
 * would silently go on without it.
 */
export function ownOptions<T extends object>(
  caller: string,
  options: T | undefined,
  known: ReadonlySet<string>,
  others: "refused" | "allowed" = "refused",
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${caller}'s options must be an object, got ${describe(options)}`);
  }
  const copy = { ...options };
  // What the copy lacks but a read of the options would find (inherited, a class's getter, not enumerable, a
  // Proxy's get trap): refused, since the call would go on without it.
  for (const key of known) {
    if (!Object.hasOwn(copy, key) && (options as Record<string, unknown>)[key] !== undefined) {
      throw new TypeError(
        `${caller}: the option ${key} must be an own enumerable property of the options object (it is inherited, ` +
          "a getter of its class, hidden or supplied by a Proxy, and would be lost)",
      );
    }
  }
  if (others === "refused") {
    checkKeys(caller, copy, known);
    // A name it does not take, inherited from a prototype of the caller's own.
    for (const key in options) {
      if (!known.has(key)) throw unknownOption(caller, key, known);
    }
  }
  return copy;
}

/** Refuses an option `known` does not list (one whose value is `undefined` too), naming it and `caller`. */
function checkKeys(caller: string, options: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw unknownOption(caller, key, known);
  }
}

// The error for a name `known` does not list; a short list of what the call takes goes with it.
function unknownOption(caller: string, key: string, known: ReadonlySet<string>): TypeError {
  const takes = known.size <= 24 ? ` (it takes ${[...known].join(", ")})` : "";
  return new TypeError(`${caller}: unknown option ${JSON.stringify(key)}${takes}`);
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

/**
 * Refuses a value that is not a number (`TypeError`) or not an integer from `min` to `max` (`RangeError`),
 * naming `name`.
 */
export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Refuses a TCP port that is not a number (`TypeError`) or not an integer from 0 to 65535 (`RangeError`). */
export function checkPort(caller: string, name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`${caller}: ${name} must be a port number from 0 to 65535, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`${caller}: ${name} must be an integer from 0 to 65535, got ${value}`);
  }
  return value;
}
