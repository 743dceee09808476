/**
 * A read buffer sized by the traffic: small while a connection idles (a
 * pending read holds it), eightfold larger each time a read fills it, and
 * back to the small size after two reads in a row used less than an eighth
 * of it. Two, because the read after a full one often brings only the tail
 * of a record: shrinking on it would make messages just over the small size
 * reallocate on every read. Less than an eighth, because a read of exactly
 * the small size fills a small buffer (which grows it again): messages of
 * that size would swing the buffer between the two sizes.
 *
 * @module
 */

/** A buffer for the next read, resized after each read by what it got. */
export class AdaptiveBuffer {
  readonly #idle: number;
  readonly #max: number;
  #buffer: Uint8Array<ArrayBuffer>;
  #sparseReads = 0;

  /** Starts at `idle` bytes; never grows past `max`. */
  constructor(idle: number, max: number) {
    this.#idle = idle;
    this.#max = max;
    this.#buffer = new Uint8Array(idle);
  }

  /** Where the next read goes. */
  get buffer(): Uint8Array<ArrayBuffer> {
    return this.#buffer;
  }

  // The size the next read should have, after one that got `count` bytes.
  #nextSize(count: number): number {
    const size = this.#buffer.length;
    if (count * 8 >= size) {
      this.#sparseReads = 0;
      return count === size ? Math.min(size * 8, this.#max) : size;
    }
    if (++this.#sparseReads < 2) return size;
    this.#sparseReads = 0;
    return this.#idle;
  }

  /**
   * The `count` bytes just read, valid until the next read; the buffer is
   * resized for that read.
   */
  borrow(count: number): Uint8Array<ArrayBuffer> {
    const bytes = this.#buffer.subarray(0, count);
    const size = this.#nextSize(count);
    if (size !== this.#buffer.length) this.#buffer = new Uint8Array(size);
    return bytes;
  }

  /**
   * The `count` bytes just read, for keeps: the buffer itself when they fill
   * most of it (a fresh one takes its place), a copy otherwise, so a small
   * chunk never pins a large buffer.
   */
  take(count: number): Uint8Array<ArrayBuffer> {
    const size = this.#nextSize(count);
    if (count * 2 < this.#buffer.length) {
      const copy = this.#buffer.slice(0, count);
      if (size !== this.#buffer.length) this.#buffer = new Uint8Array(size);
      return copy;
    }
    const bytes = this.#buffer.subarray(0, count);
    this.#buffer = new Uint8Array(size);
    return bytes;
  }
}
