/**
 * Turns in call order: one holder at a time, the others queued first come, first served. Reads take turns,
 * and writes take turns, so every reader sees the bytes once and in order and every write goes out whole.
 *
 * @module
 */

import type { Deadline } from "./_deadline.ts";

/** A first-come, first-served turn. */
export class Turns {
  #held = false;
  readonly #onRelease: (() => void) | undefined;
  // A queue with a moving head: taking from the front of an array would cost O(n) per turn.
  // Both made when first needed: most turns are taken and released without anyone waiting.
  #queue: (() => void)[] | null = null;
  #head = 0;
  #idle: (() => void)[] | null = null;

  /** `onRelease` runs after every release (the turn passed on, or freed). */
  constructor(onRelease?: () => void) {
    this.#onRelease = onRelease;
  }

  /** Whether someone holds the turn. */
  get held(): boolean {
    return this.#held;
  }

  /** Takes the turn if nobody holds it; the caller must `release()` it. */
  tryTake(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  /**
   * Resolves once the caller holds the turn (it must `release()` it). If `deadline` expires first, the caller
   * leaves the queue, or passes on a turn that reached it meanwhile, and the deadline's error is thrown.
   */
  async take(deadline: Deadline): Promise<void> {
    if (this.tryTake()) return;
    let handed = false;
    let resolveTurn!: () => void;
    const turn = new Promise<void>((resolve) => resolveTurn = resolve);
    const give = () => {
      handed = true;
      resolveTurn();
    };
    (this.#queue ??= []).push(give);
    try {
      await deadline.race(turn);
    } catch (error) {
      if (handed) this.release();
      else this.#queue![this.#queue!.indexOf(give, this.#head)] = skip;
      throw error;
    }
  }

  /** Passes the turn to the next in line, or frees it. */
  release(): void {
    this.#pass();
    this.#onRelease?.();
  }

  #pass(): void {
    const queue = this.#queue;
    if (queue !== null) {
      while (this.#head < queue.length) {
        const next = queue[this.#head++];
        if (this.#head > 1024 && this.#head * 2 > queue.length) {
          this.#queue = queue.slice(this.#head);
          this.#head = 0;
          return next === skip ? this.#pass() : next();
        }
        if (next !== skip) return next();
      }
      this.#queue = null;
      this.#head = 0;
    }
    this.#held = false;
    const idle = this.#idle;
    if (idle === null) return;
    this.#idle = null;
    for (const waiter of idle) waiter();
  }

  /** Resolves once nobody holds the turn or waits for it. */
  idle(): Promise<void> {
    if (!this.#held) return Promise.resolve();
    return new Promise((resolve) => (this.#idle ??= []).push(resolve));
  }
}

// A queued taker that left.
function skip(): void {}

/** Waits for a write's turn; a timeout there means none of its bytes was sent, and the error says so. */
export async function takeWriteTurn(turns: Turns, deadline: Deadline): Promise<void> {
  try {
    await turns.take(deadline);
  } catch (error) {
    throw error instanceof Deno.errors.TimedOut
      ? new Deno.errors.TimedOut(
        `${error.message}, waiting for the writes before it; none of its bytes was sent`,
      )
      : error;
  }
}

/** The error for a write that timed out after it started: it goes on, and the error says so. */
export function goesOn(error: Deno.errors.TimedOut): Deno.errors.TimedOut {
  return new Deno.errors.TimedOut(
    `${error.message}; the write goes on: all its bytes will still be sent, in order, before later writes`,
  );
}
