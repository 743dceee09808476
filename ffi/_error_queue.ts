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
  SSL_R_NO_APPLICATION_PROTOCOL,
  SSL_R_NO_CIPHER_MATCH,
  SSL_R_NO_CIPHERS_AVAILABLE,
  SSL_R_NO_PROTOCOLS_AVAILABLE,
  SSL_R_NO_SHARED_CIPHER,
  SSL_R_NO_SHARED_GROUPS,
  SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
  SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY,
  SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL,
  SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
  SSL_R_UNEXPECTED_EOF_WHILE_READING,
  SSL_R_UNSUPPORTED_PROTOCOL,
  SSL_R_UNSUPPORTED_SSL_VERSION,
  SSL_R_VERSION_TOO_HIGH,
  SSL_R_VERSION_TOO_LOW,
  X509_V_OK,
} from "./constants.ts";
import { readCString } from "./_cstring.ts";
import {
  SslClosed,
  SslCondition,
  type SslErrorQueueEntry,
  SslFailure,
  SslUnexpectedEof,
  SslVerificationFailure,
  SslVersionOrCipherMismatch,
} from "./errors.ts";
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
  SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
]);

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
  if (has(SSL_R_CERTIFICATE_VERIFY_FAILED)) {
    const { libssl, libcrypto } = loadOpenssl();
    const verifyCode = context.ssl === null ? -1 : Number(libssl.SSL_get_verify_result(context.ssl));
    const verifyMessage = verifyCode === X509_V_OK || verifyCode < 0
      ? "certificate verify failed"
      : readCString(libcrypto.X509_verify_cert_error_string(BigInt(verifyCode))) ?? `error ${verifyCode}`;
    return new SslVerificationFailure(
      `${operation} failed: the peer's certificate did not verify: ${verifyMessage} ` +
        `(X509 error ${verifyCode}); trust its CA (SSL_CERT_FILE) or fix the host name`,
      { ...init, verifyCode, verifyMessage },
    );
  }
  if (has(SSL_R_NO_APPLICATION_PROTOCOL) || has(SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)) {
    return new SslFailure(
      `${operation} failed: no application protocol in common (ALPN); ` +
        "the two ends offered disjoint alpnProtocols lists",
      init,
    );
  }
  const mismatch = sslReasons.find((entry) => VERSION_OR_CIPHER_REASONS.has(entry.reasonCode));
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
    `${operation} failed: SSL_get_error returned ${sslErrorCode}`,
    init,
  );
}
