/**
 * Reading PEM text (certificates, keys, parameters) through a memory BIO
 * that holds its own copy of the bytes.
 *
 * @module
 */

import { callFailed, clearErrors } from "./_error_queue.ts";
import { cString } from "./_cstring.ts";
import { loadOpenssl } from "./library.ts";

/** Runs `body` with a memory BIO holding a copy of `pem`. */
export function withPemBio<T>(pem: string | Uint8Array, body: (bio: Deno.PointerObject) => T): T {
  const { libcrypto } = loadOpenssl();
  const bytes = typeof pem === "string" ? new TextEncoder().encode(pem) : pem;
  const bio = libcrypto.BIO_new(libcrypto.BIO_s_mem());
  if (bio === null) throw new Error("Cannot allocate a memory BIO");
  try {
    if (bytes.length > 0 && libcrypto.BIO_write(bio, bytes, bytes.length) !== bytes.length) {
      throw new Error("Cannot buffer PEM text in a memory BIO");
    }
    return body(bio);
  } finally {
    libcrypto.BIO_free(bio);
  }
}

/** Every certificate in `pem`, in order (`X509 *`s the caller frees). */
export function readCertificates(pem: string | Uint8Array, what: string): Deno.PointerObject[] {
  const { libcrypto } = loadOpenssl();
  clearErrors();
  const certificates = withPemBio(pem, (bio) => {
    const found: Deno.PointerObject[] = [];
    for (;;) {
      const x509 = libcrypto.PEM_read_bio_X509(bio, null, null, null);
      if (x509 === null) break;
      found.push(x509);
    }
    return found;
  });
  // The loop ends on "no start line": not an error once something was read.
  if (certificates.length === 0) throw callFailed(`Reading ${what} (no PEM certificate found)`);
  clearErrors();
  return certificates;
}

/** The private key in `pem` (an `EVP_PKEY *` the caller frees), decrypted with `password` if given. */
export function readPrivateKey(
  pem: string | Uint8Array,
  password: string | undefined,
  what: string,
): Deno.PointerObject {
  const { libcrypto } = loadOpenssl();
  clearErrors();
  // With no callback, OpenSSL takes the user data as the password string: hand it a native copy.
  // Without a password, an empty one: never let OpenSSL prompt on the terminal.
  const native = libcrypto.CRYPTO_strdup(cString(password ?? "", `the password for ${what}`), null, 0);
  try {
    const key = withPemBio(pem, (bio) => libcrypto.PEM_read_bio_PrivateKey(bio, null, null, native));
    if (key === null) {
      throw callFailed(`Reading ${what}${password === undefined ? " (encrypted keys need a password)" : ""}`);
    }
    return key;
  } finally {
    if (native) libcrypto.CRYPTO_free(native, null, 0);
  }
}
