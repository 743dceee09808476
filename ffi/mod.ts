/**
 * Raw OpenSSL for the pointers the module hands to callbacks: the loaded,
 * typed symbol tables of libssl and libcrypto, the constants, the header
 * macros as functions, and a count of live native objects.
 *
 * C names stay verbatim here. Return codes are OpenSSL's; nothing here
 * throws on a failed call.
 *
 * @example Load a certificate in a ctxConfigureCallback
 * ```ts
 * import { openTcpStream } from "@comm/socket-stream";
 * import { loadOpenssl } from "@comm/socket-stream/ffi";
 *
 * const { libssl } = loadOpenssl();
 * const stream = await openTcpStream("localhost", 8443, {
 *   sslCtx: true,
 *   ctxConfigureCallback: (ctx) => {
 *     libssl.SSL_CTX_load_verify_locations(ctx.pointer, new TextEncoder().encode("ca.pem\0"), null);
 *   },
 * });
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export {
  BIO_pending,
  BIO_set_mem_eof_return,
  SSL_CTX_add1_chain_cert,
  SSL_CTX_get_max_proto_version,
  SSL_CTX_get_min_proto_version,
  SSL_CTX_set1_groups_list,
  SSL_CTX_set_dh_auto,
  SSL_CTX_set_max_proto_version,
  SSL_CTX_set_min_proto_version,
  SSL_CTX_set_mode,
  SSL_CTX_set_session_cache_mode,
  SSL_set1_groups_list,
  SSL_set1_verify_cert_store,
  SSL_set_tlsext_host_name,
} from "./macros.ts";
export { loadOpenssl, type OpensslLibraries } from "./library.ts";
export { type Libcrypto, libcryptoSymbols, type Libssl, libsslSymbols } from "./symbols.ts";
export { liveNativeObjects } from "./pointers.ts";
