/**
 * `setSslCtxOptions`: LispWorks' `set-ssl-ctx-options`, named `SSL_OP_*` flags.
 *
 * @module
 */

import { ownOptions } from "./_option_checks.ts";
import {
  SSL_OP_ALL,
  SSL_OP_ALLOW_CLIENT_RENEGOTIATION,
  SSL_OP_CIPHER_SERVER_PREFERENCE,
  SSL_OP_ENABLE_MIDDLEBOX_COMPAT,
  SSL_OP_IGNORE_UNEXPECTED_EOF,
  SSL_OP_LEGACY_SERVER_CONNECT,
  SSL_OP_NO_COMPRESSION,
  SSL_OP_NO_RENEGOTIATION,
  SSL_OP_NO_SSLv3,
  SSL_OP_NO_TICKET,
  SSL_OP_NO_TLSv1,
  SSL_OP_NO_TLSv1_1,
  SSL_OP_NO_TLSv1_2,
  SSL_OP_NO_TLSv1_3,
  SSL_OP_PRIORITIZE_CHACHA,
} from "./constants.ts";
import { loadOpenssl } from "./library.ts";
import { type CtxOrSsl, describe, targetOf } from "./pointers.ts";

/**
 * The options by name: `true` sets the flag, `false` clears it, absent
 * leaves it. `noSslv2` and `singleDhUse` are accepted for LispWorks code and
 * do nothing (OpenSSL 3 has no SSLv2 and always uses fresh DH keys).
 */
export interface SslCtxOptions {
  /** `SSL_OP_ALL`: harmless bug workarounds. */
  all?: boolean;
  /** No-op on OpenSSL 3. */
  noSslv2?: boolean;
  /** `SSL_OP_NO_SSLv3`. */
  noSslv3?: boolean;
  /** `SSL_OP_NO_TLSv1`. */
  noTlsv1?: boolean;
  /** `SSL_OP_NO_TLSv1_1` (an extension). */
  noTlsv1_1?: boolean;
  /** `SSL_OP_NO_TLSv1_2` (an extension). */
  noTlsv1_2?: boolean;
  /** `SSL_OP_NO_TLSv1_3` (an extension). */
  noTlsv1_3?: boolean;
  /** `SSL_OP_CIPHER_SERVER_PREFERENCE`: the server's cipher order wins. */
  cipherServerPreference?: boolean;
  /** No-op on OpenSSL 3. */
  singleDhUse?: boolean;
  /** `SSL_OP_NO_TICKET`: no stateless session tickets. */
  noTicket?: boolean;
  /** `SSL_OP_NO_COMPRESSION`. */
  noCompression?: boolean;
  /** `SSL_OP_NO_RENEGOTIATION`. */
  noRenegotiation?: boolean;
  /** `SSL_OP_ALLOW_CLIENT_RENEGOTIATION`. */
  allowClientRenegotiation?: boolean;
  /** `SSL_OP_LEGACY_SERVER_CONNECT`: talk to servers without secure renegotiation. */
  legacyServerConnect?: boolean;
  /** `SSL_OP_IGNORE_UNEXPECTED_EOF`: a missing close_notify is a clean end (truncation goes unseen). */
  ignoreUnexpectedEof?: boolean;
  /** `SSL_OP_PRIORITIZE_CHACHA`. */
  prioritizeChacha?: boolean;
  /** `SSL_OP_ENABLE_MIDDLEBOX_COMPAT`. */
  enableMiddleboxCompat?: boolean;
}

const BITS: Record<keyof SslCtxOptions, bigint> = {
  all: SSL_OP_ALL,
  noSslv2: 0n,
  noSslv3: SSL_OP_NO_SSLv3,
  noTlsv1: SSL_OP_NO_TLSv1,
  noTlsv1_1: SSL_OP_NO_TLSv1_1,
  noTlsv1_2: SSL_OP_NO_TLSv1_2,
  noTlsv1_3: SSL_OP_NO_TLSv1_3,
  cipherServerPreference: SSL_OP_CIPHER_SERVER_PREFERENCE,
  singleDhUse: 0n,
  noTicket: SSL_OP_NO_TICKET,
  noCompression: SSL_OP_NO_COMPRESSION,
  noRenegotiation: SSL_OP_NO_RENEGOTIATION,
  allowClientRenegotiation: SSL_OP_ALLOW_CLIENT_RENEGOTIATION,
  legacyServerConnect: SSL_OP_LEGACY_SERVER_CONNECT,
  ignoreUnexpectedEof: SSL_OP_IGNORE_UNEXPECTED_EOF,
  prioritizeChacha: SSL_OP_PRIORITIZE_CHACHA,
  enableMiddleboxCompat: SSL_OP_ENABLE_MIDDLEBOX_COMPAT,
};

const OPTION_NAMES: ReadonlySet<string> = new Set(Object.keys(BITS));

/**
 * Sets and clears `SSL_OP_*` options by name on a context or a connection,
 * LispWorks' `set-ssl-ctx-options`.
 *
 * @param target the `SslCtxPointer` or `SslPointer`.
 * @param options `true` to set, `false` to clear.
 * @returns the option bits now in force.
 * @throws {TypeError} for an unknown option name or a non-boolean value.
 * @example
 * ```ts
 * import { makeSslCtx, setSslCtxOptions } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "server" });
 * setSslCtxOptions(ctx, { cipherServerPreference: true, noTicket: true });
 * ```
 */
export function setSslCtxOptions(target: CtxOrSsl, options: SslCtxOptions): bigint {
  const { kind, raw } = targetOf(target, "setSslCtxOptions");
  if (options === undefined) {
    throw new TypeError(`setSslCtxOptions needs an object of options, got ${describe(options)}`);
  }
  const given = ownOptions("setSslCtxOptions", options, OPTION_NAMES);
  let set = 0n;
  let clear = 0n;
  // Every name is one of BITS' (ownOptions refused the rest, naming what it takes).
  for (const [name, value] of Object.entries(given)) {
    const bits = BITS[name as keyof SslCtxOptions];
    if (value === undefined) continue;
    if (typeof value !== "boolean") throw new TypeError(`setSslCtxOptions: ${name} must be a boolean`);
    if (value) set |= bits;
    else clear |= bits;
  }
  const { libssl } = loadOpenssl();
  if (kind === "ctx") {
    libssl.SSL_CTX_clear_options(raw, clear);
    return libssl.SSL_CTX_set_options(raw, set);
  }
  libssl.SSL_clear_options(raw, clear);
  return libssl.SSL_set_options(raw, set);
}
