/**
 * The one place that turns OpenSSL's error queue and `SSL_get_error` into the
 * module's typed errors.
 *
 * @module
 */

import {
  ERR_LIB_SSL,
  SSL_ERROR_SSL,
  SSL_ERROR_SYSCALL,
  SSL_ERROR_ZERO_RETURN,
  SSL_R_CERTIFICATE_VERIFY_FAILED,
  SSL_R_CONNECTION_TYPE_NOT_SET,
  SSL_R_NO_APPLICATION_PROTOCOL,
  SSL_R_NO_CIPHER_MATCH,
  SSL_R_NO_CIPHERS_AVAILABLE,
  SSL_R_NO_PROTOCOLS_AVAILABLE,
  SSL_R_NO_RENEGOTIATION,
  SSL_R_NO_SHARED_CIPHER,
  SSL_R_NO_SHARED_GROUPS,
  SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
  SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
  SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED,
  SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY,
  SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL,
  SSL_R_TLSV1_ALERT_NO_RENEGOTIATION,
  SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
  SSL_R_TLSV1_UNRECOGNIZED_NAME,
  SSL_R_UNEXPECTED_EOF_WHILE_READING,
  SSL_R_UNSUPPORTED_PROTOCOL,
  SSL_R_UNSUPPORTED_SSL_VERSION,
  SSL_R_VERSION_TOO_HIGH,
  SSL_R_VERSION_TOO_LOW,
  X509_V_OK,
} from "./constants.ts";
import { readCString } from "./_cstring.ts";
import { SSL_OP_NO_RENEGOTIATION, TLS1_3_VERSION } from "./constants.ts";

import {
  SslClosed,
  SslCondition,
  type SslConditionInit,
  type SslErrorQueueEntry,
  SslFailure,
  SslUnexpectedEof,
  SslVerificationFailure,
  SslVersionOrCipherMismatch,
} from "./errors.ts";
import { releaseWhenFreed } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";

// err.h: ERR_GET_LIB / ERR_GET_REASON / ERR_SYSTEM_ERROR
const ERR_SYSTEM_FLAG = 0x80000000n;
const ERR_LIB_OFFSET = 23n;
const ERR_LIB_MASK = 0xffn;
const ERR_REASON_MASK = 0x7fffffn;

const VERSION_OR_CIPHER_REASONS = new Set([
  SSL_R_NO_SHARED_CIPHER,
  SSL_R_NO_CIPHERS_AVAILABLE,
  SSL_R_NO_CIPHER_MATCH,
  SSL_R_NO_PROTOCOLS_AVAILABLE,
  SSL_R_NO_SHARED_GROUPS,
  SSL_R_UNSUPPORTED_PROTOCOL,
  SSL_R_UNSUPPORTED_SSL_VERSION,
  SSL_R_VERSION_TOO_HIGH,
  SSL_R_VERSION_TOO_LOW,
  SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
  SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY,
]);

/**
 * The peer's alerts about our certificate (sslerr.h: 1000 plus the alert): bad_certificate,
 * unsupported_certificate, certificate_revoked, certificate_expired, certificate_unknown, unknown_ca,
 * access_denied.
 */
const SSL_R_ALERTS_ABOUT_OUR_CERTIFICATE: readonly number[] = [1042, 1043, 1044, 1045, 1046, 1048, 1049];

interface PackedEntry extends SslErrorQueueEntry {
  readonly libraryCode: number;
  readonly reasonCode: number;
}

/**
 * Empties the error queue; call before each SSL call so no stale entry
 * misleads. Peeking first is a quarter of the cost of clearing an empty queue,
 * and the queue is almost always empty.
 */
export function clearErrors(): void {
  const { libcrypto } = loadOpenssl();
  // 0 or 0n when empty: both falsy.
  if (libcrypto.ERR_peek_error()) libcrypto.ERR_clear_error();
}

// pemerr.h: PEM_R_NO_START_LINE, in ERR_LIB_PEM.
const ERR_LIB_PEM = 9n;
const PEM_R_NO_START_LINE = 108n;

/** The reason code of the first error in the queue (0 if none), without taking it. */
export function firstErrorReason(): number {
  return Number(loadOpenssl().libcrypto.ERR_peek_error() & ERR_REASON_MASK);
}

/** Whether the error queue says only that no more PEM block was found: a clean end of PEM input. */
export function atEndOfPem(): boolean {
  const first = loadOpenssl().libcrypto.ERR_peek_error();
  return first === 0n ||
    (((first >> ERR_LIB_OFFSET) & ERR_LIB_MASK) === ERR_LIB_PEM &&
      (first & ERR_REASON_MASK) === PEM_R_NO_START_LINE);
}

function drainPacked(): PackedEntry[] {
  const { libcrypto } = loadOpenssl();
  const entries: PackedEntry[] = [];
  for (let packed = libcrypto.ERR_get_error(); packed !== 0n; packed = libcrypto.ERR_get_error()) {
    const isSystem = (packed & ERR_SYSTEM_FLAG) !== 0n;
    const libraryCode = isSystem ? 2 : Number((packed >> ERR_LIB_OFFSET) & ERR_LIB_MASK);
    const reasonCode = isSystem ? Number(packed & 0x7fffffffn) : Number(packed & ERR_REASON_MASK);
    entries.push({
      library: readCString(libcrypto.ERR_lib_error_string(packed)) ?? `library ${libraryCode}`,
      reason: readCString(libcrypto.ERR_reason_error_string(packed)) ?? `reason ${reasonCode}`,
      code: Number(packed),
      libraryCode,
      reasonCode,
    });
  }
  return entries;
}

function publicEntries(entries: PackedEntry[]): SslErrorQueueEntry[] {
  return entries.map(({ library, reason, code }) => ({ library, reason, code }));
}

/**
 * The error for a call that returned NULL or 0 outside a connection (making a
 * context, loading a file): the queue's reasons after `what`.
 */
export function callFailed(what: string): SslCondition {
  const entries = drainPacked();
  const reasons = entries.map((entry) => entry.reason).join("; ");
  return new SslCondition(`${what} failed${reasons ? `: ${reasons}` : ""}`, {
    queue: publicEntries(entries),
  });
}

/** What the caller knows when an SSL call fails. */
export interface FailureContext {
  /** The `SSL *` the call was made on (for the verify result). */
  ssl: Deno.PointerValue;
  /** The `SSL_get_error` value. */
  sslErrorCode: number;
  /** "TLS handshake", "TLS read", ... for the message. */
  operation: string;
  /** Whether the transport has reached end of file. */
  transportEof: boolean;
}

/**
 * Drains the queue and picks the error class for a failed `SSL_*` call:
 * verification, version or cipher mismatch, truncation, clean close, or a
 * plain `SslFailure`.
 */
export function sslCallFailed(context: FailureContext): SslCondition {
  const entries = drainPacked();
  const queue = publicEntries(entries);
  const { sslErrorCode, operation } = context;
  const init = { sslErrorCode, queue };
  const sslReasons = entries.filter((entry) => entry.libraryCode === ERR_LIB_SSL);
  const has = (reason: number) => sslReasons.some((entry) => entry.reasonCode === reason);
  const reasonText = entries.map((entry) => entry.reason).join("; ");

  if (sslErrorCode === SSL_ERROR_ZERO_RETURN) {
    return new SslClosed(
      `${operation} failed: the peer sent close_notify and closed the TLS session`,
      init,
    );
  }
  if (
    has(SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
    (sslErrorCode === SSL_ERROR_SYSCALL && entries.length === 0 && context.transportEof)
  ) {
    const what = operation === "TLS handshake"
      ? "the peer closed the connection in the middle of the handshake (is it a TLS peer?)"
      : "the peer closed the connection without sending close_notify, so the data may be truncated";
    return new SslUnexpectedEof(`${operation} failed: ${what}`, init);
  }
  const { libssl, libcrypto } = loadOpenssl();
  const server = context.ssl !== null && libssl.SSL_is_server(context.ssl) === 1;
  const note = takeVerifyNote(context.ssl);
  if (note?.code !== undefined && !has(SSL_R_CERTIFICATE_VERIFY_FAILED)) {
    const verifyMessage = readCString(libcrypto.X509_verify_cert_error_string(BigInt(note.code))) ??
      `error ${note.code}`;
    return new SslVerificationFailure(
      `${operation} failed: the ${
        server ? "client" : "server"
      }'s certificate did not verify: ${verifyMessage} ` +
        `(X509 error ${note.code}); ${note.text}`,
      { ...init, verifyCode: note.code, verifyMessage },
    );
  }
  // A callback of the module's (PSK, certificate choice) that failed the handshake said why.
  if (note !== undefined && note.code === undefined && !has(SSL_R_CERTIFICATE_VERIFY_FAILED)) {
    return new SslFailure(`${operation} failed: ${note.text}`, init);
  }
  if (has(SSL_R_CERTIFICATE_VERIFY_FAILED)) {
    const verifyCode = context.ssl === null ? -1 : Number(libssl.SSL_get_verify_result(context.ssl));
    const verifyMessage = verifyCode === X509_V_OK || verifyCode < 0
      ? "certificate verify failed"
      : readCString(libcrypto.X509_verify_cert_error_string(BigInt(verifyCode))) ?? `error ${verifyCode}`;
    const advice = verifyAdvice(verifyCode, server);
    const who = server ? "client" : "server";
    return new SslVerificationFailure(
      `${operation} failed: the ${who}'s certificate did not verify: ${verifyMessage} ` +
        `(X509 error ${verifyCode}); ${note?.text ?? advice}`,
      { ...init, verifyCode, verifyMessage },
    );
  }
  if (has(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)) {
    return new SslFailure(
      `${operation} failed: the client sent no certificate, and this server requires one (requireClientCert)`,
      init,
    );
  }
  if (has(SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)) {
    return new SslFailure(
      `${operation} failed: the server requires a client certificate (certificate_required alert); give the ` +
        "client context cert and key",
      init,
    );
  }
  const aboutOurs = sslReasons.find((entry) => SSL_R_ALERTS_ABOUT_OUR_CERTIFICATE.includes(entry.reasonCode));
  if (aboutOurs) {
    return new SslFailure(
      `${operation} failed: the ${
        server ? "client" : "server"
      } refused our certificate (${aboutOurs.reason}); ${refusalAdvice(aboutOurs.reasonCode, server)}`,
      init,
    );
  }
  if (has(SSL_R_NO_RENEGOTIATION) || has(SSL_R_TLSV1_ALERT_NO_RENEGOTIATION)) {
    return new SslFailure(
      `${operation} failed: renegotiation was refused (${
        // SSL_renegotiate refuses with this reason on an SSL that may not; elsewhere it is the peer's answer.
        has(SSL_R_NO_RENEGOTIATION) && operation === "TLS renegotiation"
          ? "by this end"
          : "by the peer"}); TLS 1.2 renegotiation is off unless both ends allow it`,
      init,
    );
  }
  if (has(SSL_R_TLSV1_UNRECOGNIZED_NAME)) {
    return new SslFailure(
      `${operation} failed: the server does not serve the name this client asked for (unrecognized_name ` +
        "alert); check tlsextHostName",
      init,
    );
  }
  if (has(SSL_R_CONNECTION_TYPE_NOT_SET)) {
    return new SslFailure(
      `${operation} failed: the SSL is neither a client nor a server yet; pass sslSide "client" or "server", ` +
        "or call SSL_set_connect_state / SSL_set_accept_state on it (in sslConfigureCallback)",
      init,
    );
  }
  // ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED: its code carries flags that differ between releases; its text does not.
  if (entries.some((entry) => entry.reason === "called a function you should not call")) {
    return new SslFailure(
      `${operation} failed: this SSL_CTX's method cannot take this role (a context made for sslSide ` +
        `"server" cannot connect, one made for "client" cannot accept); make it with the right sslSide or "both"`,
      init,
    );
  }
  if (has(SSL_R_NO_APPLICATION_PROTOCOL) || has(SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)) {
    return new SslFailure(
      `${operation} failed: no application protocol in common (ALPN); ` +
        "the two ends offered disjoint alpnProtocols lists",
      init,
    );
  }
  if (has(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)) {
    // The generic refusal: before the ServerHello it means no version or cipher in common; once a cipher was
    // agreed it is something else (a client certificate the server wanted, a policy of the peer).
    const agreed = context.ssl !== null &&
      (libssl.SSL_get_current_cipher(context.ssl) !== null ||
        libssl.SSL_get_pending_cipher(context.ssl) !== null);
    if (!agreed) {
      return new SslVersionOrCipherMismatch(
        `${operation} failed: the peer refused the handshake (handshake_failure alert) before agreeing on a ` +
          "version and cipher; the two ends probably share no protocol version or cipher",
        init,
      );
    }
    const tls13 = context.ssl !== null && libssl.SSL_version(context.ssl) === TLS1_3_VERSION;
    // At TLS 1.3 a server judges a client's certificate after the client's Finished: the client's handshake
    // is done by then, and the verdict comes to its first read or write.
    if (operation !== "TLS handshake" && !server && tls13) {
      return new SslFailure(
        `${operation} failed: the server ended the connection (handshake_failure alert) right after the ` +
          "handshake; at TLS 1.3 that is how a server rejects the client's certificate (or its absence)",
        init,
      );
    }
    // After the first handshake (a read or a write failed), it refused a renegotiation: ours, or our refusal.
    if (
      operation !== "TLS handshake" && !server && context.ssl !== null &&
      (libssl.SSL_get_options(context.ssl) & SSL_OP_NO_RENEGOTIATION) !== 0n
    ) {
      return new SslFailure(
        `${operation} failed: the server renegotiated, this client refused (a client context allows it with ` +
          "allowRenegotiation: true), and the server ended the connection (handshake_failure alert)",
        init,
      );
    }
    if (operation !== "TLS handshake" && server) {
      return new SslFailure(
        `${operation} failed: the client ended the connection (handshake_failure alert) over a renegotiation: ` +
          "it refused this server's renegotiate(), or it asked to renegotiate itself, which servers refuse " +
          "(OpenSSL's default)",
        init,
      );
    }
    if (operation !== "TLS handshake") {
      return new SslFailure(
        `${operation} failed: the peer refused the renegotiation (handshake_failure alert); one end does not ` +
          "allow TLS 1.2 renegotiation, or it wanted a client certificate this end did not give",
        init,
      );
    }
    return new SslFailure(
      `${operation} failed: the peer refused the handshake (handshake_failure alert) after agreeing on a ` +
        "version and cipher; it may require a client certificate, or refuse the one it got",
      init,
    );
  }
  const mismatch = sslReasons.find((entry) => VERSION_OR_CIPHER_REASONS.has(entry.reasonCode));
  if (mismatch && server && context.ssl !== null && libssl.SSL_get_certificate(context.ssl) === null) {
    return new SslFailure(
      `${operation} failed: this server has no certificate and key, so it can agree on no cipher; load them ` +
        "(certFile and keyFile, cert and key, or in ctxConfigureCallback)",
      init,
    );
  }
  if (mismatch) {
    return new SslVersionOrCipherMismatch(
      `${operation} failed: ${mismatch.reason}; the two ends share no protocol version or cipher`,
      init,
    );
  }
  if (sslErrorCode === SSL_ERROR_SSL || entries.length > 0) {
    return new SslFailure(`${operation} failed: ${reasonText || "protocol error"}`, init);
  }
  return new SslCondition(
    sslErrorCode === SSL_ERROR_SYSCALL
      ? `${operation} failed: OpenSSL stopped (SSL_ERROR_SYSCALL) without putting a reason on its error queue; ` +
        "seen when a TLS 1.2 renegotiation meets application data sent the other way at the same moment"
      : `${operation} failed: SSL_get_error returned ${sslErrorCode}`,
    init,
  );
}

const nameCodes = new Set([62, 63, 64]); // X509_V_ERR_HOSTNAME_MISMATCH, _EMAIL_, _IP_ADDRESS_MISMATCH
// X509 codes that say the chain does not reach a trusted CA.
const trustCodes = new Set([2, 18, 19, 20, 21, 27]);

/** What to do about a certificate that failed verification with `code` (this end verified it). */
function verifyAdvice(code: number, server: boolean): string {
  if (nameCodes.has(code)) {
    return "connect to the name the certificate is for, or pass that name as tlsextHostName";
  }
  if (trustCodes.has(code)) {
    return server
      ? "trust the CA that issued it (ca, opensslTrustedFile or opensslTrustedDirectory) or let the client use " +
        "another certificate"
      : "trust its CA (ca, SSL_CERT_FILE or opensslTrustedFile) or have the server present a valid certificate";
  }
  if (code === 9 || code === 10) {
    return "the certificate is outside its validity period (or this clock is wrong)";
  }
  if (code === 23) return "the certificate is revoked: it must not be used";
  return `the ${server ? "client" : "server"} must present a certificate this end accepts`;
}

/** What the peer's alert about our certificate (reason 1000 + alert) asks of us. */
function refusalAdvice(reasonCode: number, server: boolean): string {
  switch (reasonCode - 1000) {
    case 48: // unknown_ca
      return "it must trust the CA that issued it";
    case 44: // certificate_revoked
      return "it holds our certificate revoked (a CRL or OCSP): this end needs a new certificate";
    case 45: // certificate_expired
      return "our certificate is outside its validity period (or the peer's clock is wrong)";
    case 49: // access_denied
      return "its policy refuses us";
    default:
      return `it may not trust the CA that issued it, or its policy (pins, a verify callback) refused it${
        server ? "" : "; or it wanted another client certificate"
      }`;
  }
}

// What a callback of the module's found, by SSL address, for the error that follows.
const verifyNotes = new Map<bigint, { text: string; code?: number }>();

/**
 * Records why one of the module's callbacks refused the peer of `ssl`: the error then says it, and with a
 * `code` (an X509 one) it is an `SslVerificationFailure` with that code whatever OpenSSL's reason.
 */
export function noteVerifyFailure(ssl: Deno.PointerValue, text: string, code?: number): void {
  if (ssl === null) return;
  const address = Deno.UnsafePointer.value(ssl);
  // A note nobody took (the handshake went on) must not describe a later SSL at the same address.
  if (!verifyNotes.has(address)) releaseWhenFreed("ssl", ssl, () => verifyNotes.delete(address));
  verifyNotes.set(address, { text, code });
}

function takeVerifyNote(ssl: Deno.PointerValue): { text: string; code?: number } | undefined {
  if (ssl === null) return undefined;
  const address = Deno.UnsafePointer.value(ssl);
  const note = verifyNotes.get(address);
  verifyNotes.delete(address);
  return note;
}

/**
 * The error for a call on a session that had already failed: the same class, naming this call and the
 * first failure (its `cause`), so a write after a failed read does not say "TLS read failed". Errors that
 * are not `SslCondition`s come back as they are.
 */
export function failedEarlier<E extends Error>(first: E, operation: string): E {
  if (!(first instanceof SslCondition)) return first;
  const message = `${operation} failed: the TLS session had already failed (${first.message})`;
  const init: SslConditionInit = { sslErrorCode: first.sslErrorCode, queue: first.queue, cause: first };
  if (first instanceof SslVerificationFailure) {
    return new SslVerificationFailure(message, {
      ...init,
      verifyCode: first.verifyCode,
      verifyMessage: first.verifyMessage,
    }) as unknown as E;
  }
  const Class = first.constructor as new (message: string, init: SslConditionInit) => SslCondition;
  return new Class(message, init) as unknown as E;
}
