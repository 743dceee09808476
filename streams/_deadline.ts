/**
 * A deadline made of an optional timeout and an optional `AbortSignal`, to
 * race the awaits of an operation against. It leaves no timer or listener
 * behind once disposed.
 *
 * @module
 */

import { describe } from "../ffi/pointers.ts";

/** What a deadline is made of. */
export interface DeadlineOptions {
  /** Milliseconds from now; `undefined` or `null` for none. */
  timeoutMs?: number | null;
  /** Aborting it ends the operation with the signal's reason. */
  signal?: AbortSignal;
  /** The error for an expired timeout. */
  onTimeout: () => Error;
}

/** The longest timer a runtime keeps (a longer one would fire at once): about 24.8 days. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Checks a timeout option: a number of milliseconds from 0 to `MAX_TIMEOUT_MS`;
 * `undefined` or `null` for none.
 *
 * @throws {TypeError} naming `name` for a non-number (a string of digits too).
 * @throws {RangeError} naming `name` for NaN, a negative, infinite or too large number.
 */
export function checkTimeout(name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number of milliseconds or null, got ${describe(value)}`);
  }
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `${name} must be a number of milliseconds from 0 to ${MAX_TIMEOUT_MS}, got ${value}`,
    );
  }
  return value;
}

/** A timeout and/or signal that the awaits of one operation race against. */
export class Deadline implements Disposable {
  readonly #expired: Promise<never> | null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  /** Starts the timer now. */
  constructor({ timeoutMs, signal, onTimeout }: DeadlineOptions) {
    // null is LispWorks' nil: no limit, never a timer of 0 ms.
    if ((timeoutMs === undefined || timeoutMs === null) && signal === undefined) {
      this.#expired = null;
      return;
    }
    this.#expired = new Promise<never>((_, reject) => {
      if (signal) {
        if (signal.aborted) return reject(signal.reason);
        this.#signal = signal;
        this.#onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", this.#onAbort, { once: true });
      }
      if (timeoutMs !== undefined && timeoutMs !== null) {
        this.#timer = setTimeout(() => reject(onTimeout()), timeoutMs);
      }
    });
    // Expiry with nobody racing is not an unhandled rejection.
    this.#expired.catch(() => {});
  }

  /** `promise`, or the deadline's error if that comes first. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#expired === null) return promise;
    // The loser must not surface as an unhandled rejection.
    promise.catch(() => {});
    return Promise.race([promise, this.#expired]);
  }

  /** Clears the timer and the abort listener. */
  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener("abort", this.#onAbort);
  }
}

/** A deadline that never expires. */
export const NO_DEADLINE: Deadline = new Deadline({ onTimeout: () => new Error("never") });

/**
 * Resolves when `promise` settles or after `ms`, whichever comes first; never
 * rejects, and leaves no timer behind.
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      promise.then(() => {}, () => {}),
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
