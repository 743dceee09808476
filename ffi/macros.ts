/**
 * OpenSSL's header macros as small named functions over `SSL_ctrl`,
 * `SSL_CTX_ctrl` and `BIO_ctrl`. Each takes raw pointers and returns what the
 * macro returns; none of them throws.
 *
 * @module
 */

import {
  BIO_C_SET_BUF_MEM_EOF_RETURN,
  BIO_CTRL_PENDING,
  SSL_CTRL_CHAIN_CERT,
  SSL_CTRL_GET_MAX_PROTO_VERSION,
  SSL_CTRL_GET_MIN_PROTO_VERSION,
  SSL_CTRL_MODE,
  SSL_CTRL_SET_DH_AUTO,
  SSL_CTRL_SET_GROUPS_LIST,
  SSL_CTRL_SET_MAX_PROTO_VERSION,
  SSL_CTRL_SET_MIN_PROTO_VERSION,
  SSL_CTRL_SET_SESS_CACHE_MODE,
  SSL_CTRL_SET_TLSEXT_HOSTNAME,
  SSL_CTRL_SET_VERIFY_CERT_STORE,
  TLSEXT_NAMETYPE_host_name,
} from "./constants.ts";
import { cString } from "./_cstring.ts";
import { loadOpenssl } from "./library.ts";

/**
 * `SSL_CTX_set_min_proto_version(ctx, version)`: `SSL_CTX_ctrl(ctx, 123, version, NULL)`.
 *
 * @param ctx an `SSL_CTX *`.
 * @param version `TLS1_2_VERSION` and so on, or 0 for the lowest supported.
 * @returns 1 on success, 0 on failure.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_set_min_proto_version, TLS1_3_VERSION } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * SSL_CTX_set_min_proto_version(ctx.pointer, TLS1_3_VERSION);
 * ```
 */
export function SSL_CTX_set_min_proto_version(ctx: Deno.PointerValue, version: number): number {
  return Number(
    loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, BigInt(version), null),
  );
}

/**
 * `SSL_CTX_set_max_proto_version(ctx, version)`: `SSL_CTX_ctrl(ctx, 124, version, NULL)`.
 *
 * @param ctx an `SSL_CTX *`.
 * @param version `TLS1_2_VERSION` and so on, or 0 for the highest supported.
 * @returns 1 on success, 0 on failure.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_set_max_proto_version, TLS1_2_VERSION } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * SSL_CTX_set_max_proto_version(ctx.pointer, TLS1_2_VERSION);
 * ```
 */
export function SSL_CTX_set_max_proto_version(ctx: Deno.PointerValue, version: number): number {
  return Number(
    loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, BigInt(version), null),
  );
}

/**
 * `SSL_CTX_get_min_proto_version(ctx)`: `SSL_CTX_ctrl(ctx, 130, 0, NULL)`.
 *
 * @param ctx an `SSL_CTX *`.
 * @returns the minimum version, or 0 when none is set.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_get_min_proto_version, TLS1_VERSION } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx({ sslCtx: "tls-v1", sslSide: "client" });
 * console.log(SSL_CTX_get_min_proto_version(ctx.pointer) === TLS1_VERSION); // true
 * ```
 */
export function SSL_CTX_get_min_proto_version(ctx: Deno.PointerValue): number {
  return Number(loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_GET_MIN_PROTO_VERSION, 0n, null));
}

/**
 * `SSL_CTX_get_max_proto_version(ctx)`: `SSL_CTX_ctrl(ctx, 131, 0, NULL)`.
 *
 * @param ctx an `SSL_CTX *`.
 * @returns the maximum version, or 0 when none is set.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_get_max_proto_version } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx();
 * console.log(SSL_CTX_get_max_proto_version(ctx.pointer)); // 0: no ceiling
 * ```
 */
export function SSL_CTX_get_max_proto_version(ctx: Deno.PointerValue): number {
  return Number(loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_GET_MAX_PROTO_VERSION, 0n, null));
}

/**
 * `SSL_CTX_set_mode(ctx, mode)`: `SSL_CTX_ctrl(ctx, 33, mode, NULL)`.
 *
 * @param ctx an `SSL_CTX *`.
 * @param mode `SSL_MODE_*` bits to add.
 * @returns the new mode bits.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_set_mode, SSL_MODE_RELEASE_BUFFERS } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx();
 * SSL_CTX_set_mode(ctx.pointer, SSL_MODE_RELEASE_BUFFERS);
 * ```
 */
export function SSL_CTX_set_mode(ctx: Deno.PointerValue, mode: number): number {
  return Number(loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, BigInt(mode), null));
}

/**
 * `SSL_set_tlsext_host_name(ssl, name)`: `SSL_ctrl(ssl, 55, TLSEXT_NAMETYPE_host_name, name)`,
 * the server name sent in the ClientHello (SNI).
 *
 * @param ssl an `SSL *`.
 * @param name a DNS host name (never an IP literal, RFC 6066).
 * @returns 1 on success, 0 on failure.
 * @example
 * ```ts
 * import { makeSslCtx, sslNew } from "@comm/socket-stream";
 * import { SSL_set_tlsext_host_name } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * using ssl = sslNew(ctx);
 * SSL_set_tlsext_host_name(ssl.pointer, "example.com");
 * ```
 */
export function SSL_set_tlsext_host_name(ssl: Deno.PointerValue, name: string): number {
  // SSL_ctrl takes the name as a void *: hand it a native copy, never a pointer into a JS buffer.
  return withNativeString(
    name,
    (native) =>
      Number(
        loadOpenssl().libssl.SSL_ctrl(
          ssl,
          SSL_CTRL_SET_TLSEXT_HOSTNAME,
          BigInt(TLSEXT_NAMETYPE_host_name),
          native,
        ),
      ),
    0,
  );
}

/**
 * `BIO_set_mem_eof_return(bio, value)`: `BIO_ctrl(bio, 130, value, NULL)`. With -1 an empty
 * memory BIO means "retry", with 0 it means end of file.
 *
 * @param bio a memory `BIO *`.
 * @param value what `BIO_read` returns on an empty BIO.
 * @returns 1.
 * @example
 * ```ts
 * import { BIO_set_mem_eof_return, loadOpenssl } from "@comm/socket-stream/ffi";
 *
 * const { libcrypto } = loadOpenssl();
 * const bio = libcrypto.BIO_new(libcrypto.BIO_s_mem());
 * BIO_set_mem_eof_return(bio, -1);
 * libcrypto.BIO_free(bio);
 * ```
 */
export function BIO_set_mem_eof_return(bio: Deno.PointerValue, value: number): number {
  return Number(loadOpenssl().libcrypto.BIO_ctrl(bio, BIO_C_SET_BUF_MEM_EOF_RETURN, BigInt(value), null));
}

/**
 * `BIO_pending(bio)`: `BIO_ctrl(bio, 10, 0, NULL)`, the bytes waiting to be read.
 *
 * @param bio a `BIO *`.
 * @returns the number of bytes buffered.
 * @example
 * ```ts
 * import { BIO_pending, loadOpenssl } from "@comm/socket-stream/ffi";
 *
 * const { libcrypto } = loadOpenssl();
 * const bio = libcrypto.BIO_new(libcrypto.BIO_s_mem());
 * libcrypto.BIO_write(bio, new Uint8Array([1, 2, 3]), 3);
 * console.log(BIO_pending(bio)); // 3
 * libcrypto.BIO_free(bio);
 * ```
 */
export function BIO_pending(bio: Deno.PointerValue): number {
  return Number(loadOpenssl().libcrypto.BIO_ctrl(bio, BIO_CTRL_PENDING, 0n, null));
}

// Runs `call` with a native copy of `text` (for `void *` parameters), freed afterwards.
function withNativeString<T>(text: string, call: (native: Deno.PointerObject) => T, fallback: T): T {
  const { libcrypto } = loadOpenssl();
  const native = libcrypto.CRYPTO_strdup(cString(text), null, 0);
  if (native === null) return fallback;
  try {
    return call(native);
  } finally {
    libcrypto.CRYPTO_free(native, null, 0);
  }
}

/**
 * `SSL_CTX_set1_groups_list(ctx, list)`: `SSL_CTX_ctrl(ctx, 92, 0, list)`, the key exchange
 * groups in preference order, e.g. "X25519:P-256".
 *
 * @param ctx an `SSL_CTX *`.
 * @param list colon-separated group names.
 * @returns 1 on success, 0 on failure.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_set1_groups_list } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx();
 * console.log(SSL_CTX_set1_groups_list(ctx.pointer, "X25519:P-256")); // 1
 * ```
 */
export function SSL_CTX_set1_groups_list(ctx: Deno.PointerValue, list: string): number {
  return withNativeString(
    list,
    (native) => Number(loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS_LIST, 0n, native)),
    0,
  );
}

/**
 * `SSL_set1_groups_list(ssl, list)`: `SSL_ctrl(ssl, 92, 0, list)`, per connection.
 *
 * @param ssl an `SSL *`.
 * @param list colon-separated group names.
 * @returns 1 on success, 0 on failure.
 * @example
 * ```ts
 * import { makeSslCtx, sslNew } from "@comm/socket-stream";
 * import { SSL_set1_groups_list } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx();
 * using ssl = sslNew(ctx);
 * console.log(SSL_set1_groups_list(ssl.pointer, "P-384")); // 1
 * ```
 */
export function SSL_set1_groups_list(ssl: Deno.PointerValue, list: string): number {
  return withNativeString(
    list,
    (native) => Number(loadOpenssl().libssl.SSL_ctrl(ssl, SSL_CTRL_SET_GROUPS_LIST, 0n, native)),
    0,
  );
}

/**
 * `SSL_CTX_add1_chain_cert(ctx, x509)`: `SSL_CTX_ctrl(ctx, 89, 1, x509)`, an intermediate sent
 * after the certificate; the context takes its own reference.
 *
 * @param ctx an `SSL_CTX *`.
 * @param x509 an `X509 *`.
 * @returns 1 on success, 0 on failure.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { loadOpenssl, SSL_CTX_add1_chain_cert } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx();
 * const { libcrypto } = loadOpenssl();
 * const x509 = libcrypto.X509_new();
 * SSL_CTX_add1_chain_cert(ctx.pointer, x509);
 * libcrypto.X509_free(x509);
 * ```
 */
export function SSL_CTX_add1_chain_cert(ctx: Deno.PointerValue, x509: Deno.PointerValue): number {
  return Number(loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 1n, x509));
}

/**
 * `SSL_CTX_set_session_cache_mode(ctx, mode)`: `SSL_CTX_ctrl(ctx, 44, mode, NULL)`.
 *
 * @param ctx an `SSL_CTX *`.
 * @param mode `SSL_SESS_CACHE_*` bits.
 * @returns the previous mode.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_set_session_cache_mode, SSL_SESS_CACHE_CLIENT } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * SSL_CTX_set_session_cache_mode(ctx.pointer, SSL_SESS_CACHE_CLIENT);
 * ```
 */
export function SSL_CTX_set_session_cache_mode(ctx: Deno.PointerValue, mode: number): number {
  return Number(loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, BigInt(mode), null));
}

/**
 * `SSL_CTX_set_dh_auto(ctx, onoff)`: `SSL_CTX_ctrl(ctx, 118, onoff, NULL)`, DH parameters
 * matched to the certificate's strength for DHE ciphers.
 *
 * @param ctx an `SSL_CTX *`.
 * @param onoff 1 to turn it on.
 * @returns 1 on success.
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 * import { SSL_CTX_set_dh_auto } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx();
 * SSL_CTX_set_dh_auto(ctx.pointer, 1);
 * ```
 */
export function SSL_CTX_set_dh_auto(ctx: Deno.PointerValue, onoff: number): number {
  return Number(loadOpenssl().libssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_DH_AUTO, BigInt(onoff), null));
}

/**
 * `SSL_set1_verify_cert_store(ssl, store)`: `SSL_ctrl(ssl, 106, 1, store)`, the trust store this connection
 * verifies its peer against instead of its context's (the SSL takes its own reference).
 *
 * @param ssl an `SSL *`.
 * @param store an `X509_STORE *`.
 * @returns 1 on success.
 * @example
 * ```ts
 * import { makeSslCtx, sslNew } from "@comm/socket-stream";
 * import { loadOpenssl, SSL_set1_verify_cert_store } from "@comm/socket-stream/ffi";
 *
 * const { libcrypto } = loadOpenssl();
 * using ctx = makeSslCtx({ sslSide: "client" });
 * using ssl = sslNew(ctx);
 * const store = libcrypto.X509_STORE_new();
 * libcrypto.X509_STORE_set_default_paths(store);
 * SSL_set1_verify_cert_store(ssl.pointer, store);
 * libcrypto.X509_STORE_free(store);
 * ```
 */
export function SSL_set1_verify_cert_store(ssl: Deno.PointerValue, store: Deno.PointerValue): number {
  return Number(loadOpenssl().libssl.SSL_ctrl(ssl, SSL_CTRL_SET_VERIFY_CERT_STORE, 1n, store));
}
