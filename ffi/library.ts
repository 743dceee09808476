/**
 * Loads libssl and libcrypto once, on first use, and hands out their typed
 * symbols.
 *
 * @module
 */

import { ownOptions } from "./_option_checks.ts";
import { checkNoNul } from "./_cstring.ts";
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
let configuredPaths: { libssl?: string; libcrypto?: string } = {};

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
  const crypto = openFirst("libcrypto", libcryptoSymbols, configuredPaths.libcrypto);
  let ssl: Libssl;
  try {
    ssl = openFirst("libssl", libsslSymbols, configuredPaths.libssl);
  } catch (error) {
    crypto.close();
    throw error;
  }
  loaded = { libssl: ssl.symbols, libcrypto: crypto.symbols };
  return loaded;
}

/** Where to load the libraries from: a libssl path, or both paths. */
export type SslLibraryPath = string | { libssl?: string; libcrypto?: string };

function pathsOf(path: SslLibraryPath): { libssl?: string; libcrypto?: string } {
  if (typeof path === "string") {
    if (path === "") throw new TypeError("setSslLibraryPath needs a non-empty path");
    // dlopen reads a C string: "libssl.so.3\0/elsewhere" would load libssl.so.3.
    checkNoNul(path, "setSslLibraryPath's path");
    // The libcrypto that goes with a libssl sits beside it under the matching name.
    const slash = path.lastIndexOf("/") + 1;
    const base = path.slice(slash);
    return {
      libssl: path,
      libcrypto: base.includes("libssl")
        ? path.slice(0, slash) + base.replace("libssl", "libcrypto")
        : undefined,
    };
  }
  if (typeof path !== "object" || path === null) {
    throw new TypeError(`setSslLibraryPath needs a path or { libssl, libcrypto }, got ${typeof path}`);
  }
  for (const key of ["libssl", "libcrypto"] as const) {
    if (path[key] !== undefined) checkNoNul(path[key], `setSslLibraryPath's ${key}`);
  }
  return { libssl: path.libssl, libcrypto: path.libcrypto };
}

/**
 * Sets where libssl (and libcrypto) are loaded from, LispWorks'
 * `set-ssl-library-path`. It wins over `LIBSSL_PATH` / `LIBCRYPTO_PATH` and
 * must come before the first use of OpenSSL. A libssl path alone implies the
 * libcrypto beside it ("/opt/ssl/lib/libssl.so.3" → ".../libcrypto.so.3").
 *
 * @param path the libssl path, or both paths.
 * @throws {Error} if the libraries are already loaded.
 * @throws {TypeError} for an empty or wrong path.
 * @example
 * ```ts
 * import { setSslLibraryPath } from "@comm/socket-stream";
 *
 * try {
 *   setSslLibraryPath("/opt/openssl-3.3/lib64/libssl.so.3");
 * } catch (error) {
 *   console.log((error as Error).message); // already loaded in this process
 * }
 * ```
 */
export function setSslLibraryPath(path: SslLibraryPath): void {
  const paths = pathsOf(path);
  if (loaded) {
    throw new Error(
      "setSslLibraryPath: OpenSSL is already loaded in this process; call it before the first use",
    );
  }
  configuredPaths = paths;
}

const ENSURE_SSL_KEYS: ReadonlySet<string> = new Set(["libraryPath"]);

/**
 * Loads OpenSSL now if it is not loaded yet, LispWorks' `ensure-ssl`.
 * Idempotent; everything else loads it on first use anyway.
 *
 * @param options `libraryPath` as for `setSslLibraryPath` (only before loading).
 * @returns the loaded symbol tables.
 * @throws {Error} if a library cannot be loaded, naming every path tried.
 * @example
 * ```ts
 * import { ensureSsl } from "@comm/socket-stream";
 *
 * const { libcrypto } = ensureSsl();
 * console.log(libcrypto.OpenSSL_version_num() >= 0x30000000n); // true
 * ```
 */
export function ensureSsl(options: { libraryPath?: SslLibraryPath } = {}): OpensslLibraries {
  const { libraryPath } = ownOptions("ensureSsl", options, ENSURE_SSL_KEYS);
  if (libraryPath !== undefined && !loaded) setSslLibraryPath(libraryPath);
  return loadOpenssl();
}

/**
 * Makes sure the random number generator is seeded, LispWorks'
 * `do-rand-seed`. OpenSSL 3 seeds itself from the OS; this only asks it to
 * poll again and reports whether it is seeded.
 *
 * @returns whether the generator is seeded.
 * @example
 * ```ts
 * import { doRandSeed } from "@comm/socket-stream";
 *
 * console.log(doRandSeed()); // true
 * ```
 */
export function doRandSeed(): boolean {
  const { libcrypto } = loadOpenssl();
  libcrypto.RAND_poll();
  return libcrypto.RAND_status() === 1;
}
