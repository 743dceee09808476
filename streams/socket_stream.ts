/**
 * `SocketStream`: a `Deno.Conn` look-alike that is plain or TLS, LispWorks'
 * `socket-stream`. Make one with `makeInstance`, `openTcpStream` or
 * `new SocketStream({ socket })`; add TLS with `attachSsl`.
 *
 * @module
 */

import { type PeerCertificate, peerCertificateOf } from "../ffi/certificate.ts";
import { stapledResponse } from "../ffi/_ocsp.ts";
import { failedEarlier } from "../ffi/_error_queue.ts";
import {
  channelBindingOf,
  type ChannelBindingType,
  renegotiate,
  requestClientCertificate,
  updateKeys,
} from "./_post_handshake.ts";
import { exportKeyingMaterialOf, sessionBytesOf } from "../ffi/connection_info.ts";
import { SocketError, SslHandshakeTimeout } from "../ffi/errors.ts";
import { loadOpenssl } from "../ffi/library.ts";
import { describe, type SslCtxPointer, type SslPointer } from "../ffi/pointers.ts";
import { insideOpensslCallback } from "../ffi/_lifetimes.ts";
import { checkTimeout, Deadline, NO_DEADLINE, settleWithin } from "./_deadline.ts";
import type { NegotiatedParameters } from "./_tls_engine.ts";
import type { DetachedBytes, PlainFallback, TlsSession } from "./_tls_session.ts";
import { FdTransport } from "./_fd_transport.ts";
import { IDLE_READ, Inbound, Outbound, resizedWriteBuffer, type Transport } from "./_transport.ts";
import { AdaptiveBuffer } from "./_adaptive_buffer.ts";
import { ByteQueue } from "./_byte_queue.ts";
import { checkBoolean, checkInteger, ownOptions } from "../ffi/_option_checks.ts";
import { goesOn, takeWriteTurn, Turns } from "./_turns.ts";

const STREAM_OPTION_KEYS: ReadonlySet<string> = new Set(["socket", "readTimeout", "writeTimeout"]);
const KEY_UPDATE_KEYS: ReadonlySet<string> = new Set(["requestPeer", "timeoutMs"]);
const TIMEOUT_KEYS: ReadonlySet<string> = new Set(["timeoutMs"]);
const READ_LINE_KEYS: ReadonlySet<string> = new Set(["maxLength"]);

/** The largest chunk a `readable` pull hands out when the reader brings no buffer of its own. */
const STREAM_CHUNK = 64 * 1024;

/** The most keying material, and the longest context, `exportKeyingMaterial` takes: TLS carries 16-bit lengths. */
const MAX_EXPORT = 0xffff;

/** How long `close()` lets queued bytes and close_notify drain before it cuts the transport. */
const CLOSE_DRAIN_MS = 2000;

/** How long, and for how many bytes, a stream that sent a fatal alert reads on before it closes. */
const LINGER_MS = 1000;
const LINGER_BYTES = 256 * 1024;

/**
 * What a finished handshake settled: a superset of `Deno.TlsHandshakeInfo`.
 */
export interface HandshakeInfo extends Deno.TlsHandshakeInfo {
  /** The protocol ALPN chose, or `null`. */
  alpnProtocol: string | null;
  /** "TLSv1.3", "TLSv1.2", ... */
  protocol: string;
  /** OpenSSL's name for the cipher, e.g. "TLS_AES_256_GCM_SHA384". */
  cipher: string;
}

/** Options of `new SocketStream`. */
export interface SocketStreamOptions {
  /**
   * The connection to carry, or a raw socket descriptor (Linux, macOS; for
   * descriptors handed to the process, such as systemd's `LISTEN_FDS`). The
   * stream owns it from now on.
   */
  socket: Deno.Conn | number;
  /** Milliseconds a `read` may wait; on expiry it rejects with `Deno.errors.TimedOut` and the stream stays open. */
  readTimeout?: number;
  /** Milliseconds a `write` may wait; on expiry it rejects with `Deno.errors.TimedOut` and the stream stays open. */
  writeTimeout?: number;
}

/** The parts `attachSsl` and `detachSsl` work on; not public. */
export interface StreamInternals extends PlainFallback {
  readonly inbound: Inbound;
  readonly outbound: Outbound;
  session: TlsSession | null;
  /** Bytes read from the transport that nobody has consumed yet (plain mode). */
  takePlain(): Uint8Array;
  /** Puts bytes back in front of the plain buffer (after a detach). */
  restorePlain(bytes: DetachedBytes): void;
  /** Whether the transport ended while the stream was plain. */
  plainEnded(): boolean;
  /** Records that the transport ended (it did so under TLS). */
  endPlain(): void;
  /** Whether `close()` was called. */
  closing(): boolean;
  /**
   * An `attachSsl` is reading the ClientHello to choose a context: no second attach, and plain reads and
   * writes wait (the bytes belong to TLS, and a write now would go out in the clear).
   */
  readonly attaching: boolean;
  /** Marks the start of that read; the returned function marks its end. */
  beginAttach(): () => void;
  /** The plain bytes buffered so far, left in place (a view, valid until the buffer changes). */
  plainBytes(): Uint8Array;
  /** After a fatal alert written by hand: close as after a failed handshake (half-close, drain, close). */
  lingerOnClose(): void;
  /** The connection under the stream. */
  readonly transport: Deno.Conn;
  /** detachSsl is done: plain reads made from now on wait until `waiting` (reads left on the session) settles. */
  afterDetachedReads(waiting: Promise<void> | null): void;
  /** The detachSsl under way, if one is: a second waits for it. */
  detaching: Promise<void> | null;
  /** close() from now on cuts the transport without waiting for queued writes to drain. */
  cutOnClose(): void;
}

const internals = new WeakMap<SocketStream, StreamInternals>();
let makeInternals: (stream: SocketStream, transport: Deno.Conn, outbound: Outbound) => StreamInternals;
const owners = new WeakMap<object, SocketStream>();

/** The stream that owns a connection, if one does (a server cutting connections closes it cleanly). */
export function streamOwning(conn: object): SocketStream | undefined {
  return owners.get(conn);
}

/** The internals of a stream, for `attachSsl` / `detachSsl`. */
export function internalsOf(stream: SocketStream): StreamInternals {
  const found = internals.get(stream);
  if (!found) throw new TypeError("Expected a SocketStream");
  return found;
}

function closedError(): Deno.errors.BadResource {
  return new Deno.errors.BadResource("The SocketStream is closed");
}

/**
 * A socket stream, plain or TLS: a drop-in for a `Deno.Conn` (`read`, `write`,
 * `readable`, `writable`, `close`, `closeWrite`, addresses, `setNoDelay` ...)
 * plus the TLS state (`ssl`, `ctx`, `handshake()`, `protocol`, `cipher`,
 * `alpnProtocol`, `peerCertificate()`).
 *
 * @example Wrap a connection, then add TLS as a client
 * ```ts
 * import { attachSsl, SocketStream } from "@comm/socket-stream";
 *
 * const stream = new SocketStream({ socket: await Deno.connect({ hostname: "example.com", port: 443 }) });
 * await attachSsl(stream, { sslSide: "client", tlsextHostName: "example.com" });
 * console.log(stream.protocol);
 * await stream.write(new TextEncoder().encode("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n"));
 * stream.close();
 * ```
 */
export class SocketStream implements Deno.Conn {
  #readTimeout: number | undefined;
  #writeTimeout: number | undefined;
  // Close as after a fatal alert: half-close, read and drop what still comes for a bounded time, then close.
  #linger = false;
  #lingering = false;
  #lingerBytes = 0;

  readonly #conn: Deno.Conn;
  readonly #inbound: Inbound;
  readonly #outbound: Outbound;
  readonly #internals: StreamInternals;
  // Plain bytes read from the transport and not handed out yet; plain readers and writers take turns.
  #plain = new ByteQueue();
  // Made when a plain read or write first needs them: a TLS stream takes turns in its session instead.
  #plainReadTurns: Turns | null = null;
  #plainWriteTurns: Turns | null = null;
  // Settles when the attachSsl reading the ClientHello is done; null when none is.
  #attached: Promise<void> | null = null;
  // Settles once the reads that waited on a session detachSsl ended have gone on plain; later reads wait.
  #detachedReads: Promise<void> | null = null;
  // How long close() lets queued writes and close_notify drain (0 after a detachSsl that failed).
  #drainMs = CLOSE_DRAIN_MS;
  #plainEnded = false;
  #closing = false;
  #writeClosed = false;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  static {
    // The internals' methods live on one prototype: a set of closures per stream would cost every idle
    // connection about half a KiB. Declared here, they may use the stream's private fields.
    class Internals implements StreamInternals {
      session: TlsSession | null = null;
      detaching: Promise<void> | null = null;
      readonly #stream: SocketStream;
      readonly inbound: Inbound;
      readonly outbound: Outbound;
      constructor(stream: SocketStream, transport: Deno.Conn, outbound: Outbound) {
        this.#stream = stream;
        // The inbound hands its chunks to deliver() below: a method, not a closure per stream.
        this.inbound = new Inbound(transport, this);
        this.outbound = outbound;
      }
      deliver(bytes: Uint8Array | null): void {
        this.#stream.#deliver(bytes);
      }
      takePlain(): Uint8Array {
        return this.#stream.#plain.takeAll();
      }
      restorePlain({ plaintext, rest }: DetachedBytes): void {
        const before = new ByteQueue();
        for (const bytes of [...plaintext, rest]) before.push(bytes);
        this.#stream.#plain.unshift(before.takeAll());
      }
      plainEnded(): boolean {
        return this.#stream.#plainEnded;
      }
      endPlain(): void {
        this.#stream.#plainEnded = true;
      }
      closing(): boolean {
        return this.#stream.#closing;
      }
      plainBytes(): Uint8Array {
        return this.#stream.#plain.view();
      }
      lingerOnClose(): void {
        this.#stream.#linger = true;
      }
      get attaching(): boolean {
        return this.#stream.#attached !== null;
      }
      beginAttach(): () => void {
        const { promise, resolve } = Promise.withResolvers<void>();
        this.#stream.#attached = promise;
        return () => {
          this.#stream.#attached = null;
          resolve();
        };
      }
      get transport(): Deno.Conn {
        return this.#stream.#conn;
      }
      readPlainAfterDetach(into: Uint8Array, deadline: Deadline): Promise<number | null> {
        return this.#stream.#readWith(into, deadline, true);
      }
      readLinePlainAfterDetach(maxLength: number, deadline: Deadline): Promise<string | null> {
        return this.#stream.#readLineWith(maxLength, deadline, true);
      }
      cutOnClose(): void {
        this.#stream.#drainMs = 0;
      }
      afterDetachedReads(waiting: Promise<void> | null): void {
        const stream = this.#stream;
        stream.#detachedReads = waiting;
        waiting?.then(() => {
          if (stream.#detachedReads === waiting) stream.#detachedReads = null;
        });
      }
    }
    makeInternals = (stream, transport, outbound) => new Internals(stream, transport, outbound);
  }

  /**
   * Wraps a connection as a plain stream; the stream owns it from now on.
   *
   * @param options the socket and the timeouts.
   * @throws {TypeError} if `socket` is not a connection (or one a stream already owns), for an unknown option
   *   (a subclass may take its own) and for a timeout that is not a number.
   * @throws {RangeError} for a negative or non-finite timeout.
   */
  constructor(options: SocketStreamOptions) {
    // Options first: a descriptor is taken only by a constructor that will succeed. A subclass may take options
    // of its own and pass them on: only SocketStream itself refuses names it does not know.
    const own = ownOptions(
      "SocketStream",
      options,
      STREAM_OPTION_KEYS,
      new.target === SocketStream ? "refused" : "allowed",
    );
    const readTimeout = checkTimeout("readTimeout", own.readTimeout);
    const writeTimeout = checkTimeout("writeTimeout", own.writeTimeout);
    const given = own.socket as unknown;
    const socket = typeof given === "number" ? new FdTransport(given) : given;
    if (
      typeof socket !== "object" || socket === null ||
      typeof (socket as Transport).read !== "function" || typeof (socket as Transport).write !== "function"
    ) {
      throw new TypeError("SocketStream needs socket: a Deno.Conn or a socket descriptor");
    }
    // Two streams reading one connection would each get part of its bytes.
    if (owners.has(socket)) throw new TypeError("This connection already belongs to a SocketStream");
    this.#readTimeout = readTimeout;
    this.#writeTimeout = writeTimeout;
    this.#conn = socket as Deno.Conn;
    this.#outbound = new Outbound(this.#conn);
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#internals = makeInternals(this, this.#conn, this.#outbound);
    this.#inbound = this.#internals.inbound;
    internals.set(this, this.#internals);
    owners.set(this.#conn, this);
  }

  /**
   * Milliseconds a `read` may wait, or `undefined` for no limit.
   *
   * @throws {RangeError} when set to a number outside 0 to 2147483647 ms; {TypeError} to anything but a number,
   *   `undefined` or `null`.
   */
  get readTimeout(): number | undefined {
    return this.#readTimeout;
  }

  set readTimeout(ms: number | undefined) {
    this.#readTimeout = checkTimeout("readTimeout", ms);
  }

  /**
   * Milliseconds a `write` may wait, or `undefined` for no limit.
   *
   * @throws {RangeError} when set to a number outside 0 to 2147483647 ms; {TypeError} to anything but a number,
   *   `undefined` or `null`.
   */
  get writeTimeout(): number | undefined {
    return this.#writeTimeout;
  }

  set writeTimeout(ms: number | undefined) {
    this.#writeTimeout = checkTimeout("writeTimeout", ms);
  }

  // Bytes from the transport go to whoever owns the stream's input right now.
  #deliver(bytes: Uint8Array | null): void {
    if (this.#lingering) {
      this.#lingerBytes += bytes?.length ?? 0;
      return;
    }
    const session = this.#internals.session;
    if (session) {
      if (bytes === null) session.engine.endTransport();
      else session.engine.feed(bytes);
    } else if (bytes === null) {
      this.#plainEnded = true;
    } else {
      this.#plain.push(bytes);
    }
  }

  get #plainReads(): Turns {
    return this.#plainReadTurns ??= new Turns();
  }

  get #plainWrites(): Turns {
    return this.#plainWriteTurns ??= new Turns();
  }

  #assertOpen(): void {
    if (this.#closing) throw closedError();
  }

  #deadline(kind: "read" | "write", timeoutMs: number | undefined): Deadline {
    // No timeout, nothing to set up: the hot path allocates nothing here.
    if (timeoutMs === undefined) return NO_DEADLINE;
    return new Deadline({
      timeoutMs,
      onTimeout: () => new Deno.errors.TimedOut(`SocketStream ${kind} timed out after ${timeoutMs} ms`),
    });
  }

  /** The `SslPointer` in use, or exactly `null` while the stream is plain or closed. */
  get ssl(): SslPointer | null {
    return this.#internals.session?.objects.ssl ?? null;
  }

  /**
   * The `SslCtxPointer` in use (for a stream made from an `SslPointer`, the
   * SSL_CTX it belongs to, not owned by the stream), or `null`.
   */
  get ctx(): SslCtxPointer | null {
    return this.#internals.session?.objects.ctx ?? null;
  }

  /** The negotiated protocol, e.g. "TLSv1.3", or `null` before the handshake or while plain. */
  get protocol(): string | null {
    return this.#negotiated()?.protocol ?? null;
  }

  /** OpenSSL's name of the negotiated cipher, or `null` before the handshake or while plain. */
  get cipher(): string | null {
    return this.#negotiated()?.cipher ?? null;
  }

  /** The protocol ALPN chose, or `null`. */
  get alpnProtocol(): string | null {
    return this.#negotiated()?.alpnProtocol ?? null;
  }

  /**
   * The OCSP response the server stapled (DER; `openssl ocsp -respin` reads it), or `null`: before the
   * handshake, on a plain or closed stream, when the server stapled none, when this client did not ask
   * (`requestOcsp`, `ocspCheck`), or when the session was resumed. A client with `ocspCheck` has checked it by
   * now. On a server, the response it stapled.
   *
   * @example
   * ```ts
   * import { createSslClientContext, openTcpStream } from "@comm/socket-stream";
   *
   * using context = createSslClientContext({ requestOcsp: true });
   * await using stream = await openTcpStream("example.com", 443, { sslCtx: context });
   * console.log(stream.ocspResponse?.length ?? "no response stapled");
   * ```
   */
  get ocspResponse(): Uint8Array | null {
    const session = this.#internals.session;
    if (this.#closing || !session || !session.engine.handshakeDone || session.objects.ssl.freed) return null;
    return stapledResponse(session.objects.ssl.pointer);
  }

  #negotiated(): NegotiatedParameters | null {
    return this.#closing ? null : this.#internals.session?.negotiated ?? null;
  }

  /**
   * The certificate the peer presented, or `null` (plain stream, no
   * handshake yet, or a client that sent none).
   *
   * @returns the peer's leaf certificate.
   * @throws {Deno.errors.BadResource} after `close()`.
   */
  peerCertificate(): PeerCertificate | null {
    this.#assertOpen();
    const session = this.#internals.session;
    if (!session || !session.engine.handshakeDone) return null;
    return peerCertificateOf(session.objects.ssl.pointer);
  }

  // The SSL of a handshaken session, for inspection.
  #handshakenSsl(what: string): Deno.PointerObject {
    this.#assertOpen();
    const session = this.#internals.session;
    // A session that failed says so (and why), not that it never finished.
    const failure = session?.engine.failure;
    if (failure) throw failedEarlier(failure, what);
    if (!session || !session.engine.handshakeDone) {
      throw new SocketError(`${what} needs a finished TLS handshake`);
    }
    return session.objects.ssl.pointer;
  }

  /**
   * The session to resume later, in DER: pass it as the `session` option of
   * the next `openTcpStream`, `attachSsl` or `createSslClientContext`. With
   * TLS 1.3 the server sends it after the handshake, so read something first;
   * `null` when there is none to resume yet.
   *
   * @returns the session bytes, or `null`.
   * @throws {SocketError} before the handshake or on a plain stream.
   */
  session(): Uint8Array | null {
    return sessionBytesOf(this.#handshakenSsl("session()"));
  }

  /**
   * Whether the handshake resumed the session that was offered.
   *
   * @throws {SocketError} before the handshake or on a plain stream.
   */
  isSessionReused(): boolean {
    return loadOpenssl().libssl.SSL_session_reused(this.#handshakenSsl("isSessionReused()")) === 1;
  }

  /**
   * Keying material exported from the session (RFC 5705 / RFC 8446), in
   * Node's argument order.
   *
   * @param length how many bytes.
   * @param label the label, e.g. "EXPERIMENTAL my-protocol".
   * @param context optional context bytes.
   * @returns `length` bytes both ends compute alike.
   * @throws {RangeError} for a length outside 1 to 65535, or a context over 65535 bytes.
   * @throws {TypeError} for a label with a NUL.
   * @throws {SocketError} before the handshake or on a plain stream.
   */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Uint8Array {
    checkInteger("length", length, 1, MAX_EXPORT);
    if (typeof label !== "string") throw new TypeError("label must be a string");
    if (context !== undefined && !(context instanceof Uint8Array)) {
      throw new TypeError("context must be a Uint8Array");
    }
    if (context !== undefined && context.length > MAX_EXPORT) {
      throw new RangeError(
        `context must be at most ${MAX_EXPORT} bytes (a 16-bit length), got ${context.length}`,
      );
    }
    return exportKeyingMaterialOf(this.#handshakenSsl("exportKeyingMaterial()"), length, label, context);
  }

  // The session of a handshaken TLS stream, for a post-handshake operation.
  #handshakenSession(what: string): TlsSession {
    this.#handshakenSsl(what);
    return this.#internals.session!;
  }

  // A deadline of `timeoutMs` for a post-handshake operation, failing with `Deno.errors.TimedOut`.
  #operationDeadline(what: string, timeoutMs: number | undefined): Deadline {
    const ms = checkTimeout("timeoutMs", timeoutMs);
    return new Deadline({
      timeoutMs: ms,
      onTimeout: () => new Deno.errors.TimedOut(`${what} did not finish within ${ms} ms`),
    });
  }

  /**
   * Sends a TLS 1.3 KeyUpdate: this end encrypts with new keys from now on; with `requestPeer` the peer is
   * asked to update its keys too (it does so when it next reads). It goes out between whole writes.
   *
   * @param options `requestPeer`, and `timeoutMs` for waiting for the write turn.
   * @throws {SocketError} on a TLS 1.2 session, before the handshake, or on a plain stream.
   * @throws {Deno.errors.TimedOut} after `timeoutMs`.
   * @example
   * ```ts
   * import { openTcpStream } from "@comm/socket-stream";
   *
   * await using stream = await openTcpStream("localhost", 8443, { sslCtx: true });
   * await stream.keyUpdate({ requestPeer: true });
   * ```
   */
  async keyUpdate(options: { requestPeer?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const { requestPeer = false, timeoutMs } = ownOptions("keyUpdate()", options, KEY_UPDATE_KEYS);
    checkBoolean("requestPeer", requestPeer);
    // The deadline first: a wrong timeoutMs is named before the stream's state is.
    using deadline = this.#operationDeadline("keyUpdate()", timeoutMs);
    const session = this.#handshakenSession("keyUpdate()");
    await updateKeys(session, requestPeer, deadline);
  }

  /**
   * A server renegotiates this TLS 1.2 session (a new handshake inside it); resolves once the client has gone
   * through it. A read in progress keeps its data; the data this reads meanwhile waits for the next read. A
   * client that refuses fails the connection (module clients refuse unless their context has
   * `allowRenegotiation: true`).
   *
   * @param options `timeoutMs` for the whole renegotiation.
   * @throws {SocketError} on a client, a TLS 1.3 session, before the handshake, or on a plain stream.
   * @throws {SslCondition} if the client refuses or the new handshake fails.
   * @throws {Deno.errors.TimedOut} after `timeoutMs`.
   * @example
   * ```ts
   * import { createSslServerContext, listenSsl } from "@comm/socket-stream";
   *
   * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key", maxProtocolVersion: "tls-v1-2" });
   * for await (const stream of listenSsl({ port: 8443, sslCtx: context })) {
   *   await stream.renegotiate({ timeoutMs: 5000 });
   * }
   * ```
   */
  async renegotiate(options: { timeoutMs?: number } = {}): Promise<void> {
    const { timeoutMs } = ownOptions("renegotiate()", options, TIMEOUT_KEYS);
    using deadline = this.#operationDeadline("renegotiate()", timeoutMs);
    const session = this.#handshakenSession("renegotiate()");
    await renegotiate(session, deadline);
  }

  /**
   * A TLS 1.3 server asks its client for a certificate after the handshake (post-handshake authentication;
   * the client must offer it: `postHandshakeAuth: true` on a module client context) and resolves with it once
   * verified against the server context's `ca` (with its verify callback and pins). A client that sends none
   * rejects this with an `SslCondition` and the connection goes on; a certificate that fails verification fails
   * the connection.
   *
   * @param options `timeoutMs` for the client's answer.
   * @returns the client's verified certificate.
   * @throws {SocketError} on a client, a TLS 1.2 session, before the handshake, or on a plain stream.
   * @throws {TypeError} if the server context trusts no CA for clients.
   * @throws {SslVerificationFailure} if the certificate does not verify.
   * @throws {Deno.errors.TimedOut} after `timeoutMs`.
   * @example
   * ```ts
   * import { createSslServerContext, listenSsl } from "@comm/socket-stream";
   *
   * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key", ca: "..." });
   * for await (const stream of listenSsl({ port: 8443, sslCtx: context })) {
   *   const client = await stream.requestClientCertificate({ timeoutMs: 10_000 });
   *   console.log(client.subject);
   * }
   * ```
   */
  async requestClientCertificate(options: { timeoutMs?: number } = {}): Promise<PeerCertificate> {
    const { timeoutMs } = ownOptions("requestClientCertificate()", options, TIMEOUT_KEYS);
    using deadline = this.#operationDeadline("requestClientCertificate()", timeoutMs);
    const session = this.#handshakenSession("requestClientCertificate()");
    return await requestClientCertificate(session, deadline);
  }

  /**
   * A channel binding of this TLS session, to tie an authentication above TLS (SCRAM, GSS, OAuth token
   * binding) to it: "tls-exporter" (RFC 9266; TLS 1.3, or TLS 1.2 with the extended master secret),
   * "tls-unique" (RFC 5929; TLS 1.2 with the extended master secret) or "tls-server-end-point" (RFC 5929: the
   * hash of the server's certificate). Both ends compute the same bytes.
   *
   * @param type which binding.
   * @returns its bytes.
   * @throws {SocketError} where the binding is not defined or not safe, before the handshake, or on a plain
   *   stream.
   * @example
   * ```ts
   * import { openTcpStream } from "@comm/socket-stream";
   *
   * await using stream = await openTcpStream("localhost", 8443, { sslCtx: true });
   * const binding = stream.channelBinding("tls-exporter"); // 32 bytes for SCRAM-SHA-256-PLUS
   * ```
   */
  channelBinding(type: ChannelBindingType): Uint8Array {
    return channelBindingOf(this.#handshakenSsl("channelBinding()"), type);
  }

  /**
   * Runs the TLS handshake if it has not run yet, LispWorks'
   * `socket-stream-handshake`. Resolves again at once when it is done.
   *
   * @param timeoutMs milliseconds to allow, or none.
   * @returns what was negotiated.
   * @throws {SslHandshakeTimeout} if the time runs out.
   * @throws {SslCondition} the condition that failed the handshake.
   * @throws {SocketError} if the stream is plain.
   */
  async handshake(timeoutMs?: number): Promise<HandshakeInfo> {
    this.#assertOpen();
    const session = this.#internals.session;
    if (!session) {
      throw new SocketError("handshake() needs TLS, and this stream is plain: call attachSsl first");
    }
    const ms = checkTimeout("timeoutMs", timeoutMs);
    using deadline = new Deadline({
      timeoutMs: ms,
      onTimeout: () => new SslHandshakeTimeout(`The TLS handshake did not finish within ${ms} ms`),
    });
    return { ...await session.handshake(deadline) };
  }

  /**
   * Reads into `p`, like `Deno.Conn.read`: the byte count, or `null` at the end
   * (the peer's close_notify on TLS, end of stream on plain).
   *
   * @throws {SslUnexpectedEof} if the transport ends without close_notify.
   * @throws {Deno.errors.TimedOut} after `readTimeout` ms; the stream stays open.
   * @throws {Deno.errors.BadResource} after `close()`.
   */
  read(p: Uint8Array): Promise<number | null> {
    // The common case (TLS, open, no timeout, nothing set aside) hands back the session's own promise: one
    // async layer less per read.
    const session = this.#internals.session;
    if (
      session && !this.#closing && this.#readTimeout === undefined && p instanceof Uint8Array && p.length > 0
    ) {
      return session.read(p);
    }
    if (!(p instanceof Uint8Array)) {
      return Promise.reject(new TypeError(`read() needs a Uint8Array, got ${describe(p)}`));
    }
    return this.#read(p, this.#readTimeout);
  }

  async #read(p: Uint8Array, timeoutMs: number | undefined): Promise<number | null> {
    this.#assertOpen();
    if (p.length === 0) return 0;
    // A plain try/finally rather than `using`: this is the hot path, and without a timeout there is nothing to end.
    const deadline = this.#deadline("read", timeoutMs);
    try {
      return await this.#readWith(p, deadline, false);
    } finally {
      if (deadline !== NO_DEADLINE) deadline[Symbol.dispose]();
    }
  }

  // Reads over whatever the stream is now (TLS, or plain). `afterDetach`: a read that waited on a session
  // detachSsl ended, going on plain ahead of the reads made since.
  async #readWith(p: Uint8Array, deadline: Deadline, afterDetach: boolean): Promise<number | null> {
    for (;;) {
      this.#assertOpen();
      const session = this.#internals.session;
      if (session) return await session.read(p, deadline);
      if (this.#attached) {
        await deadline.race(this.#attached);
        continue;
      }
      const count = await this.#readPlain(p, deadline, afterDetach);
      if (count !== undefined) return count;
    }
  }

  // One plain read in its turn: the count, null at the end, or undefined when TLS began meanwhile (read again).
  async #readPlain(
    p: Uint8Array,
    deadline: Deadline,
    afterDetach: boolean,
  ): Promise<number | null | undefined> {
    if (!afterDetach && this.#detachedReads) await deadline.race(this.#detachedReads);
    await this.#plainReads.take(deadline);
    try {
      for (;;) {
        this.#assertOpen();
        if (this.#internals.session || this.#attached) return undefined;
        if (this.#plain.length > 0) return this.#plain.takeInto(p);
        if (this.#plainEnded) return null;
        await deadline.race(this.#inbound.pull());
      }
    } finally {
      this.#plainReads.release();
    }
  }

  // A readable's pull: no readTimeout (a rejected pull would error the ReadableStream for good, while the
  // stream itself stays open); cancel the reader, or pass a signal to pipeTo, to stop waiting.
  #readForStream(p: Uint8Array): Promise<number | null> {
    const session = this.#internals.session;
    // As in read(): the common case goes straight to the session.
    if (session && !this.#closing && p.length > 0) return session.read(p);
    return this.#read(p, undefined);
  }

  /**
   * Reads the next line, LispWorks' `read-line`: the text up to `\n` (a `\r`
   * before it is dropped too), or what is left at the end, or `null` at the
   * end. Every byte after the line stays buffered for the next read, and on
   * a plain stream for `attachSsl`, so a client that sends `STARTTLS` and its
   * ClientHello in one write loses nothing. Works on TLS streams too.
   *
   * @param options `maxLength`: the longest line accepted, in bytes (default 64 KiB).
   * @returns the line without its terminator, decoded as UTF-8, or `null`.
   * @throws {SocketError} if the line is longer than `maxLength` bytes, or no line end comes within them
   *   (the bytes stay buffered; at most `maxLength` and one read are held while waiting).
   * @throws {Deno.errors.TimedOut} after `readTimeout` ms; the stream stays open.
   * @example An SMTP-style STARTTLS on the server side
   * ```ts
   * import { attachSsl, type SocketStream } from "@comm/socket-stream";
   *
   * async function startTls(stream: SocketStream): Promise<void> {
   *   if ((await stream.readLine())?.toUpperCase() === "STARTTLS") {
   *     await stream.write(new TextEncoder().encode("220 go ahead\r\n"));
   *     await attachSsl(stream, { sslCtx: true });
   *   }
   * }
   * ```
   */
  async readLine(options: { maxLength?: number } = {}): Promise<string | null> {
    const { maxLength = 64 * 1024 } = ownOptions("readLine()", options, READ_LINE_KEYS);
    checkInteger("maxLength", maxLength, 1, Number.MAX_SAFE_INTEGER);
    this.#assertOpen();
    using deadline = this.#deadline("read", this.#readTimeout);
    return await this.#readLineWith(maxLength, deadline, false);
  }

  // readLine over whatever the stream is now; `afterDetach` as in #readWith.
  async #readLineWith(maxLength: number, deadline: Deadline, afterDetach: boolean): Promise<string | null> {
    for (;;) {
      const session = this.#internals.session;
      if (session) return await session.readLine(maxLength, deadline);
      if (this.#attached) {
        await deadline.race(this.#attached);
        continue;
      }
      if (!afterDetach && this.#detachedReads) await deadline.race(this.#detachedReads);
      await this.#plainReads.take(deadline);
      try {
        // Only new bytes are scanned for the line end; holding the turn, nobody else takes any.
        for (let scanned = 0;;) {
          this.#assertOpen();
          if (this.#internals.session || this.#attached) {
            throw new SocketError("readLine: TLS was attached while it waited for a plain line");
          }
          const line = this.#plain.takeLine(maxLength, Math.min(scanned, this.#plain.length));
          if (line !== undefined) return line;
          if (this.#plainEnded) return this.#plain.takeRest();
          scanned = this.#plain.length;
          await deadline.race(this.#inbound.pull());
        }
      } finally {
        this.#plainReads.release();
      }
    }
  }

  /**
   * Writes all of `p`, like `Deno.Conn.write`; resolves with `p.length` once
   * the bytes (encrypted, on TLS) are on the transport.
   *
   * @throws {Deno.errors.TimedOut} after `writeTimeout` ms; the bytes may still go out.
   * @throws {Deno.errors.BrokenPipe} after `closeWrite()`.
   * @throws {Deno.errors.BadResource} after `close()`.
   */
  write(p: Uint8Array): Promise<number> {
    // Only what Deno.Conn takes: any other view would be sent as its raw bytes, or not at all.
    if (!(p instanceof Uint8Array)) {
      return Promise.reject(new TypeError(`write() needs a Uint8Array, got ${describe(p)}`));
    }
    // As in read(): the common case goes straight to the session.
    const session = this.#internals.session;
    if (session && !this.#closing && !this.#writeClosed && this.#writeTimeout === undefined) {
      return session.write(p);
    }
    return this.#write(p);
  }

  async #write(p: Uint8Array): Promise<number> {
    this.#assertOpen();
    if (this.#writeClosed) {
      throw new Deno.errors.BrokenPipe("The SocketStream's write side was closed by closeWrite()");
    }
    const deadline = this.#deadline("write", this.#writeTimeout);
    try {
      for (;;) {
        this.#assertOpen();
        const session = this.#internals.session;
        if (session) return await session.write(p, deadline);
        // While attachSsl reads the ClientHello, a write waits: sent now, it would go out in the clear.
        if (!this.#attached) return await this.#writePlain(p, deadline);
        await deadline.race(this.#attached);
      }
    } finally {
      if (deadline !== NO_DEADLINE) deadline[Symbol.dispose]();
    }
  }

  // Plain writes take turns as TLS ones do: one that times out waiting sends nothing, one that timed out once
  // started still sends all of its bytes (from a copy, made only when there is a timeout to run out).
  async #writePlain(p: Uint8Array, deadline: Deadline): Promise<number> {
    const size = p.byteLength;
    await takeWriteTurn(this.#plainWrites, deadline);
    if (p.byteLength !== size) {
      this.#plainWrites.release();
      throw resizedWriteBuffer(0, size);
    }
    const sending = this.#outbound.enqueue(deadline === NO_DEADLINE ? p : p.slice());
    const release = () => this.#plainWrites.release();
    sending.then(release, release);
    try {
      await deadline.race(sending);
      return size;
    } catch (error) {
      if (error instanceof Deno.errors.TimedOut) throw goesOn(error);
      if (this.#closing && error instanceof Deno.errors.Interrupted) {
        throw new Deno.errors.BadResource("The SocketStream was closed while this write was in flight", {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * Closes the stream and returns at once, like `Deno.Conn.close`: queues
   * close_notify (TLS), lets queued bytes drain, closes the transport and
   * frees what the stream owns. `closed` resolves when all of that is done.
   * Idempotent.
   */
  close(): void {
    if (this.#closing) return;
    // From inside one of this connection's OpenSSL callbacks, OpenSSL is still using the SSL: close once that
    // call has returned.
    if (insideOpensslCallback()) {
      this.#closing = true;
      queueMicrotask(() => {
        this.#closing = false;
        this.close();
      });
      return;
    }
    this.#closing = true;
    this.#finishClose(this.#internals.session);
  }

  async #finishClose(session: TlsSession | null): Promise<void> {
    const started = Date.now();
    if (session) {
      // Writes whose callers still wait stop; those that timed out were promised to go on, and finish first.
      // If they cannot, the transport is cut without close_notify: the peer sees a truncation, not a clean end.
      if (await session.beginClose(this.#drainMs)) {
        try {
          session.sendCloseNotify().catch(() => {});
        } catch {
          // A freed or failed session has nothing to send.
        }
      }
    }
    await settleWithin(this.#outbound.drained(), Math.max(0, this.#drainMs - (Date.now() - started)));
    if (this.#linger || session?.alertSent) await this.#drainAfterAlert();
    this.#inbound.stop();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer or by Deno.
    }
    session?.free();
    this.#internals.session = null;
    this.#plain = new ByteQueue();
    this.#resolveClosed();
  }

  // After a fatal alert: a peer that already sent more would get a TCP reset on close, and might never read
  // the alert. Half-close, read and drop what comes (bounded), then close.
  async #drainAfterAlert(): Promise<void> {
    this.#lingering = true;
    try {
      await this.#conn.closeWrite();
    } catch {
      return;
    }
    const end = Date.now() + LINGER_MS;
    while (!this.#inbound.ended && this.#lingerBytes < LINGER_BYTES && Date.now() < end) {
      await settleWithin(this.#inbound.pull(), end - Date.now());
    }
  }

  /** Resolves when `close()` has finished: transport closed and native objects freed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Ends our sending side: close_notify on TLS (TLS 1.3 half-close), then
   * shuts down the transport's write side. Reading goes on until the peer
   * closes.
   */
  async closeWrite(): Promise<void> {
    this.#assertOpen();
    if (this.#writeClosed) return;
    this.#writeClosed = true;
    const session = this.#internals.session;
    if (session) {
      // Writes in flight finish first: their bytes go out before the close_notify.
      await session.writesDone();
      await session.sendCloseNotify();
    }
    await this.#outbound.drained();
    await this.#conn.closeWrite();
  }

  /** The local address of the transport. */
  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  /** The remote address of the transport. */
  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  /** Sets `TCP_NODELAY` on a TCP transport; nothing on others. */
  setNoDelay(noDelay = true): void {
    (this.#conn as Partial<Deno.TcpConn>).setNoDelay?.(noDelay);
  }

  /** Sets `SO_KEEPALIVE` on a TCP transport; nothing on others. */
  setKeepAlive(keepAlive = true): void {
    (this.#conn as Partial<Deno.TcpConn>).setKeepAlive?.(keepAlive);
  }

  /** Makes the transport keep the event loop alive (the default). */
  ref(): void {
    this.#conn.ref();
  }

  /** Lets the event loop finish while the transport is open. */
  unref(): void {
    this.#conn.unref();
  }

  /**
   * The bytes received, as a byte stream pulled on demand (backpressure: the
   * transport is read only when this stream is read). Cancelling it closes
   * the stream. A default reader gets chunks of up to 64 KiB, each its own
   * memory; a BYOB reader (`getReader({ mode: "byob" })`) gets the bytes in
   * the buffer it brings, which saves a fresh array per chunk and is as fast
   * as `read()`. Its reader is not bound by `readTimeout` (a rejected pull would
   * error it for good): cancel it, or give `pipeTo` a signal.
   *
   * @example Read into one reused buffer
   * ```ts
   * import { openTcpStream } from "@comm/socket-stream";
   *
   * await using stream = await openTcpStream("example.com", 443, { sslCtx: true });
   * const reader = stream.readable.getReader({ mode: "byob" });
   * let buffer = new Uint8Array(64 * 1024);
   * for (let read = await reader.read(buffer); !read.done; read = await reader.read(buffer)) {
   *   console.log(`${read.value.length} bytes`);
   *   buffer = new Uint8Array(read.value.buffer); // the same memory, handed back
   * }
   * ```
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    // Without a reader's own buffer (BYOB), chunks come from an adaptive buffer: a pull that waits on an idle
    // connection holds 1 KiB, not a full chunk.
    if (this.#readable) return this.#readable;
    const chunks = new AdaptiveBuffer(IDLE_READ, STREAM_CHUNK);
    this.#readable = new ReadableStream({
      type: "bytes",
      pull: async (controller) => {
        const request = controller.byobRequest;
        if (request?.view) {
          const view = request.view;
          const count = await this.#readForStream(
            new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
          );
          if (count === null) {
            controller.close();
            request.respond(0);
          } else {
            request.respond(count);
          }
          return;
        }
        const count = await this.#readForStream(chunks.buffer);
        if (count === null) controller.close();
        else controller.enqueue(chunks.take(count));
      },
      cancel: () => this.close(),
    });
    return this.#readable;
  }

  /**
   * Sends what is written to it; each write resolves when the bytes are on
   * the transport. Closing it calls `closeWrite()`, aborting it `close()`; a
   * write that fails closes the stream too, as `Deno.Conn`'s writable does.
   */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream({
      write: async (chunk) => {
        try {
          await this.write(chunk);
        } catch (error) {
          // As Deno.Conn's writable: a write that fails errors the stream and closes the connection, so a pipe
          // whose destination is gone leaks nothing.
          this.close();
          throw error;
        }
      },
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
    return this.#writable;
  }

  /** Closes the stream (as `close()`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes the stream and waits until it is closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#closed;
  }
}
