/**
 * LispWorks 8's `ssl-connection-*` functions on a handshaken stream.
 *
 * @module
 */

import type { PeerCertificate } from "../ffi/certificate.ts";
import {
  peerChainOf,
  protocolVersionOf,
  type SslProtocolVersion,
  type VerifyResult,
  verifyResultOf,
} from "../ffi/connection_info.ts";
import { SocketError } from "../ffi/errors.ts";
import { SocketStream } from "./socket_stream.ts";

function sslOf(stream: SocketStream, what: string): Deno.PointerObject {
  if (!(stream instanceof SocketStream)) throw new TypeError(`${what} needs a SocketStream`);
  const ssl = stream.ssl;
  if (ssl === null || stream.protocol === null) {
    throw new SocketError(`${what} needs a stream with a finished TLS handshake`);
  }
  return ssl.pointer;
}

/**
 * The negotiated protocol version, LispWorks' `ssl-connection-protocol-version`.
 *
 * @param stream a handshaken TLS stream.
 * @returns "tls-v1-3", "tls-v1-2", "tls-v1-1" or "tls-v1".
 * @throws {SocketError} on a plain stream or before the handshake.
 * @example
 * ```ts
 * import { openTcpStream, sslConnectionProtocolVersion } from "@comm/socket-stream";
 *
 * await using stream = await openTcpStream("example.com", 443, { sslCtx: true });
 * console.log(sslConnectionProtocolVersion(stream)); // "tls-v1-3"
 * ```
 */
export function sslConnectionProtocolVersion(stream: SocketStream): SslProtocolVersion {
  const version = protocolVersionOf(sslOf(stream, "sslConnectionProtocolVersion"));
  if (version === null) throw new SocketError("sslConnectionProtocolVersion: unknown protocol version");
  return version;
}

/**
 * OpenSSL's name of the negotiated cipher.
 *
 * @param stream a handshaken TLS stream.
 * @returns e.g. "TLS_AES_256_GCM_SHA384".
 * @throws {SocketError} on a plain stream or before the handshake.
 * @example
 * ```ts
 * import { openTcpStream, sslConnectionCipher } from "@comm/socket-stream";
 *
 * await using stream = await openTcpStream("example.com", 443, { sslCtx: true });
 * console.log(sslConnectionCipher(stream));
 * ```
 */
export function sslConnectionCipher(stream: SocketStream): string {
  sslOf(stream, "sslConnectionCipher");
  return stream.cipher!;
}

/**
 * The protocol ALPN chose, or `null` when none was negotiated.
 *
 * @param stream a handshaken TLS stream.
 * @returns e.g. "h2", or `null`.
 * @throws {SocketError} on a plain stream or before the handshake.
 * @example
 * ```ts
 * import { createSslClientContext, openTcpStream, sslConnectionAlpnProtocol } from "@comm/socket-stream";
 *
 * using context = createSslClientContext({ alpnProtocols: ["h2", "http/1.1"] });
 * await using stream = await openTcpStream("example.com", 443, { sslCtx: context });
 * console.log(sslConnectionAlpnProtocol(stream));
 * ```
 */
export function sslConnectionAlpnProtocol(stream: SocketStream): string | null {
  sslOf(stream, "sslConnectionAlpnProtocol");
  return stream.alpnProtocol;
}

/**
 * The peer's certificates, leaf first and root last, LispWorks'
 * `ssl-connection-get-peer-certificates-data`: the verified chain when the
 * peer was verified, else the chain as sent.
 *
 * @param stream a handshaken TLS stream.
 * @returns the certificates; empty when the peer sent none.
 * @throws {SocketError} on a plain stream or before the handshake.
 * @example
 * ```ts
 * import { openTcpStream, sslConnectionGetPeerCertificatesData } from "@comm/socket-stream";
 *
 * await using stream = await openTcpStream("example.com", 443, { sslCtx: true });
 * for (const certificate of sslConnectionGetPeerCertificatesData(stream)) console.log(certificate.subject);
 * ```
 */
export function sslConnectionGetPeerCertificatesData(stream: SocketStream): PeerCertificate[] {
  return peerChainOf(sslOf(stream, "sslConnectionGetPeerCertificatesData"));
}

/**
 * How the peer's certificate fared, LispWorks' `ssl-connection-verify`: useful
 * when verification was set to "never" and the decision is yours.
 *
 * @param stream a handshaken TLS stream.
 * @returns `{ ok, code, message }` (`code` 0 is `X509_V_OK`).
 * @throws {SocketError} on a plain stream or before the handshake.
 * @example
 * ```ts
 * import { openTcpStream, sslConnectionVerify } from "@comm/socket-stream";
 *
 * await using stream = await openTcpStream("example.com", 443, { sslCtx: true });
 * console.log(sslConnectionVerify(stream)); // { ok: true, code: 0, message: "ok" }
 * ```
 */
export function sslConnectionVerify(stream: SocketStream): VerifyResult {
  return verifyResultOf(sslOf(stream, "sslConnectionVerify"));
}
