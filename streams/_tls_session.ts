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
import { failedEarlier } from "../ffi/_error_queue.ts";
import { CLOSED, type NegotiatedParameters, TlsEngine, WANT_LOOKUP, WANT_READ } from "./_tls_engine.ts";
import { pendingCertificateLookup } from "../ffi/_client_certificates.ts";
import { Deadline, MAX_TIMEOUT_MS, NO_DEADLINE, settleWithin } from "./_deadline.ts";
import { type Inbound, type Outbound, resizedWriteBuffer } from "./_transport.ts";
import { ByteQueue } from "./_byte_queue.ts";
import { goesOn, takeWriteTurn, Turns } from "./_turns.ts";
import { addressOf, COPY_SLACK, fastCopyStart, SLOW_COPY_MIN } from "./_copy_alignment.ts";

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
// MiB. Each holds WRITE_CHUNK's records, from where the copy out of the write
// BIO is fast (see _copy_alignment.ts); more output takes more rounds.
// The pool keeps as many as were out at once lately (up to POOL_CAP), and
// shrinks to the recent peak every few seconds of activity.
const POOLED_SIZE = WRITE_CHUNK + 4 * 1024 + COPY_SLACK;
const POOL_CAP = 256;
const POOL_FLOOR = 8;
const POOL_TRIM_MS = 5000;

/** A pooled buffer and its address (asked once: the bytes never move). */
interface PooledBuffer {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly address: number;
}

const pool: PooledBuffer[] = [];
let buffersOut = 0;
let buffersOutPeak = 0;
let lastTrim = 0;
let returns = 0;

function borrowBuffer(): PooledBuffer {
  buffersOutPeak = Math.max(buffersOutPeak, ++buffersOut);
  for (let pooled = pool.pop(); pooled !== undefined; pooled = pool.pop()) {
    // A transport may have kept and detached a buffer after its write (it broke the contract): not reused.
    if (pooled.bytes.byteLength === POOLED_SIZE) return pooled;
  }
  const bytes = new Uint8Array(POOLED_SIZE);
  return { bytes, address: addressOf(bytes) };
}

function returnBuffer(buffer: PooledBuffer): void {
  buffersOut--;
  // A buffer the transport detached (a transfer to a worker, say) never goes back to other connections.
  if (pool.length < POOL_CAP && buffer.bytes.byteLength === POOLED_SIZE) pool.push(buffer);
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

/** The most plaintext a post-handshake request reads ahead for the application while it waits for the peer. */
const DRIVE_KEEP = 1024 * 1024;

/** The most plaintext `detachSsl` keeps while it waits for the peer's close_notify. */
const DETACH_KEEP = 16 * 1024 * 1024;

/** How many times its retry budget `detachSsl` waits at most, however the peer keeps sending. */
const DETACH_OVERALL = 10;

// A deadline `ms` from now (none for Infinity), failing with `error()`.
function deadlineIn(ms: number, error: () => Error): Deadline {
  return Number.isFinite(ms) && ms <= MAX_TIMEOUT_MS
    ? new Deadline({ timeoutMs: ms, onTimeout: error })
    : NO_DEADLINE;
}

/** A write in progress: what is left to encrypt, and whether its caller stopped waiting. */
interface WriteJob {
  data: Uint8Array;
  offset: number;
  abandoned: boolean;
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

/**
 * How a read still waiting on a session that `detachSsl` ended goes on: as a plain read of the stream (the
 * bytes the peer sends after its close_notify are plain).
 */
export interface PlainFallback {
  /** A plain read into `into`, as `SocketStream.read` makes it. */
  readPlainAfterDetach(into: Uint8Array, deadline: Deadline): Promise<number | null>;
  /** A plain `readLine`. */
  readLinePlainAfterDetach(maxLength: number, deadline: Deadline): Promise<string | null>;
}

// What #decrypt answers a readLine (which goes on plain itself) once the session was detached.
const DETACHED = -1;

/** A TLS session over a stream's transport queues. */
export class TlsSession {
  readonly engine: TlsEngine;
  readonly objects: SessionObjects;
  readonly #inbound: Inbound;
  readonly #outbound: Outbound;
  readonly #plain: PlainFallback;
  // detachSsl ended TLS: readers that still waited go on as plain reads, in their order.
  #detached = false;
  // shutdownAndWait succeeded and kept the read turn for detach() to pass on.
  #turnHeldForDetach = false;
  #negotiated: NegotiatedParameters | null = null;
  #freed = false;
  #alertSent = false;
  #closeNotifySent = false;
  // Set by close(): writes whose callers still wait stop at their next record; abandoned ones finish first.
  #closing = false;
  // One write at a time, whole: a write holds the turn until its last record is queued; others wait in order.
  readonly #writeTurns = new Turns();
  // Writes whose callers timed out, going on in the background (close() lets them finish before close_notify).
  #abandoned: Set<Promise<unknown>> | null = null;
  // One reader at a time, in call order; plaintext decrypted past a line waits here for the next one.
  readonly #readTurns = new Turns(() => {
    if (this.#progress.length > 0) this.#notifyProgress();
  });
  readonly #decrypted = new ByteQueue();
  // Who waits for the next read step or read turn (a post-handshake request waiting for the peer's answer).
  #progress: (() => void)[] = [];
  // Why the session is closing, once it is: what waits on the application (a certificate lookup) stops then.
  // The promise that says so is made only when something waits (few sessions ever do).
  // Kept as text: an Error (and its stack) is made only for something that waits, not on every close.
  #endReason: string | null = null;
  #ending: Promise<never> | null = null;
  #rejectEnding: ((error: Error) => void) | null = null;

  /** Binds the engine to `objects.ssl`, which no one may free while the session lives. */
  constructor(objects: SessionObjects, inbound: Inbound, outbound: Outbound, plain: PlainFallback) {
    this.engine = new TlsEngine(objects.ssl);
    this.objects = objects;
    this.#inbound = inbound;
    this.#outbound = outbound;
    this.#plain = plain;
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
      await deadline.race(state === WANT_LOOKUP ? this.#lookup() : this.#inbound.pull());
    }
  }

  // The application's answer the handshake waits for (a client certificate chosen later), or the close.
  #lookup(): Promise<void> {
    const pending = pendingCertificateLookup(this.objects.ssl.pointer);
    return pending === undefined ? Promise.resolve() : Promise.race([pending, this.#whenEnding()]);
  }

  // Rejects once the session is closing (at once if it already is).
  #whenEnding(): Promise<never> {
    if (this.#ending === null) {
      this.#ending = this.#endReason !== null
        ? Promise.reject(new Deno.errors.BadResource(this.#endReason))
        : new Promise<never>((_, reject) => this.#rejectEnding = reject);
      this.#ending.catch(() => {});
    }
    return this.#ending;
  }

  // The first reason wins; it rejects with BadResource.
  #endSession(reason: string): void {
    if (this.#endReason !== null) return;
    this.#endReason = reason;
    this.#rejectEnding?.(new Deno.errors.BadResource(reason));
  }

  /**
   * Decrypts into `into`: the byte count, or `null` after the peer's close_notify. Reads (and `readLine`) take
   * turns in call order, and each serves what an earlier `readLine` decrypted past its line first, so every
   * reader sees the bytes once and in order.
   */
  read(into: Uint8Array, deadline: Deadline = NO_DEADLINE): Promise<number | null> {
    if (this.#readTurns.tryTake()) {
      if (this.#decrypted.length === 0) return this.#decrypt(into, deadline, true);
      const count = this.#decrypted.takeInto(into);
      this.#readTurns.release();
      return Promise.resolve(count);
    }
    return this.#readAfterOthers(into, deadline);
  }

  async #readAfterOthers(into: Uint8Array, deadline: Deadline): Promise<number | null> {
    await this.#readTurns.take(deadline);
    if (this.#decrypted.length > 0) {
      const count = this.#decrypted.takeInto(into);
      this.#readTurns.release();
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
  async readLine(maxLength: number, deadline: Deadline = NO_DEADLINE): Promise<string | null> {
    await this.#readTurns.take(deadline);
    return await this.#readLineInTurn(maxLength, deadline);
  }

  async #readLineInTurn(maxLength: number, deadline: Deadline): Promise<string | null> {
    try {
      if (this.#detached) return await this.#plain.readLinePlainAfterDetach(maxLength, deadline);
      // Only new bytes are scanned for the line end; at most maxLength and one read are held while waiting.
      // Each read is copied out exactly (a one-byte record costs one byte), so one buffer serves this call.
      const scratch = new Uint8Array(Math.min(16 * 1024, maxLength + 2));
      for (let scanned = 0;;) {
        const line = this.#decrypted.takeLine(maxLength, scanned);
        if (line !== undefined) return line;
        scanned = this.#decrypted.length;
        const count = await this.#decrypt(scratch, deadline, false);
        // Detached meanwhile: what this line had gathered went back to the plain stream with the rest.
        if (count === DETACHED) return await this.#plain.readLinePlainAfterDetach(maxLength, deadline);
        if (count === null) return this.#decrypted.takeRest();
        this.#decrypted.push(scratch.subarray(0, count));
      }
    } finally {
      this.#readTurns.release();
    }
  }

  // The decrypting loop: the byte count, or `null` after the peer's close_notify. With `endsTurn`, the read's
  // turn passes on when it settles (one async function, not a wrapper: this is the hot path). Once the session
  // is detached, a read goes on as a plain read (holding its turn, so those behind it follow in order); a
  // readLine's step answers DETACHED.
  async #decrypt(into: Uint8Array, deadline: Deadline, endsTurn: boolean): Promise<number | null> {
    try {
      const size = into.byteLength;
      for (;;) {
        if (this.#detached) {
          return endsTurn ? await this.#plain.readPlainAfterDetach(into, deadline) : DETACHED;
        }
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
        } finally {
          if (this.#progress.length > 0) this.#notifyProgress();
        }
        // Bytes: #fillFrom takes the rest and sends what the reads produced.
        if (typeof result === "number") return this.#fillFrom(into, result);
        // Handshake flights and post-handshake replies go out, never awaited here.
        this.#post();
        if (result === CLOSED) return null;
        if (result === WANT_LOOKUP) {
          await deadline.race(this.#lookup());
          continue;
        }
        await deadline.race(this.#inbound.pull());
      }
    } finally {
      if (endsTurn) this.#readTurns.release();
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
   * started still sends every byte, in order (from a copy: the caller may reuse its buffer), and later writes
   * follow them, nothing cut or spliced. Once `close()` began, a write whose caller still waits stops at its
   * next record and rejects with `BadResource`.
   */
  write(data: Uint8Array, deadline: Deadline = NO_DEADLINE): Promise<number> {
    if (this.#writeTurns.tryTake()) {
      const job: WriteJob = { data, offset: 0, abandoned: false };
      const writing = this.#writeInTurn(job);
      return deadline === NO_DEADLINE ? writing : this.#whileWriting(writing, job, deadline);
    }
    return this.#writeAfterOthers(data, deadline);
  }

  async #writeAfterOthers(data: Uint8Array, deadline: Deadline): Promise<number> {
    await takeWriteTurn(this.#writeTurns, deadline);
    const job: WriteJob = { data, offset: 0, abandoned: false };
    return await this.#whileWriting(this.#writeInTurn(job), job, deadline);
  }

  // The caller waits for a started write until its deadline; then the write goes on from a copy of what is
  // left, since the caller, told it timed out, may reuse its buffer.
  async #whileWriting(writing: Promise<number>, job: WriteJob, deadline: Deadline): Promise<number> {
    try {
      return await deadline.race(writing);
    } catch (error) {
      if (!(error instanceof Deno.errors.TimedOut)) throw error;
      job.data = job.data.slice(job.offset);
      job.offset = 0;
      job.abandoned = true;
      const abandoned = this.#abandoned ??= new Set();
      abandoned.add(writing);
      writing.then(() => abandoned.delete(writing), () => abandoned.delete(writing));
      throw goesOn(error);
    }
  }

  /** Resolves once no write is in flight or waiting. */
  writesDone(): Promise<void> {
    return this.#writeTurns.idle();
  }

  // Holds the turn (see write) from its start to its end, when it hands the turn on. One async function with
  // the loop inside, not a wrapper around another: this is the hot path.
  async #writeInTurn(job: WriteJob): Promise<number> {
    const total = job.data.byteLength;
    try {
      let size = job.data.byteLength;
      // Another round also when the last one filled its buffer: more ciphertext may wait.
      let full = false;
      for (;;) {
        // Only while bytes are left to encrypt: a buffer detached once every byte was taken changes nothing.
        if (job.data.byteLength !== size && job.offset < size) {
          // An abandoned write continues from its own copy; a caller's buffer that was detached or resized
          // while its write waited for the transport fails the write (its length says nothing about what was
          // meant to be sent).
          if (!job.abandoned) {
            throw resizedWriteBuffer(job.offset, size);
          }
          size = job.data.byteLength;
        }
        if (job.offset >= job.data.length && !full) break;
        // Records for up to WRITE_CHUNK of plaintext, one at a time, gathered in one pooled buffer for one
        // socket write.
        const pooled = borrowBuffer();
        // Narrowed to where the copies out of the write BIO are fast, once the first record is in it.
        let gathered = pooled.bytes;
        let placed = false;
        const before = job.offset;
        let produced = 0;
        let wantRead = false;
        let waitsForLookup = false;
        // The last take left room: the write BIO is empty.
        let bioEmpty = false;
        try {
          while (job.offset < job.data.length && produced + RECORD_ROOM <= gathered.length) {
            if (this.#closeNotifySent || (this.#closing && !job.abandoned)) {
              throw new Deno.errors.BadResource(
                `The SocketStream was closed while this write was in flight; ${
                  total - (job.data.length - job.offset)
                } of ${total} bytes were sent`,
              );
            }
            if (job.data.byteLength !== size) {
              throw resizedWriteBuffer(job.offset, size);
            }
            const { data, offset } = job;
            const end = Math.min(offset + RECORD_PLAINTEXT, data.length);
            const result = this.engine.write(
              offset === 0 && end === data.length ? data : data.subarray(offset, end),
            );
            if (result === WANT_READ || result === WANT_LOOKUP) {
              wantRead = true;
              waitsForLookup = result === WANT_LOOKUP;
              // The step may have produced handshake records.
              bioEmpty = false;
              break;
            }
            job.offset += result;
            // Placed at the first record only (nothing gathered yet). Copies under 2 KiB never take memcpy's
            // slow path: a small write saves the call.
            if (!placed) {
              placed = true;
              if (result >= SLOW_COPY_MIN) {
                gathered = gathered.subarray(fastCopyStart(pooled.address, this.engine.outputAddress()));
              }
            }
            const room = gathered.length - produced;
            const taken = this.engine.takeOutputInto(gathered, produced);
            produced += taken;
            bioEmpty = taken < room;
          }
          // Whatever else waits (a record that did not fit, post-handshake messages) goes in if there is room.
          if (!bioEmpty) produced += this.engine.takeOutputInto(gathered, produced);
          full = produced === gathered.length;
        } catch (error) {
          // What this write encrypted before the failure still goes out, then any alert.
          if (produced > 0) this.#outbound.post(gathered.slice(0, produced));
          returnBuffer(pooled);
          if (error instanceof SslCondition) this.#postAlert();
          throw error;
        }
        if (produced > 0) {
          try {
            await this.#outbound.enqueue(gathered.subarray(0, produced), () => returnBuffer(pooled));
          } catch (error) {
            // The transport's own write was cut by close(): the same error as a write stopped at a record.
            if (this.#closing && error instanceof Deno.errors.Interrupted) {
              throw new Deno.errors.BadResource(
                `The SocketStream was closed while this write was in flight; ${
                  total - (job.data.length - before)
                } of ${total} bytes were sent`,
                { cause: error },
              );
            }
            throw error;
          }
        } else {
          returnBuffer(pooled);
          // Output that cannot be taken is not ours to loop on; bytes left unencrypted are not sent, never
          // reported as sent.
          if (!wantRead && job.offset === before) {
            if (job.offset < job.data.length) {
              throw new Error(
                `A write made no progress; ${
                  total - (job.data.length - job.offset)
                } of ${total} bytes were sent`,
              );
            }
            break;
          }
        }
        if (wantRead) {
          // Mid-handshake: our flight goes out, the peer's comes in (or the application's answer does).
          this.#post();
          await (waitsForLookup ? this.#lookup() : this.#inbound.pull());
        }
      }
      return total;
    } finally {
      this.#writeTurns.release();
    }
  }

  #notifyProgress(): void {
    for (const waiter of this.#progress.splice(0)) waiter();
  }

  /**
   * Sends a post-handshake request (see `TlsEngine.request`) between whole writes, in the write turn; resolves
   * once it is on the transport.
   */
  async request(
    operation: string,
    call: (raw: Deno.PointerObject) => number,
    deadline: Deadline = NO_DEADLINE,
  ): Promise<void> {
    await this.#writeTurns.take(deadline);
    try {
      this.#step(() => this.engine.request(operation, call));
      await deadline.race(this.#flush());
    } finally {
      this.#writeTurns.release();
    }
  }

  /**
   * Resolves once `done()` holds after the peer's answer to a request: a read in progress processes the
   * peer's messages itself; when none is, this reads for them, and the plaintext it decrypts on the way waits
   * for the next reader. Rejects with the session's failure, or if the peer closes first.
   */
  async driveUntil(done: () => boolean, what: string, deadline: Deadline = NO_DEADLINE): Promise<void> {
    const scratch = new Uint8Array(16 * 1024);
    for (;;) {
      if (this.#detached) {
        throw new SslCondition(`${what} failed: detachSsl ended TLS before the peer answered`);
      }
      const failure = this.engine.failure;
      if (failure) throw failedEarlier(failure, what);
      if (done()) return;
      // A reader in progress answers for us; so much plaintext waiting for the application that it must read
      // first (the peer may keep sending instead of answering): wait for a read step or a turn to pass.
      if (this.#decrypted.length >= DRIVE_KEEP || !this.#readTurns.tryTake()) {
        await deadline.race(new Promise<void>((resolve) => this.#progress.push(resolve)));
        continue;
      }
      try {
        const result = this.#step(() => this.engine.read(scratch));
        if (this.#progress.length > 0) this.#notifyProgress();
        this.#post();
        if (typeof result === "number") this.#decrypted.push(scratch.subarray(0, result));
        else if (result === CLOSED) {
          throw new SslCondition(`${what} failed: the peer closed the TLS session before it answered`);
        } else if (result === WANT_LOOKUP) await deadline.race(this.#lookup());
        else if (!done()) await deadline.race(this.#inbound.pull());
      } finally {
        this.#readTurns.release();
      }
    }
  }

  /**
   * close() began: writes whose callers still wait stop at their next record (`BadResource`). Resolves true
   * once the writes whose callers timed out (promised to go on) have finished, false if they did not within
   * `ms`: then the transport must be cut without close_notify, so the peer sees the truncation instead of a
   * clean end.
   */
  async beginClose(ms: number): Promise<boolean> {
    this.#closing = true;
    this.#endSession("The SocketStream was closed while TLS waited for certRequestCallback");
    const abandoned = this.#abandoned;
    if (abandoned === null || abandoned.size === 0) return true;
    await settleWithin(Promise.allSettled([...abandoned]), ms);
    return abandoned.size === 0;
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
   * Sends close_notify and waits for the peer's: `retryCount` + 1 waits of `retryTimeout` ms (`Infinity`: no
   * limit). A reader in progress finishes first (the bytes it is waiting for are its own); data the peer sent
   * before its close_notify (at most `DETACH_KEEP` bytes) and bytes after it are handed back, in order.
   *
   * @throws {SslCondition} if the peer's close_notify does not come, or it sends more than that meanwhile.
   */
  async shutdownAndWait(retryCount: number, retryTimeout: number, writes: Deadline): Promise<DetachedBytes> {
    const limit = (retryCount + 1) * retryTimeout;
    const failed = (why: string) =>
      new SslCondition(
        `detachSsl: the peer did not answer close_notify within ${
          retryCount + 1
        } waits of ${retryTimeout} ms${why}; ` +
          "the stream is closed",
      );
    // The read turn is asked for first, before anything awaits: reads made after detachSsl was called come
    // after it, and read plain bytes.
    const waiting = deadlineIn(limit, () => failed(" (a read in progress did not finish)"));
    const turn = this.#readTurns.take(waiting);
    // Its deadline may expire while the writes are awaited: handled there, not an unhandled rejection now.
    turn.catch(() => {});
    let holding = false;
    try {
      // Writes in flight finish first: their bytes go out before the close_notify.
      await writes.race(this.writesDone());
      // Our close_notify goes out; if the peer has already left, its close_notify may still be here to read.
      await this.sendCloseNotify().catch(() => {});
      await turn;
      holding = true;
    } catch (error) {
      // Failed before the turn came: it is passed on as soon as it does.
      if (!holding) turn.then(() => this.#readTurns.release(), () => {});
      throw error;
    } finally {
      waiting[Symbol.dispose]();
    }
    // On success the read turn stays taken until detach(): a reader queued behind must not step the engine
    // between the peer's close_notify and the stream turning plain.
    let done = false;
    try {
      // What readLine decrypted past its line comes first.
      const plaintext: Uint8Array[] = this.#decrypted.length > 0 ? [this.#decrypted.takeAll()] : [];
      let kept = plaintext.reduce((sum, bytes) => sum + bytes.length, 0);
      const scratch = new Uint8Array(16 * 1024);
      // retryCount + 1 waits of retryTimeout ms; a wait in which data arrives starts again (it is not used up),
      // but never past DETACH_OVERALL times the budget: a peer trickling a byte per wait cannot hold it for ever.
      let waitsLeft = retryCount + 1;
      let waitEnd = Date.now() + retryTimeout;
      const giveUpAt = Date.now() + DETACH_OVERALL * limit;
      for (;;) {
        // Drain what has arrived: data first, then the close_notify.
        let arrived = false;
        for (;;) {
          const result = this.#step(() => this.engine.read(scratch));
          if (result === CLOSED) {
            this.engine.shutdown();
            await this.#flush().catch(() => {});
            done = true;
            this.#turnHeldForDetach = true;
            return { plaintext, rest: this.engine.takeUnconsumedInput() };
          }
          if (result === WANT_READ || result === WANT_LOOKUP) break;
          kept += result;
          if (kept > DETACH_KEEP) throw failed(` (it sent more than ${DETACH_KEEP} bytes instead)`);
          plaintext.push(scratch.slice(0, result));
          arrived = true;
        }
        if (this.engine.transportEnded) throw failed(" (it closed the connection)");
        const now = Date.now();
        if (now >= giveUpAt) {
          throw failed(` (it kept sending for ${DETACH_OVERALL} times that long without answering)`);
        }
        if (arrived) waitEnd = Math.min(now + retryTimeout, giveUpAt);
        else if (now >= waitEnd) {
          if (--waitsLeft <= 0) throw failed("");
          waitEnd = now + retryTimeout;
        }
        await settleWithin(this.#inbound.pull(), Math.min(waitEnd - now, MAX_TIMEOUT_MS));
      }
    } finally {
      if (!done) this.#readTurns.release();
    }
  }

  /**
   * Sends close_notify without waiting for the peer's (`detachSsl` with `retryCount: null`), at once: not for
   * a reader in progress either (it waits for the transport, and goes on as a plain read once detached). What
   * readers left buffered and what the engine can still decrypt from bytes already received is handed back;
   * bytes still encrypted are not plaintext and are dropped, and what the peer sends later is read as plain.
   * The close_notify is queued, not awaited: plain writes after it go out after it.
   */
  shutdownNow(): DetachedBytes {
    this.sendCloseNotify().catch(() => {});
    const plaintext: Uint8Array[] = this.#decrypted.length > 0 ? [this.#decrypted.takeAll()] : [];
    const scratch = new Uint8Array(16 * 1024);
    for (;;) {
      let result;
      try {
        result = this.engine.read(scratch);
      } catch {
        break;
      }
      if (result === CLOSED) return { plaintext, rest: this.engine.takeUnconsumedInput() };
      if (result === WANT_READ || result === WANT_LOOKUP) break;
      plaintext.push(scratch.slice(0, result));
    }
    return { plaintext, rest: new Uint8Array(0) };
  }

  /**
   * `detachSsl` is done with the session: readers still waiting on it, or queued for its read turn, go on as
   * plain reads. Returns a promise that settles once they all have (later plain reads wait for it, to keep
   * call order), or `null` when none waits.
   */
  detach(): Promise<void> | null {
    this.#detached = true;
    if (this.#turnHeldForDetach) {
      this.#turnHeldForDetach = false;
      this.#readTurns.release();
    }
    return this.#readTurns.held ? this.#readTurns.idle() : null;
  }

  /** Ends the engine and frees exactly what the session owns. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#endSession("The TLS session is closed");
    // A post-handshake request waiting for a read step finds the session gone instead of waiting on.
    if (this.#progress.length > 0) this.#notifyProgress();
    this.engine.dispose();
    const { ssl, ctx, ownsSsl, ownsCtx, release } = this.objects;
    markDetached(ssl);
    if (ownsSsl && !ssl.freed) ssl.destroy();
    if (ownsCtx && ctx && !ctx.freed) ctx.destroy();
    release?.();
  }
}
