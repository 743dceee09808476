/**
 * Bytes received and not handed out yet, in one contiguous buffer: each push copies exactly the bytes given
 * (a one-byte record costs one byte, not the buffer it was read into), lines are found by scanning only what
 * is new, and an emptied queue of more than a few KiB gives its memory back.
 *
 * @module
 */

import { SocketError } from "../ffi/errors.ts";

/** An emptied queue keeps a buffer up to this size; a larger one is dropped. */
const KEEP_WHEN_EMPTY = 4 * 1024;

const LF = 0x0a;
const CR = 0x0d;
// ignoreBOM: a line that starts with U+FEFF keeps it (it is the peer's data, not this decoder's marker).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** A first-in, first-out queue of bytes. */
// What every empty queue starts with: nothing is ever written to it (a push needing room allocates).
const NOTHING = new Uint8Array(0);

export class ByteQueue {
  // Shared while empty, so an idle stream's queues cost no arrays of their own.
  #buffer: Uint8Array<ArrayBuffer> = NOTHING;
  #start = 0;
  #end = 0;

  /** How many bytes wait. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends a copy of `bytes`. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#end + bytes.length > this.#buffer.length) {
      const needed = this.length + bytes.length;
      if (needed <= this.#buffer.length && this.#start >= this.#buffer.length / 2) {
        // Room enough once the consumed front is dropped.
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2, 256));
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      }
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Puts a copy of `bytes` in front of what waits. */
  unshift(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const rest = this.takeAll();
    this.push(bytes);
    this.push(rest);
  }

  /** The waiting bytes, without taking them (valid until the next change). */
  view(): Uint8Array {
    return this.#buffer.subarray(this.#start, this.#end);
  }

  /** Where the first `byte` at or after `from` is, counted from the front; -1 if none. */
  indexOf(byte: number, from = 0): number {
    return this.view().indexOf(byte, from);
  }

  /** Moves as many bytes as fit into `into`; returns the count. */
  takeInto(into: Uint8Array): number {
    const count = Math.min(this.length, into.length);
    into.set(this.#buffer.subarray(this.#start, this.#start + count));
    this.#advance(count);
    return count;
  }

  /** Takes the first `count` bytes as a new array. */
  take(count: number): Uint8Array<ArrayBuffer> {
    const out = this.#buffer.slice(this.#start, this.#start + count);
    this.#advance(out.length);
    return out;
  }

  /** Takes everything. */
  takeAll(): Uint8Array<ArrayBuffer> {
    return this.take(this.length);
  }

  /**
   * Takes a line (to `\n`, without it or a `\r` before it) if one is buffered; `undefined` if not yet.
   * `scanned` bytes from the front are known to hold no `\n`, so only what is new is searched.
   *
   * @throws {SocketError} if the line, or the bytes buffered without a line end, are longer than `maxLength`;
   *   the bytes stay buffered.
   */
  takeLine(maxLength: number, scanned = 0): string | undefined {
    const waiting = this.view();
    const end = waiting.indexOf(LF, scanned);
    if (end < 0) {
      // A \r may still be followed by its \n.
      const pending = waiting.length > 0 && waiting[waiting.length - 1] === CR
        ? waiting.length - 1
        : waiting.length;
      if (pending > maxLength) throw new SocketError(`readLine: no line end within ${maxLength} bytes`);
      return undefined;
    }
    const stop = end > 0 && waiting[end - 1] === CR ? end - 1 : end;
    if (stop > maxLength) {
      throw new SocketError(`readLine: the line is ${stop} bytes long, more than maxLength (${maxLength})`);
    }
    const line = decoder.decode(waiting.subarray(0, stop));
    this.#advance(end + 1);
    return line;
  }

  /** Takes what is left as text (a last line without its end), or `null` if nothing is. */
  takeRest(): string | null {
    return this.length === 0 ? null : decoder.decode(this.takeAll());
  }

  #advance(count: number): void {
    this.#start += count;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#buffer.length > KEEP_WHEN_EMPTY) this.#buffer = NOTHING;
    }
  }
}
