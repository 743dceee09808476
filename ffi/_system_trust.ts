/**
 * The system trust store, read once and shared by the contexts made from it.
 *
 * `SSL_CTX_set_default_verify_paths` parses the whole default CA file every time (Debian's 144 certificates:
 * 25-35 ms here), and a `sslCtx: true` stream makes a new context per connection (the seed's semantics), so
 * each client connection paid that before its handshake. {@link addSystemTrust} gives a store the same
 * trust as that call, in OpenSSL's own three steps, with the file's certificates and CRLs parsed once:
 * - the default file (`SSL_CERT_FILE`, else OpenSSL's built-in path): its certificates and CRLs, from a parse
 *   kept while the file holds the same bytes (a SHA-256 of the file, read for every context: about 0.3 ms
 *   for Debian's 220 KB bundle, where a parse takes 25-35; only when it is a regular file and read permission
 *   for it is already granted; without that, or where libc's `getenv` is not at hand, the file is parsed every
 *   time, as before). Each store gets its own references: adding to one context's store (`ca`, a
 *   `ctxConfigureCallback`) never reaches another;
 * - the default directory (`SSL_CERT_DIR`, else built-in), searched by subject hash when a chain is built;
 * - the default store URI, which OpenSSL 3 also adds (the directory, as an `OSSL_STORE` URI).
 * Errors from a missing file or directory are cleared, as OpenSSL's call does. The certificates themselves
 * are shared objects, as OpenSSL shares them between stores: a caller who changes one in place (say
 * `X509_add1_trust_object` on a store's certificate) changes it for every context made meanwhile.
 *
 * @module
 */

import {
  X509_FILETYPE_DEFAULT,
  X509_L_ADD_DIR,
  X509_L_ADD_STORE,
  X509_L_FILE_LOAD,
  X509_LU_CRL,
  X509_LU_X509,
} from "./constants.ts";
import { cString, readCString } from "./_cstring.ts";
import { loadOpenssl } from "./library.ts";
import { loadLibc } from "./_libc.ts";
import { sha256, toHex } from "./_digest.ts";

/** A parse of the default CA file: a store holding its certificates and CRLs, and the file's content digest. */
interface ParsedFile {
  readonly path: string;
  readonly content: string;
  readonly store: Deno.PointerObject;
}

let parsed: ParsedFile | undefined;
let parses = 0;

/** @internal How many times the default file was parsed in this process (for tests). */
export function systemTrustParses(): number {
  return parses;
}

/** The default CA file's path as OpenSSL sees it: `SSL_CERT_FILE` (through libc) or the built-in one. */
function defaultFilePath(): string | null {
  const { libcrypto } = loadOpenssl();
  let libc;
  try {
    libc = loadLibc();
  } catch {
    return null;
  }
  const variable = readCString(libcrypto.X509_get_default_cert_file_env()) ?? "SSL_CERT_FILE";
  const fromEnvironment = readCString(libc.getenv(cString(variable, "the variable name")));
  return fromEnvironment ?? readCString(libcrypto.X509_get_default_cert_file());
}

/**
 * What the file holds now, as a SHA-256 digest: null for anything but a regular file, or when reading it would
 * ask for a permission not already granted.
 */
function contentOf(path: string): string | null {
  try {
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
    // A FIFO or a device would block or be consumed: OpenSSL reads those itself, every time.
    if (!Deno.statSync(path).isFile) return null;
    return toHex(sha256(Deno.readFileSync(path)));
  } catch {
    return null;
  }
}

/**
 * Parses the default file into a new store (certificates and CRLs), through OpenSSL's own file lookup: it
 * reads `SSL_CERT_FILE` itself, so the bytes of the path never pass through JavaScript.
 */
function parseDefaultFile(): Deno.PointerObject | null {
  const { libcrypto } = loadOpenssl();
  const store = libcrypto.X509_STORE_new();
  if (store === null) return null;
  parses++;
  const lookup = libcrypto.X509_STORE_add_lookup(store, libcrypto.X509_LOOKUP_file());
  if (lookup === null) {
    libcrypto.X509_STORE_free(store);
    return null;
  }
  libcrypto.X509_LOOKUP_ctrl(lookup, X509_L_FILE_LOAD, null, BigInt(X509_FILETYPE_DEFAULT), null);
  return store;
}

/**
 * The parse of the default file to use now: the kept one while the file's content is the same. A new parse is
 * kept only if the file held the same bytes before and after it (a file rewritten meanwhile is parsed again by
 * the next context).
 */
function currentParse(): { store: Deno.PointerObject; kept: boolean } | null {
  const path = defaultFilePath();
  if (path === null) return null;
  const content = contentOf(path);
  if (content !== null && parsed?.path === path && parsed.content === content) {
    return { store: parsed.store, kept: true };
  }
  const store = parseDefaultFile();
  if (store === null) return null;
  if (content === null || contentOf(path) !== content) return { store, kept: false };
  const { libcrypto } = loadOpenssl();
  if (parsed !== undefined) libcrypto.X509_STORE_free(parsed.store);
  parsed = { path, content, store };
  return { store, kept: true };
}

/**
 * Gives `store` the system trust store, as `X509_STORE_set_default_paths` does (see the module's note).
 * Returns false only when OpenSSL cannot allocate.
 */
export function addSystemTrust(store: Deno.PointerValue): boolean {
  const { libcrypto } = loadOpenssl();
  if (store === null) return false;
  const file = currentParse();
  if (file === null) {
    // No libc to read the environment with: OpenSSL's own call.
    return libcrypto.X509_STORE_set_default_paths(store) === 1;
  }
  try {
    const objects = libcrypto.X509_STORE_get0_objects(file.store);
    const count = objects === null ? 0 : libcrypto.OPENSSL_sk_num(objects);
    for (let i = 0; i < count; i++) {
      const object = libcrypto.OPENSSL_sk_value(objects, i);
      const type = libcrypto.X509_OBJECT_get_type(object);
      // Each add takes its own reference.
      if (type === X509_LU_X509) {
        libcrypto.X509_STORE_add_cert(store, libcrypto.X509_OBJECT_get0_X509(object));
      } else if (type === X509_LU_CRL) {
        libcrypto.X509_STORE_add_crl(store, libcrypto.X509_OBJECT_get0_X509_CRL(object));
      }
    }
  } finally {
    if (!file.kept) libcrypto.X509_STORE_free(file.store);
  }
  const directory = libcrypto.X509_STORE_add_lookup(store, libcrypto.X509_LOOKUP_hash_dir());
  if (directory === null) return false;
  libcrypto.X509_LOOKUP_ctrl(directory, X509_L_ADD_DIR, null, BigInt(X509_FILETYPE_DEFAULT), null);
  const uri = libcrypto.X509_STORE_add_lookup(store, libcrypto.X509_LOOKUP_store());
  if (uri === null) return false;
  libcrypto.X509_LOOKUP_ctrl(uri, X509_L_ADD_STORE, null, 0n, null);
  libcrypto.ERR_clear_error();
  return true;
}
