/**
 * `opensslVersion`: which OpenSSL is linked.
 *
 * @module
 */

import {
  OPENSSL_BUILT_ON,
  OPENSSL_CFLAGS,
  OPENSSL_DIR,
  OPENSSL_PLATFORM,
  OPENSSL_VERSION,
} from "./constants.ts";
import { readCString } from "./_cstring.ts";
import { loadOpenssl } from "./library.ts";

/** What `opensslVersion` can report, after `OpenSSL_version`'s types. */
export type OpensslVersionInfo = "version" | "cflags" | "built-on" | "platform" | "dir";

const TYPES: Record<OpensslVersionInfo, number> = {
  version: OPENSSL_VERSION,
  cflags: OPENSSL_CFLAGS,
  "built-on": OPENSSL_BUILT_ON,
  platform: OPENSSL_PLATFORM,
  dir: OPENSSL_DIR,
};

/**
 * The linked OpenSSL's description, LispWorks' `openssl-version`.
 *
 * @param what which string: "version" (the default) gives e.g.
 *   "OpenSSL 3.0.19 27 Jan 2026".
 * @returns the string OpenSSL reports.
 * @throws {RangeError} for an unknown `what`.
 * @example
 * ```ts
 * import { opensslVersion } from "@comm/socket-stream";
 *
 * console.log(opensslVersion()); // "OpenSSL 3.0.19 27 Jan 2026"
 * ```
 */
export function opensslVersion(what: OpensslVersionInfo = "version"): string {
  const type = typeof what === "string" && Object.hasOwn(TYPES, what) ? TYPES[what] : undefined;
  if (type === undefined) {
    throw new RangeError(
      `opensslVersion: what must be one of ${Object.keys(TYPES).join(", ")}, got ${JSON.stringify(what)}`,
    );
  }
  return readCString(loadOpenssl().libcrypto.OpenSSL_version(type)) ?? "";
}
