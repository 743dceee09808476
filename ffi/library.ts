/**
 * Loads libssl and libcrypto once, on first use, and hands out their typed
 * symbols.
 *
 * @module
 */

import { openFirst } from "./_discover.ts";
import { type Libcrypto, libcryptoSymbols, type Libssl, libsslSymbols } from "./symbols.ts";

/** Both OpenSSL libraries, loaded. */
export interface OpensslLibraries {
  /** libssl's symbols (`SSL_*`, `SSL_CTX_*`, `TLS_*_method`). */
  readonly libssl: Libssl["symbols"];
  /** libcrypto's symbols (`ERR_*`, `BIO_*`, `X509_*`, `EVP_*`). */
  readonly libcrypto: Libcrypto["symbols"];
}

let loaded: OpensslLibraries | undefined;

/**
 * Loads libssl and libcrypto if they are not loaded yet and returns their
 * typed symbol tables, for calling OpenSSL on the pointers the module hands
 * to callbacks.
 *
 * The paths come from `LIBSSL_PATH` / `LIBCRYPTO_PATH` when set, else the
 * usual names for the OS (`libssl.so.3`, Homebrew's `openssl@3`,
 * `libssl-3-x64.dll`).
 *
 * @returns the two symbol tables.
 * @throws {Error} if a library cannot be found, naming every path tried.
 *
 * @example Call OpenSSL directly
 * ```ts
 * import { loadOpenssl } from "@comm/socket-stream/ffi";
 *
 * const { libcrypto } = loadOpenssl();
 * console.log(libcrypto.OpenSSL_version_num() >= 0x30000000n);
 * ```
 */
export function loadOpenssl(): OpensslLibraries {
  if (loaded) return loaded;
  // libcrypto first: libssl depends on it, and an override path for it must win.
  const crypto = openFirst("libcrypto", libcryptoSymbols);
  let ssl: Libssl;
  try {
    ssl = openFirst("libssl", libsslSymbols);
  } catch (error) {
    crypto.close();
    throw error;
  }
  loaded = { libssl: ssl.symbols, libcrypto: crypto.symbols };
  return loaded;
}
