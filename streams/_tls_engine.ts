/**
 * The TLS engine: an `SSL *` over two memory BIOs. Synchronous and free of
 * I/O: ciphertext goes in with `feed`, plaintext comes out of `read`,
 * plaintext goes in with `write`, ciphertext comes out of `takeOutput`.
 * Every step says what it needs next; nothing here awaits.
 *
 * @module
 */

import {
  BIO_C_GET_BUF_MEM_PTR,
  BIO_CTRL_INFO,
  SSL_CTRL_MODE,
  SSL_ERROR_SSL,
  SSL_ERROR_SYSCALL,
  SSL_ERROR_WANT_READ,
  SSL_ERROR_WANT_WRITE,
  SSL_ERROR_WANT_X509_LOOKUP,
  SSL_ERROR_ZERO_RETURN,
  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
  SSL_RECEIVED_SHUTDOWN,
} from "../ffi/constants.ts";
import { readCString, readPointerOut } from "../ffi/_cstring.ts";
import { clearErrors, failedEarlier, sslCallFailed } from "../ffi/_error_queue.ts";
import { SslCondition } from "../ffi/errors.ts";
import { loadOpenssl } from "../ffi/library.ts";
import { BIO_pending, BIO_set_mem_eof_return } from "../ffi/macros.ts";
import type { SslPointer } from "../ffi/pointers.ts";
import { forget, waitingForPeer } from "./_idle_buffers.ts";
import { addressOf, FAST_COPY_PIECE, isSlowCopy, SLOW_COPY_MIN } from "./_copy_alignment.ts";

/** What a step needs next: more ciphertext from the peer. */
export const WANT_READ = "want-read";
/** What `read` returns when the peer's close_notify ended the stream. */
export const CLOSED = "closed";
/** The handshake waits for an answer the application gives later (a client certificate): step again then. */
export const WANT_LOOKUP = "want-lookup";

const MAX_INT = 0x7fffffff;

/** Where `BIO_get_mem_data` / `BIO_get_mem_ptr` write their pointer (one cell: JavaScript runs one call at a time). */
const ADDRESS_CELL = new BigUint64Array(1);
const ADDRESS_CELL_POINTER = Deno.UnsafePointer.of(ADDRESS_CELL);

/** The start of a memory BIO's buffer (`BIO_get_mem_ptr`, then `BUF_MEM.data`), 0 if it has none. */
function memoryBioData(bio: Deno.PointerObject): number {
  loadOpenssl().libcrypto.BIO_ctrl(bio, BIO_C_GET_BUF_MEM_PTR, 0n, ADDRESS_CELL_POINTER);
  const bufMem = Deno.UnsafePointer.create(ADDRESS_CELL[0]);
  // BUF_MEM { size_t length; char *data; size_t max; unsigned long flags; }
  return bufMem === null ? 0 : Number(new Deno.UnsafePointerView(bufMem).getBigUint64(8));
}

/**
 * How much ciphertext the read BIO is topped up to: more than the largest
 * legal record (TLS 1.2: 16 KiB + 2 KiB + 5 bytes), and small because a
 * memory BIO never gives back the buffer it grew to.
 */
const FEED_CHUNK = 20 * 1024;

/** The negotiated parameters, once the handshake is done. */
export interface NegotiatedParameters {
  /** "TLSv1.3", "TLSv1.2", ... */
  protocol: string;
  /** OpenSSL's name for the cipher, e.g. "TLS_AES_256_GCM_SHA384". */
  cipher: string;
  /** The protocol ALPN chose, or `null`. */
  alpnProtocol: string | null;
}

/** An `SSL *` driven over memory BIOs. */
export class TlsEngine {
  readonly #ssl: SslPointer;
  readonly #rbio: Deno.PointerObject;
  readonly #wbio: Deno.PointerObject;
  #transportEnded = false;
  // Ciphertext handed to `feed` and not yet in the read BIO.
  #unfed: Uint8Array[] = [];
  #failure: Error | null = null;
  #disposed = false;
  // Steps made so far: the idle sweep gives back the buffers of an engine whose count stood still.
  #steps = 0;
  // OpenSSL holds no input (the read BIO is empty and no record or plaintext waits in the SSL), and nothing
  // but new ciphertext can change that: a read would only say WANT_READ, so it is not made. New ciphertext,
  // the transport's end, a handshake step and a post-handshake request clear it; a write does not (see write).
  #drained = false;
  // The read BIO is empty (OpenSSL took every byte and wanted more): topping up needs no BIO_pending first.
  #rbioEmpty = false;
  // Where the read BIO's buffer starts (0: not asked yet), and the most it was asked to hold since: asked
  // again when a write may have grown (moved) it. See #writeToReadBio.
  #rbioData = 0;
  #rbioHeld = 0;
  // handshake() has reported "done" (reads before that may still drive the handshake: no shortcut then).
  #handshakeFinished = false;
  // An SSL_* call on this SSL is running (its callbacks may run JavaScript).
  #busy = false;
  // Checks that must pass before the first byte is produced (a client's verification policy).
  #beforeFirstStep: (() => void) | undefined;
  // Checks that must pass once the handshake is done, before any data is handed out (after a resumption).
  #afterHandshake: ((raw: Deno.PointerObject) => void) | undefined;

  /**
   * Binds two new memory BIOs to `ssl`. The SSL takes ownership of them: they
   * are freed with it, or by the next `SSL_set_bio` on it.
   */
  constructor(ssl: SslPointer) {
    const { libssl, libcrypto } = loadOpenssl();
    const raw = ssl.pointer;
    const rbio = libcrypto.BIO_new(libcrypto.BIO_s_mem());
    const wbio = libcrypto.BIO_new(libcrypto.BIO_s_mem());
    if (rbio === null || wbio === null) {
      if (rbio) libcrypto.BIO_free(rbio);
      if (wbio) libcrypto.BIO_free(wbio);
      throw new SslCondition("Cannot allocate memory BIOs for the TLS engine");
    }
    // An empty BIO means "retry later", not end of file.
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    // SSL_set_bio takes ownership of both BIOs.
    libssl.SSL_set_bio(raw, rbio, wbio);
    // Retries may pass a different buffer address (a subarray of the same bytes). Not
    // SSL_MODE_RELEASE_BUFFERS: it frees and reallocates both record buffers on every record; idle
    // connections give theirs back through the sweep in _idle_buffers.ts instead.
    libssl.SSL_ctrl(raw, SSL_CTRL_MODE, BigInt(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), null);
    this.#ssl = ssl;
    this.#rbio = rbio;
    this.#wbio = wbio;
  }

  /**
   * Runs `check` once, right before the first handshake, read or write step: a failure there fails the
   * session before OpenSSL produces a byte (the error is kept and rethrown like any other).
   */
  beforeFirstStep(check: () => void): void {
    this.#beforeFirstStep = () => {
      try {
        check();
      } catch (error) {
        throw this.#fail(error as Error);
      }
    };
  }

  /**
   * Runs `check` once the handshake has finished (in `handshake`, or inside the read or write that finished
   * it), before any plaintext is handed out: a failure fails the session.
   */
  afterHandshake(check: () => void): void {
    this.#afterHandshake = () => {
      this.#afterHandshake = undefined;
      try {
        check();
      } catch (error) {
        throw this.#fail(error as Error);
      }
    };
  }

  // Runs the after-handshake check if the handshake has just finished.
  #checkHandshakeDone(raw: Deno.PointerObject): void {
    if (this.#afterHandshake !== undefined && loadOpenssl().libssl.SSL_is_init_finished(raw) === 1) {
      this.#afterHandshake(raw);
    }
  }

  /** The `SSL` this engine drives. */
  get ssl(): SslPointer {
    return this.#ssl;
  }

  /** Whether the transport has ended (no more ciphertext will come). */
  get transportEnded(): boolean {
    return this.#transportEnded;
  }

  #raw(operation: string): Deno.PointerObject {
    if (this.#disposed) throw new Deno.errors.BadResource("The TLS session is closed");
    if (this.#failure) throw failedEarlier(this.#failure, operation);
    if (this.#busy) {
      // OpenSSL is inside a call on this SSL and has called back into JavaScript: a nested SSL_* call on the
      // same object would corrupt its state.
      throw new TypeError(
        `${operation} cannot run inside one of this connection's own OpenSSL callbacks (verify, ALPN, key ` +
          "log...); do it after the callback has returned",
      );
    }
    return this.#ssl.pointer;
  }

  /**
   * Hands ciphertext from the peer to OpenSSL. The engine keeps a view of
   * `ciphertext` and moves it into the read BIO a record or two at a time as
   * the steps need it; every byte is in OpenSSL before any step answers
   * `WANT_READ`, so the caller may reuse the memory only after that.
   */
  feed(ciphertext: Uint8Array): void {
    if (this.#disposed) throw new Deno.errors.BadResource("The TLS session is closed");
    if (ciphertext.length > 0) {
      this.#unfed.push(ciphertext);
      this.#drained = false;
    }
  }

  // Moves ciphertext into the read BIO while it holds less than FEED_CHUNK, or
  // (`more`) at least one piece whatever it holds.
  #topUp(more = false): void {
    while (this.#unfed.length > 0) {
      const pending = this.#rbioEmpty ? 0 : BIO_pending(this.#rbio);
      if (!more && pending >= FEED_CHUNK) break;
      more = false;
      this.#rbioEmpty = false;
      const head = this.#unfed[0];
      const piece = head.length <= FEED_CHUNK ? head : head.subarray(0, FEED_CHUNK);
      const written = this.#writeToReadBio(piece, pending);
      if (written <= 0) throw new SslCondition("Cannot buffer ciphertext in the memory BIO");
      if (written === head.length) this.#unfed.shift();
      else this.#unfed[0] = head.subarray(written);
    }
    // Now an empty read BIO is end of file, so OpenSSL can tell truncation.
    if (this.#transportEnded && this.#unfed.length === 0) BIO_set_mem_eof_return(this.#rbio, 0);
  }

  // Appends `piece` to the read BIO, which holds `pending` bytes: the bytes written, or <= 0. A copy that
  // would land 1-31 bytes past its source modulo 4096 (memcpy's slow path, see _copy_alignment.ts) goes in
  // pieces too small for that path: about one feed in six on an unlucky connection, one in 150 otherwise.
  #writeToReadBio(piece: Uint8Array, pending: number): number {
    const { libcrypto } = loadOpenssl();
    if (piece.length < SLOW_COPY_MIN) return libcrypto.BIO_write(this.#rbio, piece, piece.length);
    const held = pending + piece.length;
    // The write lands after the unread bytes, which the BIO first moves to the start of its buffer.
    if (this.#rbioData === 0) this.#rbioData = memoryBioData(this.#rbio);
    const slow = isSlowCopy(this.#rbioData + pending, addressOf(piece));
    let written = 0;
    if (!slow) {
      written = libcrypto.BIO_write(this.#rbio, piece, piece.length);
    } else {
      for (let offset = 0; offset < piece.length; offset += FAST_COPY_PIECE) {
        const part = piece.subarray(offset, offset + FAST_COPY_PIECE);
        const wrote = libcrypto.BIO_write(this.#rbio, part, part.length);
        if (wrote <= 0) return written > 0 ? written : wrote;
        written += wrote;
        // A short write (a memory BIO makes none): the caller feeds the rest.
        if (wrote < part.length) return written;
      }
    }
    // A buffer asked to hold more than ever before may have moved.
    if (held > this.#rbioHeld) {
      this.#rbioHeld = held;
      this.#rbioData = memoryBioData(this.#rbio);
    }
    return written;
  }

  // The BIOs die with the SSL: no BIO call once the SSL was freed (even by its owner).
  get #biosGone(): boolean {
    return this.#disposed || this.#ssl.freed;
  }

  /** Tells OpenSSL that no more ciphertext will come (once what was fed is in). */
  endTransport(): void {
    if (this.#transportEnded || this.#biosGone) return;
    this.#transportEnded = true;
    // OpenSSL must see the end: the next read tells a clean close from a truncation.
    this.#drained = false;
    if (this.#unfed.length === 0) BIO_set_mem_eof_return(this.#rbio, 0);
  }

  /** Takes all ciphertext waiting to go to the peer, or `null` if none. */
  takeOutput(): Uint8Array<ArrayBuffer> | null {
    if (this.#biosGone) return null;
    const pending = BIO_pending(this.#wbio);
    if (pending <= 0) return null;
    const output = new Uint8Array(pending);
    const read = loadOpenssl().libcrypto.BIO_read(this.#wbio, output, pending);
    return read === pending ? output : output.subarray(0, Math.max(read, 0));
  }

  /**
   * Moves waiting ciphertext into `buffer` from `offset`, as much as fits:
   * the byte count moved (0 when none waits or there is no room).
   */
  takeOutputInto(buffer: Uint8Array, offset: number): number {
    const room = buffer.length - offset;
    if (room <= 0 || this.#biosGone) return 0;
    // An empty memory BIO answers -1 (retry): no need to ask BIO_pending first.
    const read = loadOpenssl().libcrypto.BIO_read(this.#wbio, buffer.subarray(offset), room);
    return Math.max(read, 0);
  }

  /**
   * The address of the next ciphertext byte `takeOutputInto` would copy (`BIO_get_mem_data`), 0 once the BIOs
   * are gone: where the caller's buffer should start for a fast copy (see `_copy_alignment.ts`).
   */
  outputAddress(): number {
    if (this.#biosGone) return 0;
    loadOpenssl().libcrypto.BIO_ctrl(this.#wbio, BIO_CTRL_INFO, 0n, ADDRESS_CELL_POINTER);
    return Number(ADDRESS_CELL[0]);
  }

  /** Takes the ciphertext bytes OpenSSL has not consumed (after a close_notify). */
  takeUnconsumedInput(): Uint8Array<ArrayBuffer> {
    if (this.#biosGone) return new Uint8Array(0);
    const pending = Math.max(BIO_pending(this.#rbio), 0);
    const unfed = this.#unfed.splice(0);
    const rest = new Uint8Array(unfed.reduce((total, bytes) => total + bytes.length, pending));
    if (pending > 0) loadOpenssl().libcrypto.BIO_read(this.#rbio, rest, pending);
    let offset = pending;
    for (const bytes of unfed) {
      rest.set(bytes, offset);
      offset += bytes.length;
    }
    return rest;
  }

  /** Whether the handshake has finished. */
  get handshakeDone(): boolean {
    if (this.#disposed) return false;
    return loadOpenssl().libssl.SSL_is_init_finished(this.#ssl.pointer) === 1;
  }

  /** Whether the peer's close_notify has arrived. */
  get receivedCloseNotify(): boolean {
    if (this.#disposed) return false;
    return (loadOpenssl().libssl.SSL_get_shutdown(this.#ssl.pointer) & SSL_RECEIVED_SHUTDOWN) !== 0;
  }

  // One helper turns a return code into done / want-read / closed / throw.
  #outcome(
    raw: Deno.PointerObject,
    result: number,
    operation: string,
  ): typeof WANT_READ | typeof CLOSED | typeof WANT_LOOKUP {
    const { libssl } = loadOpenssl();
    const code = libssl.SSL_get_error(raw, result);
    if (code === SSL_ERROR_WANT_X509_LOOKUP) return WANT_LOOKUP;
    // A memory write BIO never fills up, so WANT_WRITE only means "drain and retry".
    if (code === SSL_ERROR_WANT_READ || code === SSL_ERROR_WANT_WRITE) {
      if (this.#transportEnded && code === SSL_ERROR_WANT_READ && this.#unfed.length === 0) {
        throw this.#fail(
          sslCallFailed({ ssl: raw, sslErrorCode: SSL_ERROR_SYSCALL, operation, transportEof: true }),
        );
      }
      return WANT_READ;
    }
    if (code === SSL_ERROR_ZERO_RETURN && operation === "TLS read") return CLOSED;
    throw this.#fail(
      sslCallFailed({ ssl: raw, sslErrorCode: code, operation, transportEof: this.#transportEnded }),
    );
  }

  #fail<E extends Error>(error: E): E {
    this.#failure = error;
    return error;
  }

  // Each step below runs until it succeeds, fails, or needs bytes that `feed` has not handed over yet
  // (written out rather than shared through a callback: these are the hot path).

  /** Steps the handshake: "done", or `WANT_READ` for more peer bytes. */
  handshake(): "done" | typeof WANT_READ | typeof WANT_LOOKUP {
    const raw = this.#raw("TLS handshake");
    this.#steps++;
    this.#drained = false;
    this.#busy = true;
    try {
      return this.#handshake(raw);
    } finally {
      this.#busy = false;
    }
  }

  #handshake(raw: Deno.PointerObject): "done" | typeof WANT_READ | typeof WANT_LOOKUP {
    const { libssl } = loadOpenssl();
    this.#beforeFirstStep?.();
    this.#beforeFirstStep = undefined;
    if (this.#unfed.length > 0) this.#topUp();
    for (;;) {
      clearErrors();
      const result = libssl.SSL_do_handshake(raw);
      if (result === 1) {
        this.#afterHandshake?.(raw);
        this.#handshakeFinished = true;
        return "done";
      }
      const outcome = this.#outcome(raw, result, "TLS handshake");
      if (outcome === CLOSED) {
        throw this.#fail(
          sslCallFailed({
            ssl: raw,
            sslErrorCode: SSL_ERROR_ZERO_RETURN,
            operation: "TLS handshake",
            transportEof: false,
          }),
        );
      }
      if (outcome === WANT_LOOKUP) return outcome;
      if (this.#unfed.length === 0) return this.#waiting();
      this.#topUp(true);
    }
  }

  /**
   * Decrypts into `into`: the byte count, `WANT_READ`, or `CLOSED` after the
   * peer's close_notify.
   */
  read(into: Uint8Array): number | typeof WANT_READ | typeof CLOSED | typeof WANT_LOOKUP {
    const raw = this.#raw("TLS read");
    // SSL_read of 0 bytes says nothing useful and would record a failure; a detached buffer has length 0.
    if (into.length === 0) throw new TypeError("A TLS read needs a buffer with room for at least one byte");
    this.#steps++;
    this.#busy = true;
    try {
      return this.#read(raw, into);
    } finally {
      this.#busy = false;
    }
  }

  #read(
    raw: Deno.PointerObject,
    into: Uint8Array,
  ): number | typeof WANT_READ | typeof CLOSED | typeof WANT_LOOKUP {
    const { libssl } = loadOpenssl();
    const length = Math.min(into.length, MAX_INT);
    this.#beforeFirstStep?.();
    this.#beforeFirstStep = undefined;
    if (this.#unfed.length > 0) this.#topUp();
    else if (this.#drained && !this.#transportEnded) return this.#waiting();
    for (;;) {
      clearErrors();
      const result = libssl.SSL_read(raw, into, length);
      if (result > 0) {
        if (this.#afterHandshake !== undefined) this.#checkHandshakeDone(raw);
        return result;
      }
      const outcome = this.#outcome(raw, result, "TLS read");
      if (outcome !== WANT_READ) return outcome;
      if (this.#unfed.length === 0) return this.#waiting();
      this.#topUp(true);
    }
  }

  /** Encrypts from `data`: the bytes taken, or `WANT_READ` (mid-handshake). */
  write(data: Uint8Array): number | typeof WANT_READ | typeof WANT_LOOKUP {
    const raw = this.#raw("TLS write");
    if (data.length === 0) return 0;
    this.#steps++;
    // #drained stays: SSL_write reads only from the read BIO, which is empty while drained (feed clears it),
    // so it cannot make plaintext readable. Clearing it cost a request/response exchange a failing SSL_read.
    this.#busy = true;
    try {
      return this.#write(raw, data);
    } finally {
      this.#busy = false;
    }
  }

  #write(raw: Deno.PointerObject, data: Uint8Array): number | typeof WANT_READ | typeof WANT_LOOKUP {
    const { libssl } = loadOpenssl();
    const length = Math.min(data.length, MAX_INT);
    this.#beforeFirstStep?.();
    this.#beforeFirstStep = undefined;
    if (this.#unfed.length > 0) this.#topUp();
    for (;;) {
      clearErrors();
      const result = libssl.SSL_write(raw, data, length);
      if (result > 0) {
        if (this.#afterHandshake !== undefined) this.#checkHandshakeDone(raw);
        return result;
      }
      // Throws unless OpenSSL wants the peer's bytes, or an answer of the application's.
      if (this.#outcome(raw, result, "TLS write") === WANT_LOOKUP) return WANT_LOOKUP;
      if (this.#unfed.length === 0) return this.#waiting();
      this.#topUp(true);
    }
  }

  // Every byte fed is in OpenSSL and it wants more: the engine waits for its peer.
  #waiting(): typeof WANT_READ {
    this.#rbioEmpty = true;
    waitingForPeer(this);
    return WANT_READ;
  }

  /** How many handshake, read and write steps this engine has made (the idle sweep watches it). */
  get steps(): number {
    return this.#steps;
  }

  /** The error that failed this engine, or `null`. */
  get failure(): Error | null {
    return this.#failure;
  }

  /**
   * Asks OpenSSL for a post-handshake message (`call` is SSL_key_update, SSL_renegotiate or
   * SSL_verify_client_post_handshake on the SSL) and steps the handshake so the message is produced for
   * `takeOutput`. A refused request (`call` not 1) throws an `SslCondition` and leaves the session as it was.
   */
  request(operation: string, call: (raw: Deno.PointerObject) => number): void {
    const raw = this.#raw(operation);
    const { libssl } = loadOpenssl();
    this.#drained = false;
    this.#busy = true;
    try {
      clearErrors();
      if (call(raw) !== 1) {
        throw sslCallFailed({ ssl: raw, sslErrorCode: SSL_ERROR_SSL, operation, transportEof: false });
      }
      clearErrors();
      const result = libssl.SSL_do_handshake(raw);
      // A server's renegotiation waits for the ClientHello: want-read here is how it goes on.
      if (result !== 1) this.#outcome(raw, result, operation);
    } finally {
      this.#busy = false;
    }
  }

  /** Whether a read could make progress without more bytes from the transport. */
  get hasInput(): boolean {
    if (this.#unfed.length > 0) return true;
    if (this.#biosGone) return false;
    if (BIO_pending(this.#rbio) > 0 || loadOpenssl().libssl.SSL_has_pending(this.#ssl.pointer) === 1) {
      return true;
    }
    // Nothing here: until new ciphertext comes, a read need not ask OpenSSL.
    this.#drained = this.#handshakeFinished;
    this.#rbioEmpty = true;
    return false;
  }

  /**
   * Gives back the record buffers (the idle sweep calls it once the engine has waited for its peer a while):
   * an idle connection holds none. A no-op while a buffer holds bytes, and once the SSL is gone.
   */
  releaseBuffers(): void {
    if (this.#disposed || this.#busy || this.#ssl.freed) return;
    loadOpenssl().libssl.SSL_free_buffers(this.#ssl.pointer);
  }

  /**
   * Produces our close_notify (once) and reports whether the peer's has
   * arrived too. Never throws for a session that already failed.
   */
  shutdown(): boolean {
    if (this.#disposed || this.#failure || this.#busy) return false;
    const raw = this.#ssl.pointer;
    const { libssl } = loadOpenssl();
    clearErrors();
    this.#busy = true;
    try {
      const result = libssl.SSL_shutdown(raw);
      if (result < 0) clearErrors();
      return result === 1;
    } finally {
      this.#busy = false;
    }
  }

  /** The parameters the handshake settled. */
  negotiated(): NegotiatedParameters {
    const raw = this.#raw("Reading the negotiated parameters");
    const { libssl } = loadOpenssl();
    const cell = new BigUint64Array(1);
    const length = new Uint32Array(1);
    libssl.SSL_get0_alpn_selected(raw, cell, length);
    const alpnPointer = readPointerOut(cell);
    const alpnProtocol = alpnPointer === null || length[0] === 0 ? null : new TextDecoder().decode(
      new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(alpnPointer, length[0])),
    );
    return {
      protocol: readCString(libssl.SSL_get_version(raw)) ?? "unknown",
      cipher: readCString(libssl.SSL_CIPHER_get_name(libssl.SSL_get_current_cipher(raw))) ?? "unknown",
      alpnProtocol,
    };
  }

  /** Stops the engine: every later call throws `BadResource`. The SSL is not freed here. */
  dispose(): void {
    this.#disposed = true;
    forget(this);
  }
}
