/**
 * The system trust store, read once and shared by the contexts made from it.
 *
 * `SSL_CTX_set_default_verify_paths` parses the whole default CA file every time (Debian's 144 certificates:
 * 25-35 ms here), and a `sslCtx: true` stream makes a new context per connection (the seed's semantics), so
 * each client connection paid that before its handshake. {@link addSystemTrust} gives a store the same trust
 * as that call, in OpenSSL's own three steps, with the file's certificates and CRLs parsed once:
 * - the default file (`SSL_CERT_FILE`, else OpenSSL's built-in path): its certificates and CRLs, parsed from
 *   the very bytes whose SHA-256 identifies the parse, which is kept while the file holds the same bytes (the
 *   file is read and hashed for every context: about 0.3 ms for Debian's 220 KB bundle). Each store gets its
 *   own references: adding to one context's store (`ca`, a `ctxConfigureCallback`) never reaches another;
 * - the default directory (`SSL_CERT_DIR`, else built-in), searched by subject hash when a chain is built;
 * - the default store URI, which OpenSSL 3 also adds (the directory, as an `OSSL_STORE` URI).
 * Errors from a missing file or directory are cleared, as OpenSSL's call does.
 *
 * `SSL_CERT_FILE` is read as OpenSSL reads it: through `secure_getenv` (glibc), so a process running with
 * `AT_SECURE` (set-id, file capabilities) gets the built-in path, as OpenSSL gives it. Whenever the file
 * cannot be told exactly as OpenSSL would read it, OpenSSL's own call does the work, every time, as before:
 * no `secure_getenv` (on macOS, a set-id process; elsewhere, libc's calls missing), a path that is not UTF-8,
 * not a regular file, larger than {@link MAX_SHARED_FILE}, or one read permission for is not already granted
 * (nothing prompts).
 *
 * The certificates are shared objects, where OpenSSL's call would parse new ones for each context (parsing is
 * the cost: 21 ms of the 25 are `d2i_X509`). So a caller who changes one in place through one context's store
 * (`X509_add1_reject_object`, `X509_trust_clear`) changes it for every context sharing the parse, until the
 * file changes. The module never does; a caller who needs that loads its own copy (`ca`, or a `ctxConfigureCallback`).
 *
 * @module
 */

import {
  X509_FILETYPE_DEFAULT,
  X509_L_ADD_DIR,
  X509_L_ADD_STORE,
  X509_LU_CRL,
  X509_LU_X509,
} from "./constants.ts";
import { cString } from "./_cstring.ts";
import { loadOpenssl } from "./library.ts";
import { loadLibc } from "./_libc.ts";
import { sha256, toHex } from "./_digest.ts";
import { withPemBio } from "./_pem.ts";

/** The largest file shared (beyond it, reading and hashing it for each context would not pay). */
const MAX_SHARED_FILE = 8 * 1024 * 1024;

/** A parse of the default CA file: a store holding its certificates and CRLs, and the file's content digest. */
interface ParsedFile {
  readonly path: string;
  readonly content: string;
  readonly store: Deno.PointerObject;
}

let parsed: ParsedFile | undefined;
let parses = 0;

/** @internal How many times the default file was parsed in this process for sharing (for tests). */
export function systemTrustParses(): number {
  return parses;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A C string as text, or null if it is not UTF-8 (a path JavaScript cannot name). */
function strictCString(pointer: Deno.PointerValue): string | null {
  if (pointer === null) return null;
  const view = new Deno.UnsafePointerView(pointer);
  let length = 0;
  while (view.getUint8(length) !== 0) length++;
  const bytes = new Uint8Array(length);
  view.copyInto(bytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The default CA file's path as OpenSSL reads it (`SSL_CERT_FILE` through `secure_getenv`, else the built-in
 * path), or null when it cannot be told exactly.
 */
function defaultFilePath(): string | null {
  const { libcrypto } = loadOpenssl();
  let libc;
  try {
    libc = loadLibc();
  } catch {
    return null;
  }
  const variable = cString(strictCString(libcrypto.X509_get_default_cert_file_env()) ?? "SSL_CERT_FILE");
  let value: Deno.PointerValue;
  if (libc.secure_getenv !== null) {
    value = libc.secure_getenv(variable);
  } else if (libc.issetugid !== null) {
    // OpenSSL's ossl_safe_getenv: no environment for a set-id process.
    if (libc.issetugid() !== 0) return null;
    value = libc.getenv(variable);
  } else {
    return null;
  }
  return value !== null ? strictCString(value) : strictCString(libcrypto.X509_get_default_cert_file());
}

/** The file's bytes, or null unless it is a regular file up to MAX_SHARED_FILE that may be read unasked. */
function sharedBytes(path: string): Uint8Array | null {
  try {
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
    // A FIFO or a device would block or be consumed: OpenSSL reads those itself.
    const info = Deno.statSync(path);
    if (!info.isFile || info.size > MAX_SHARED_FILE) return null;
    const bytes = Deno.readFileSync(path);
    return bytes.length <= MAX_SHARED_FILE ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * Parses `bytes` into a new store as OpenSSL's file lookup reads a PEM file (`X509_load_cert_crl_file`):
 * every certificate and CRL, in order, stopping at the first that cannot be added; nothing if a block is
 * damaged.
 */
function parseBytes(bytes: Uint8Array): Deno.PointerObject | null {
  const { libcrypto } = loadOpenssl();
  const store = libcrypto.X509_STORE_new();
  if (store === null) return null;
  parses++;
  withPemBio(bytes, (bio) => {
    const infos = libcrypto.PEM_X509_INFO_read_bio(bio, null, null, cString(""));
    if (infos === null) return;
    const count = libcrypto.OPENSSL_sk_num(infos);
    let adding = true;
    for (let i = 0; i < count; i++) {
      const info = libcrypto.OPENSSL_sk_value(infos, i);
      if (info === null) continue;
      if (adding) {
        // X509_INFO { X509 *x509; X509_CRL *crl; ... }
        const view = new Deno.UnsafePointerView(info);
        const certificate = view.getPointer(0);
        const crl = view.getPointer(8);
        if (certificate !== null && libcrypto.X509_STORE_add_cert(store, certificate) !== 1) adding = false;
        if (adding && crl !== null && libcrypto.X509_STORE_add_crl(store, crl) !== 1) adding = false;
      }
      libcrypto.X509_INFO_free(info);
    }
    libcrypto.OPENSSL_sk_free(infos);
  });
  libcrypto.ERR_clear_error();
  return store;
}

/** The shared parse of the default file, or null when OpenSSL's own call must do the work. */
function sharedParse(): Deno.PointerObject | null {
  const path = defaultFilePath();
  if (path === null) return null;
  const bytes = sharedBytes(path);
  if (bytes === null) return null;
  const content = toHex(sha256(bytes));
  if (parsed?.path === path && parsed.content === content) return parsed.store;
  const store = parseBytes(bytes);
  if (store === null) return null;
  if (parsed !== undefined) loadOpenssl().libcrypto.X509_STORE_free(parsed.store);
  parsed = { path, content, store };
  return store;
}

/**
 * Gives `store` the system trust store, as `X509_STORE_set_default_paths` does (see the module's note).
 * Returns false only when OpenSSL cannot allocate.
 */
export function addSystemTrust(store: Deno.PointerValue): boolean {
  const { libcrypto } = loadOpenssl();
  if (store === null) return false;
  const shared = sharedParse();
  if (shared === null) return libcrypto.X509_STORE_set_default_paths(store) === 1;
  const objects = libcrypto.X509_STORE_get0_objects(shared);
  const count = objects === null ? 0 : libcrypto.OPENSSL_sk_num(objects);
  for (let i = 0; i < count; i++) {
    const object = libcrypto.OPENSSL_sk_value(objects, i);
    const type = libcrypto.X509_OBJECT_get_type(object);
    // Each add takes its own reference.
    if (type === X509_LU_X509) libcrypto.X509_STORE_add_cert(store, libcrypto.X509_OBJECT_get0_X509(object));
    else if (type === X509_LU_CRL) {
      libcrypto.X509_STORE_add_crl(store, libcrypto.X509_OBJECT_get0_X509_CRL(object));
    }
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
