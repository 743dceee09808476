/**
 * The error classes: LispWorks' socket and SSL conditions as `Error`
 * subclasses.
 *
 * @module
 */

/** One entry of OpenSSL's error queue. */
export interface SslErrorQueueEntry {
  /** The library that raised it, e.g. "SSL routines". */
  readonly library: string;
  /** The reason text, e.g. "certificate verify failed". */
  readonly reason: string;
  /** The packed error code (`ERR_get_error`'s value). */
  readonly code: number;
}

/** What an `SslCondition` carries besides its message. */
export interface SslConditionInit extends ErrorOptions {
  /** The `SSL_get_error` value, when there is one. */
  sslErrorCode?: number;
  /** The drained OpenSSL error queue. */
  queue?: readonly SslErrorQueueEntry[];
}

/**
 * The root of the module's errors, LispWorks' `socket-error`.
 *
 * @example
 * ```ts
 * import { openTcpStream, SocketError } from "@comm/socket-stream";
 *
 * try {
 *   await openTcpStream("127.0.0.1", 1, { sslCtx: true });
 * } catch (error) {
 *   console.log(error instanceof SocketError || error instanceof Deno.errors.ConnectionRefused);
 * }
 * ```
 */
export class SocketError extends Error {
  /** Makes one with a message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An OpenSSL failure, LispWorks' `ssl-condition`: carries `sslErrorCode` and
 * the drained error `queue`.
 *
 * @example
 * ```ts
 * import { makeSslCtx, SslCondition } from "@comm/socket-stream";
 *
 * try {
 *   makeSslCtx({ sslCtx: "v2" });
 * } catch (error) {
 *   console.log(error instanceof SslCondition); // true
 * }
 * ```
 */
export class SslCondition extends SocketError {
  /** The `SSL_get_error` value, or `undefined` when none applies. */
  readonly sslErrorCode: number | undefined;
  /** The OpenSSL error queue at the time of the failure, oldest first. */
  readonly queue: readonly SslErrorQueueEntry[];

  /** Makes one with a message, the `SSL_get_error` value and the queue. */
  constructor(message: string, init: SslConditionInit = {}) {
    super(message, init);
    this.sslErrorCode = init.sslErrorCode;
    this.queue = init.queue ?? [];
  }
}

/**
 * A TLS protocol failure (`SSL_ERROR_SSL`), LispWorks' `ssl-failure`.
 *
 * @example
 * ```ts
 * import { SslFailure } from "@comm/socket-stream";
 *
 * const failure = new SslFailure("TLS failed: bad record mac");
 * console.log(failure.name); // "SslFailure"
 * ```
 */
export class SslFailure extends SslCondition {}

/** What an `SslVerificationFailure` carries. */
export interface SslVerificationFailureInit extends SslConditionInit {
  /** The X509 verification result (`X509_V_ERR_*`). */
  verifyCode: number;
  /** OpenSSL's text for `verifyCode`. */
  verifyMessage: string;
}

/**
 * The peer's certificate did not verify, LispWorks' `ssl-verification-failure`.
 * `verifyCode` is the X509 code (`X509_V_ERR_*`), `verifyMessage` its text.
 *
 * @example
 * ```ts
 * import { openTcpStream, SslVerificationFailure } from "@comm/socket-stream";
 *
 * try {
 *   await openTcpStream("self-signed.example", 443, { sslCtx: true });
 * } catch (error) {
 *   if (error instanceof SslVerificationFailure) console.log(error.verifyCode, error.verifyMessage);
 * }
 * ```
 */
export class SslVerificationFailure extends SslFailure {
  /** The X509 verification result, e.g. 62 for `X509_V_ERR_HOSTNAME_MISMATCH`. */
  readonly verifyCode: number;
  /** OpenSSL's text for `verifyCode`, e.g. "hostname mismatch". */
  readonly verifyMessage: string;

  /** Makes one with a message and the X509 result. */
  constructor(message: string, init: SslVerificationFailureInit) {
    super(message, init);
    this.verifyCode = init.verifyCode;
    this.verifyMessage = init.verifyMessage;
  }
}

/**
 * The handshake did not finish within `handshakeTimeout`, LispWorks'
 * `ssl-handshake-timeout`.
 *
 * @example
 * ```ts
 * import { SslHandshakeTimeout } from "@comm/socket-stream";
 *
 * const timeout = new SslHandshakeTimeout("TLS handshake did not finish within 50 ms");
 * console.log(timeout instanceof Error); // true
 * ```
 */
export class SslHandshakeTimeout extends SslCondition {}

/**
 * The peer sent close_notify where more data was required (for instance in
 * the middle of a handshake), LispWorks' `ssl-closed`. A close_notify between
 * records is a clean end of stream, not this error.
 *
 * @example
 * ```ts
 * import { SslClosed } from "@comm/socket-stream";
 *
 * console.log(new SslClosed("the peer closed the TLS session").name); // "SslClosed"
 * ```
 */
export class SslClosed extends SslCondition {}

/**
 * The transport ended without the peer's close_notify: the data may have
 * been truncated by an attacker or a crash.
 *
 * @example
 * ```ts
 * import { SslUnexpectedEof } from "@comm/socket-stream";
 *
 * console.log(new SslUnexpectedEof("truncated").name); // "SslUnexpectedEof"
 * ```
 */
export class SslUnexpectedEof extends SslCondition {}

/**
 * The two ends share no protocol version or cipher, LispWorks'
 * `ssl-version-or-cipher-mismatch`.
 *
 * @example
 * ```ts
 * import { SslVersionOrCipherMismatch } from "@comm/socket-stream";
 *
 * console.log(new SslVersionOrCipherMismatch("no shared cipher").name);
 * ```
 */
export class SslVersionOrCipherMismatch extends SslFailure {}
