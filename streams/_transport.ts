/**
 * The byte transport under a `SocketStream` (a `Deno.Conn`, or a scripted
 * stand-in in tests), with the two queues that keep its use orderly: one
 * read in flight at a time, and writes that go out in the order they were
 * queued.
 *
 * @module
 */

import { AdaptiveBuffer } from "./_adaptive_buffer.ts";

/** What the module needs of a connection. `Deno.Conn` has all of it. */
export interface Transport {
  /** Reads into `p`: the byte count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes from `p`: the byte count written (maybe fewer than `p.length`). */
  write(p: Uint8Array): Promise<number>;
  /** Closes both directions at once. */
  close(): void;
  /** Shuts down the write side. */
  closeWrite(): Promise<void>;
}

/** The error for a write whose buffer was detached or resized while it waited: it says how much went out. */
export function resizedWriteBuffer(sent: number, size: number): TypeError {
  return new TypeError(
    `The buffer of a pending write was detached or resized; ${sent} of ${size} bytes were sent`,
  );
}

/** How many bytes one transport read asks for at most (large reads cut the receiver's CPU). */
export const READ_CHUNK = 128 * 1024;

/** What an idle connection's pending read holds (small, so idle connections cost little). */
export const IDLE_READ = 1024;

/** Who gets what the transport reads. */
export interface ChunkSink {
  /** A chunk read (valid until the next transport read), or `null` once at the end. */
  deliver(bytes: Uint8Array | null): void;
}

/**
 * One transport read at a time, shared by everyone who needs bytes. Each read
 * lands in one reused buffer and goes to `deliver` at once, so whoever owns
 * the bytes at that moment (the TLS engine, or the plain buffer) gets them.
 */
export class Inbound {
  readonly #transport: Transport;
  readonly #sink: ChunkSink;
  // Grows toward READ_CHUNK while reads come back full, shrinks back when traffic slows.
  readonly #buffer = new AdaptiveBuffer(IDLE_READ, READ_CHUNK);
  #inFlight: Promise<void> | null = null;
  #ended = false;
  #stopped = false;

  /**
   * `sink.deliver` gets each chunk, then `null` once at the end. A chunk stays valid until the next transport
   * read, which starts only when someone pulls again: the TLS engine pulls only once it has passed every byte
   * to OpenSSL.
   */
  constructor(transport: Transport, sink: ChunkSink) {
    this.#transport = transport;
    this.#sink = sink;
  }

  /** Whether the transport has reported end of stream. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Resolves once one more chunk (or the end) has been delivered; at once after the end. Rejects with
   * `BadResource` once stopped: a loop waiting for bytes must not spin on a transport that will bring none.
   */
  pull(): Promise<void> {
    if (this.#stopped) return Promise.reject(new Deno.errors.BadResource("The SocketStream is closed"));
    if (this.#ended) return Promise.resolve();
    // Plain promise handlers made once, not an async function per read: reads are the hot path.
    return this.#inFlight ??= this.#transport.read(this.#buffer.buffer).then(this.#received, this.#failed);
  }

  readonly #received = (count: number | null): void => {
    // Whoever pulls after this point needs a new read; this one is being delivered.
    this.#inFlight = null;
    if (this.#stopped) return;
    if (count === null) {
      this.#ended = true;
      this.#sink.deliver(null);
      return;
    }
    this.#sink.deliver(this.#buffer.borrow(count));
  };

  readonly #failed = (error: unknown): void => {
    this.#inFlight = null;
    if (this.#stopped) return;
    throw error;
  };

  /** Stops delivering: a read still in flight is dropped when it settles. */
  stop(): void {
    this.#stopped = true;
  }
}

/**
 * Writes in queue order. A failed write fails every later one with the same
 * error; nothing is reported as written that was not.
 */
export class Outbound {
  readonly #transport: Transport;
  // The last write queued (it may reject); the next one starts after it.
  #tail: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  #failed = false;
  #inFlight = 0;

  /** Writes to `transport`. */
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Queues `bytes` (which must not change afterwards); resolves when all are
   * written. `written`, if given, runs once the transport is done with the
   * bytes, whether they went out or failed.
   */
  enqueue(bytes: Uint8Array, written?: () => void): Promise<void> {
    // With nothing in flight the write starts now; otherwise it waits its turn (after a failure too, to fail
    // with the same error).
    const next = () => this.#writeAll(bytes, written);
    const done = this.#inFlight++ === 0 ? next() : this.#tail.then(next, next);
    this.#tail = done;
    return done;
  }

  /** Queues `bytes` without waiting; a failure shows at the next `enqueue`. */
  post(bytes: Uint8Array): void {
    this.enqueue(bytes).catch(() => {});
  }

  /** Resolves when everything queued so far is written (or failed). */
  drained(): Promise<void> {
    return this.#inFlight === 0 ? Promise.resolve() : this.#tail.then(() => {}, () => {});
  }

  async #writeAll(bytes: Uint8Array, written: (() => void) | undefined): Promise<void> {
    const size = bytes.byteLength;
    try {
      if (this.#failed) throw this.#error;
      for (let offset = 0; offset < size;) {
        // The caller's buffer (a plain stream's write) detached or resized while an earlier piece was being
        // written: the rest is gone, and the write says so rather than resolving.
        if (bytes.byteLength !== size) {
          throw resizedWriteBuffer(offset, size);
        }
        offset += await this.#transport.write(bytes.subarray(offset));
      }
    } catch (error) {
      // The caller's own mistake fails its write only; the transport is as good as before.
      if (!this.#failed && !(error instanceof TypeError)) {
        this.#failed = true;
        this.#error = error;
      }
      throw error;
    } finally {
      this.#inFlight--;
      written?.();
    }
  }
}
