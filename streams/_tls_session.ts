/**
 * The pump: the only async TLS code. It moves ciphertext between the engine
 * and the transport. Reads never wait for writes (so full duplex cannot
 * deadlock); writes wait until their records are on the transport (so a slow
 * peer slows the writer); after a fatal error the alert is still flushed.
 *
 * @module
 */

import { markAttached, markDetached, type SslCtxPointer, type SslPointer } from "../ffi/pointers.ts";
import { SslCondition } from "../ffi/errors.ts";
import { CLOSED, type NegotiatedParameters, TlsEngine, WANT_READ } from "./_tls_engine.ts";
import { type Deadline, NO_DEADLINE, settleWithin } from "./_deadline.ts";
import type { Outbound } from "./_transport.ts";
import { ByteQueue } from "./_byte_queue.ts";

/**
 * Plaintext per `SSL_write`: one full record, so the write BIO (whose buffer
 * never shrinks) holds at most one record's ciphertext at a time.
 */
const RECORD_PLAINTEXT = 16 * 1024;
/** Room one record's ciphertext needs at most (TLS 1.2 CBC with a SHA-384 MAC and padding: 16469 bytes). */
const RECORD_ROOM = 17 * 1024;
/** Plaintext gathered into one socket write: four records. */
const WRITE_CHUNK = 4 * RECORD_PLAINTEXT;

// Buffers for write()'s ciphertext, reused across socket writes instead of a
// fresh (zero-filled, garbage-collected) array each: V8 collects dropped
// arrays late, so with many busy connections garbage would pile up to tens of
// MiB. Each holds WRITE_CHUNK's records; more output takes more rounds.
// The pool keeps as many as were out at once lately (up to POOL_CAP), and
// shrinks to the recent peak every few seconds of activity.
const POOLED_SIZE = WRITE_CHUNK + 4 * 1024;
const POOL_CAP = 256;
const POOL_FLOOR = 8;
const POOL_TRIM_MS = 5000;
const pool: Uint8Array<ArrayBuffer>[] = [];
let buffersOut = 0;
let buffersOutPeak = 0;
let lastTrim = 0;
let returns = 0;

function borrowBuffer(): Uint8Array<ArrayBuffer> {
  buffersOutPeak = Math.max(buffersOutPeak, ++buffersOut);
  return pool.pop() ?? new Uint8Array(POOLED_SIZE);
}

function returnBuffer(buffer: Uint8Array<ArrayBuffer>): void {
  buffersOut--;
  if (pool.length < POOL_CAP) pool.push(buffer);
  // The clock is read once every 64 returns: it is an op, and this runs for every socket write.
  if ((++returns & 63) !== 0) return;
  const now = performance.now();
  if (now - lastTrim > POOL_TRIM_MS) {
    // Keep what the busiest moment since the last trim needed beyond what is out now.
    pool.length = Math.min(pool.length, Math.max(POOL_FLOOR, buffersOutPeak - buffersOut));
    buffersOutPeak = buffersOut;
    lastTrim = now;
  }
}

/** What a session owns and what it only uses. */
export interface SessionObjects {
  /** The SSL the engine drives. */
  ssl: SslPointer;
  /** The SSL_CTX behind it, or `null` if unknown. */
  ctx: SslCtxPointer | null;
  /** Free the SSL when the session ends. */
  ownsSsl: boolean;
  /** Free the SSL_CTX when the session ends (after the SSL). */
  ownsCtx: boolean;
  /** Called once when the session ends (an abstract context counting its connections). */
  release?: () => void;
}

/** What `detach` hands back to the plain stream, in order. */
export interface DetachedBytes {
  /** Plaintext the peer sent before its close_notify that nobody read yet. */
  plaintext: Uint8Array[];
  /** Bytes that followed the close_notify, already plain. */
  rest: Uint8Array;
}

/** A TLS session over a stream's transport queues. */
export class TlsSession {
  readonly engine: TlsEngine;
  readonly objects: SessionObjects;
  readonly #pull: () => Promise<void>;
  readonly #outbound: Outbound;
  #negotiated: NegotiatedParameters | null = null;
  #freed = false;
  #alertSent = false;
  #closeNotifySent = false;
  // One write at a time, whole: a write holds the turn until its last record is queued; others wait in order.
  #writing = false;
  readonly #waitingWriters: (() => void)[] = [];
  #writesDone: (() => void)[] = [];
  // One reader at a time, in call order; plaintext decrypted past a line waits here for the next one.
  #reading = false;
  readonly #waitingReaders: (() => void)[] = [];
  readonly #decrypted = new ByteQueue();

  /** Binds the engine to `objects.ssl`, which no one may free while the session lives. */
  constructor(objects: SessionObjects, pull: () => Promise<void>, outbound: Outbound) {
    this.engine = new TlsEngine(objects.ssl);
    this.objects = objects;
    this.#pull = pull;
    this.#outbound = outbound;
    markAttached(objects.ssl);
  }

  /** Whether a fatal error's alert went to the peer (the stream lingers before closing, so it can be read). */
  get alertSent(): boolean {
    return this.#alertSent;
  }

  /** The negotiated parameters, once the handshake is done. */
  get negotiated(): NegotiatedParameters | null {
    if (this.#negotiated === null && !this.#freed && this.engine.handshakeDone) {
      this.#negotiated = this.engine.negotiated();
    }
    return this.#negotiated;
  }

  // Queues what the engine produced; returns the write's promise. Used for the
  // last handshake flight and close_notify, once per connection: no pooling.
  #flush(): Promise<void> {
    const output = this.engine.takeOutput();
    return output ? this.#outbound.enqueue(output) : this.#outbound.drained();
  }

  // Queues what the engine produced without waiting for it.
  #post(): void {
    const output = this.engine.takeOutput();
    if (output) this.#outbound.post(output);
  }

  // After a failed step: the alert OpenSSL produced still goes out.
  #postAlert(): void {
    const output = this.engine.takeOutput();
    if (output === null) return;
    this.#alertSent = true;
    this.#outbound.post(output);
  }

  // Runs one engine step; on a fatal error the alert still goes out.
  #step<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      this.#postAlert();
      throw error;
    }
  }

  /** Runs the handshake to the end. */
  async handshake(deadline: Deadline = NO_DEADLINE): Promise<NegotiatedParameters> {
    for (;;) {
      const state = this.#step(() => this.engine.handshake());
      if (state === "done") {
        // The last flight (the client's Finished) goes out before we report done.
        await deadline.race(this.#flush());
        return this.negotiated!;
      }
      this.#post();
      await deadline.race(this.#pull());
    }
  }

  /**
   * Decrypts into `into`: the byte count, or `null` after the peer's close_notify. Reads (and `readLine`) take
   * turns in call order, and each serves what an earlier `readLine` decrypted past its line first, so every
   * reader sees the bytes once and in order.
   */
  read(into: Uint8Array, deadline: Deadline = NO_DEADLINE): Promise<number | null> {
    if (!this.#reading) {
      if (this.#decrypted.length > 0) return Promise.resolve(this.#decrypted.takeInto(into));
      this.#reading = true;
      return this.#decrypt(into, deadline, true);
    }
    return this.#readAfterOthers(into, deadline);
  }

  async #readAfterOthers(into: Uint8Array, deadline: Deadline): Promise<number | null> {
    await this.#afterOtherReads(deadline);
    if (this.#decrypted.length > 0) {
      const count = this.#decrypted.takeInto(into);
      this.#nextReader();
      return count;
    }
    return await this.#decrypt(into, deadline, true);
  }

  /**
   * Reads the next line (to `\n`; a `\r` before it goes too), or what is left at the end, or `null` at the
   * end. Bytes after the line stay for the next reader.
   *
   * @throws {SocketError} if the line (without its end) is longer than `maxLength` bytes; its bytes stay
   *   buffered.
   */
  readLine(maxLength: number, deadline: Deadline = NO_DEADLINE): Promise<string | null> {
    if (!this.#reading) {
      this.#reading = true;
      return this.#readLineInTurn(maxLength, deadline);
    }
    return this.#afterOtherReads(deadline).then(() => this.#readLineInTurn(maxLength, deadline));
  }

  // Waits for the readers before this one; on expiry leaves the queue (or passes on a turn that came meanwhile).
  async #afterOtherReads(deadline: Deadline): Promise<void> {
    let handed = false;
    let resolveTurn!: () => void;
    const turn = new Promise<void>((resolve) => resolveTurn = resolve);
    const take = () => {
      handed = true;
      resolveTurn();
    };
    this.#waitingReaders.push(take);
    try {
      await deadline.race(turn);
    } catch (error) {
      if (handed) this.#nextReader();
      else this.#waitingReaders.splice(this.#waitingReaders.indexOf(take), 1);
      throw error;
    }
  }

  #nextReader(): void {
    const next = this.#waitingReaders.shift();
    if (next) next();
    else this.#reading = false;
  }

  async #readLineInTurn(maxLength: number, deadline: Deadline): Promise<string | null> {
    try {
      // Only new bytes are scanned for the line end; at most maxLength and one read are held while waiting.
      // Each read is copied out exactly (a one-byte record costs one byte), so one buffer serves this call.
      const scratch = new Uint8Array(Math.min(16 * 1024, maxLength + 2));
      for (let scanned = 0;;) {
        const line = this.#decrypted.takeLine(maxLength, scanned);
        if (line !== undefined) return line;
        scanned = this.#decrypted.length;
        const count = await this.#decrypt(scratch, deadline, false);
        if (count === null) return this.#decrypted.takeRest();
        this.#decrypted.push(scratch.subarray(0, count));
      }
    } finally {
      this.#nextReader();
    }
  }

  // The decrypting loop: the byte count, or `null` after the peer's close_notify. With `endsTurn`, the read's
  // turn passes on when it settles (one async function, not a wrapper: this is the hot path).
  async #decrypt(into: Uint8Array, deadline: Deadline, endsTurn: boolean): Promise<number | null> {
    try {
      const size = into.byteLength;
      for (;;) {
        // The caller's buffer may have been detached or shrunk while the read waited: nothing was read into it,
        // and the session stays usable.
        if (into.byteLength !== size || size === 0) {
          throw new TypeError(
            "The buffer of a pending read was detached or resized; no bytes were read into it",
          );
        }
        let result;
        try {
          result = this.engine.read(into);
        } catch (error) {
          if (!(error instanceof TypeError)) this.#postAlert();
          throw error;
        }
        // Bytes: #fillFrom takes the rest and sends what the reads produced.
        if (typeof result === "number") return this.#fillFrom(into, result);
        // Handshake flights and post-handshake replies go out, never awaited here.
        this.#post();
        if (result === CLOSED) return null;
        this.engine.releaseBuffers();
        await deadline.race(this.#pull());
      }
    } finally {
      if (endsTurn) this.#nextReader();
    }
  }

  // SSL_read hands out one record at a time: take what else is already here
  // (up to the caller's buffer), so one read() carries many records.
  #fillFrom(into: Uint8Array, filled: number): number {
    // hasInput is two cheap calls; a read that finds nothing costs four and a view.
    while (filled < into.length && this.engine.hasInput) {
      let more;
      try {
        more = this.engine.read(into.subarray(filled));
      } catch {
        // The failure is kept by the engine: the next read reports it, after these bytes.
        break;
      }
      if (typeof more !== "number") break;
      filled += more;
    }
    this.#post();
    return filled;
  }

  /**
   * Encrypts all of `data`; resolves when its records are on the transport. Writes go out whole and in call
   * order: a write that starts while another is in flight waits for its turn. `deadline` bounds the caller's
   * wait, not the bytes: a write that expires before its turn sends nothing; one that expires after it has
   * started still sends every byte, in order, and later writes follow them (nothing is cut or spliced). Once
   * close_notify is sent, a write that has not finished rejects with `BadResource`.
   */
  write(data: Uint8Array, deadline: Deadline = NO_DEADLINE): Promise<number> {
    if (!this.#writing) {
      this.#writing = true;
      const writing = this.#writeInTurn(data);
      return deadline === NO_DEADLINE ? writing : this.#whileWriting(writing, deadline);
    }
    return this.#writeAfterOthers(data, deadline);
  }

  async #writeAfterOthers(data: Uint8Array, deadline: Deadline): Promise<number> {
    let handed = false;
    let resolveTurn!: () => void;
    const turn = new Promise<void>((resolve) => resolveTurn = resolve);
    const take = () => {
      handed = true;
      resolveTurn();
    };
    this.#waitingWriters.push(take);
    try {
      await deadline.race(turn);
    } catch (error) {
      // Timed out while waiting: leave the queue (or pass on a turn that came at the same time); nothing sent.
      if (handed) this.#nextWriter();
      else this.#waitingWriters.splice(this.#waitingWriters.indexOf(take), 1);
      throw error instanceof Deno.errors.TimedOut
        ? new Deno.errors.TimedOut(
          `${error.message}, waiting for the writes before it; none of its bytes was sent`,
        )
        : error;
    }
    return await this.#whileWriting(this.#writeInTurn(data), deadline);
  }

  // The caller waits for a started write until its deadline; the write itself goes on.
  async #whileWriting(writing: Promise<number>, deadline: Deadline): Promise<number> {
    try {
      return await deadline.race(writing);
    } catch (error) {
      throw error instanceof Deno.errors.TimedOut
        ? new Deno.errors.TimedOut(
          `${error.message}; the write goes on: all its bytes will still be sent, in order, before later writes`,
        )
        : error;
    }
  }

  // Hands the turn to the next waiting write, or frees it.
  #nextWriter(): void {
    const next = this.#waitingWriters.shift();
    if (next) return next();
    this.#writing = false;
    for (const done of this.#writesDone.splice(0)) done();
  }

  /** Resolves once no write is in flight or waiting. */
  writesDone(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#writesDone.push(resolve));
  }

  // Holds the turn (see write) from its start to its end, when it hands the turn on. One async function with
  // the loop inside, not a wrapper around another: this is the hot path.
  async #writeInTurn(data: Uint8Array): Promise<number> {
    try {
      const size = data.byteLength;
      let offset = 0;
      // Another round also when the last one filled its buffer: more ciphertext may wait.
      let full = false;
      while (offset < data.length || full) {
        // Records for up to WRITE_CHUNK of plaintext, one at a time, gathered in one pooled buffer for one
        // socket write.
        const gathered = borrowBuffer();
        const before = offset;
        let produced = 0;
        let wantRead = false;
        try {
          while (offset < data.length && produced + RECORD_ROOM <= gathered.length) {
            if (this.#closeNotifySent) {
              throw new Deno.errors.BadResource(
                `The SocketStream was closed while this write was in flight; ${offset} of ${size} bytes were sent`,
              );
            }
            if (data.byteLength !== size) {
              throw new TypeError(
                `The buffer of a pending write was detached or resized; ${offset} of ${size} bytes were sent`,
              );
            }
            const end = Math.min(offset + RECORD_PLAINTEXT, data.length);
            const result = this.engine.write(
              offset === 0 && end === data.length ? data : data.subarray(offset, end),
            );
            if (result === WANT_READ) {
              wantRead = true;
              break;
            }
            offset += result;
            produced += this.engine.takeOutputInto(gathered, produced);
          }
          // Whatever else waits (a record that did not fit, post-handshake messages) goes in if there is room.
          produced += this.engine.takeOutputInto(gathered, produced);
          full = produced === gathered.length;
        } catch (error) {
          // What this write encrypted before the failure still goes out, then any alert.
          if (produced > 0) this.#outbound.post(gathered.slice(0, produced));
          returnBuffer(gathered);
          if (error instanceof SslCondition) this.#postAlert();
          throw error;
        }
        if (produced > 0) {
          await this.#outbound.enqueue(gathered.subarray(0, produced), () => returnBuffer(gathered));
        } else {
          returnBuffer(gathered);
          // Output that cannot be taken is not ours to loop on.
          if (!wantRead && offset === before) break;
        }
        if (wantRead) {
          // Mid-handshake: our flight goes out, the peer's comes in.
          this.#post();
          await this.#pull();
        }
      }
      return data.length;
    } finally {
      this.#nextWriter();
    }
  }

  /**
   * Queues our close_notify once; resolves when it is on the transport. A write still in flight stops at its
   * next record and rejects with `BadResource`; what it already queued goes out before the close_notify.
   */
  sendCloseNotify(): Promise<void> {
    if (this.#freed) return Promise.resolve();
    this.#closeNotifySent = true;
    this.engine.shutdown();
    return this.#flush();
  }

  /**
   * Sends close_notify and waits for the peer's: up to `retryCount` more
   * transport reads after the first, each allowed `retryTimeout` ms. Data the
   * peer sent before its close_notify and bytes after it are handed back.
   *
   * @throws {SslCondition} if the peer's close_notify does not come.
   */
  async shutdownAndWait(retryCount: number, retryTimeout: number): Promise<DetachedBytes> {
    await this.sendCloseNotify();
    // What readLine decrypted past its line comes first.
    const plaintext: Uint8Array[] = this.#decrypted.length > 0 ? [this.#decrypted.takeAll()] : [];
    const scratch = new Uint8Array(16 * 1024);
    // retryCount + 1 waits of retryTimeout ms each for the close_notify; data that comes meanwhile is read and
    // kept, and does not use up a wait.
    const end = Date.now() + (retryCount + 1) * retryTimeout;
    for (;;) {
      // Drain what has arrived: data first, then the close_notify.
      for (;;) {
        const result = this.#step(() => this.engine.read(scratch));
        if (result === CLOSED) {
          this.engine.shutdown();
          await this.#flush();
          return { plaintext, rest: this.engine.takeUnconsumedInput() };
        }
        if (result === WANT_READ) break;
        plaintext.push(scratch.slice(0, result));
      }
      const left = end - Date.now();
      if (left <= 0 || this.engine.transportEnded) {
        throw new SslCondition(
          `detachSsl: the peer did not answer close_notify within ${
            retryCount + 1
          } waits of ${retryTimeout} ms` +
            `${this.engine.transportEnded ? " (it closed the connection)" : ""}; the stream is closed`,
        );
      }
      await settleWithin(this.#pull(), left);
    }
  }

  /** Ends the engine and frees exactly what the session owns. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.engine.dispose();
    const { ssl, ctx, ownsSsl, ownsCtx, release } = this.objects;
    markDetached(ssl);
    if (ownsSsl && !ssl.freed) ssl.destroy();
    if (ownsCtx && ctx && !ctx.freed) ctx.destroy();
    release?.();
  }
}
