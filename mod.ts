/**
 * OpenSSL's TLS for Deno through FFI, behind the API of LispWorks' COMM
 * socket streams: `openTcpStream`, `makeInstance`, `attachSsl` and
 * `makeSslCtx`, with `sslCtx`, `sslSide`, `ctxConfigureCallback` and
 * `sslConfigureCallback` meaning what LispWorks' User Guide (22.4) says.
 *
 * Needs `--allow-ffi` (OpenSSL) and `--allow-net` (sockets); optionally
 * `--allow-read` (files you read through Deno), `--allow-env` (`LIBSSL_PATH`,
 * `LIBCRYPTO_PATH`) and `--allow-write` (a context's `keylogFile`).
 *
 * @example A TLS client
 * ```ts
 * import { openTcpStream } from "@comm/socket-stream";
 *
 * await using stream = await openTcpStream("example.com", 443, { sslCtx: true });
 * console.log(stream.protocol, stream.cipher); // "TLSv1.3" "TLS_AES_256_GCM_SHA384"
 * ```
 *
 * @module
 */

export {
  attachSsl,
  detachSsl,
  type DetachSslOptions,
  type SslCtxSpec,
  type SslOptions,
} from "./streams/attach_ssl.ts";
export { makeInstance, type SocketStreamInit } from "./streams/make_instance.ts";
export { openTcpStream, type OpenTcpStreamOptions } from "./streams/open_tcp_stream.ts";
export { type HandshakeInfo, SocketStream, type SocketStreamOptions } from "./streams/socket_stream.ts";
export {
  createSslSocketStream,
  type CreateSslSocketStreamOptions,
} from "./streams/create_ssl_socket_stream.ts";
export { type ServerSummary, startUpServer, type StartUpServerOptions } from "./streams/start_up_server.ts";
export { listenSsl, type ListenSslOptions, type SslListener } from "./streams/listen_ssl.ts";
export {
  type ClientHelloCallback,
  createSslClientContext,
  createSslServerContext,
  type SniContexts,
  SslAbstractContext,
  type SslClientContextOptions,
  type SslContextOptions,
  type SslServerContextOptions,
} from "./streams/abstract_context.ts";
export {
  sslConnectionAlpnProtocol,
  sslConnectionCipher,
  sslConnectionGetPeerCertificatesData,
  sslConnectionProtocolVersion,
  sslConnectionVerify,
} from "./streams/ssl_connection.ts";
export type { SslProtocolVersion, VerifyResult } from "./ffi/connection_info.ts";
export {
  getVerificationMode,
  setVerificationMode,
  type VerificationFlag,
  type VerificationMode,
  type VerifyCallback,
  type VerifyFlags,
  type VerifyInfo,
} from "./ffi/verification.ts";
export { setSslCtxOptions, type SslCtxOptions } from "./ffi/options.ts";
export { setCipherList, setCiphersuites, setGroups } from "./ffi/ciphers.ts";
export { type PasswordCallback, type PasswordOptions, setSslCtxPasswordCallback } from "./ffi/password.ts";
export { DhParams, readDhparams, setSslCtxDh } from "./ffi/dh.ts";
export {
  doRandSeed,
  ensureSsl,
  type OpensslLibraries,
  setSslLibraryPath,
  type SslLibraryPath,
} from "./ffi/library.ts";
// What ensureSsl returns refers to these; ffi/mod.ts has the rest of the raw OpenSSL surface.
export { type Libcrypto, libcryptoSymbols, type Libssl, libsslSymbols } from "./ffi/symbols.ts";
export {
  destroySsl,
  destroySslCtx,
  makeSslCtx,
  type MakeSslCtxOptions,
  sslNew,
  type SslProtocol,
  type SslSide,
} from "./ffi/ssl_ctx.ts";
export { type CtxOrSsl, NativePointer, SslCtxPointer, SslPointer } from "./ffi/pointers.ts";
export { opensslVersion, type OpensslVersionInfo } from "./ffi/version.ts";
export type { PeerCertificate, PublicKeyInfo } from "./ffi/certificate.ts";
export type { PemOrDer } from "./ffi/_pem.ts";
export type { OcspCheck, OcspResponseSource } from "./ffi/_ocsp.ts";
export type { PskIdentity } from "./ffi/_psk.ts";
export type { ClientHelloInfo } from "./streams/_client_hello.ts";
export type {
  CertificateRequestInfo,
  CertRequestCallback,
  ClientCertificate,
} from "./ffi/_client_certificates.ts";
export type { MessageCallback, MessageDirection } from "./ffi/_messages.ts";
export type { ChannelBindingType } from "./streams/_post_handshake.ts";
export {
  SocketError,
  SslClosed,
  SslCondition,
  type SslConditionInit,
  type SslErrorQueueEntry,
  SslFailure,
  SslHandshakeTimeout,
  SslUnexpectedEof,
  SslVerificationFailure,
  type SslVerificationFailureInit,
  SslVersionOrCipherMismatch,
} from "./ffi/errors.ts";
