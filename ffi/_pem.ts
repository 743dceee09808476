/**
 * Reading PEM text (certificates, keys, parameters) through a memory BIO
 * that holds its own copy of the bytes.
 *
 * @module
 */

import { atEndOfPem, callFailed, clearErrors } from "./_error_queue.ts";
import { cString } from "./_cstring.ts";
import { SslCondition } from "./errors.ts";
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

/**
 * Every object `read` takes from `bio` until the PEM input ends cleanly. A block that is there but cannot be
 * read (damaged, or not what is expected) throws, freeing what was read: a bundle never loses a member.
 */
function readAllPem(
  bio: Deno.PointerObject,
  read: (bio: Deno.PointerObject) => Deno.PointerValue,
  free: (object: Deno.PointerObject) => void,
  what: string,
): Deno.PointerObject[] {
  const found: Deno.PointerObject[] = [];
  for (;;) {
    const object = read(bio);
    if (object !== null) {
      found.push(object);
      continue;
    }
    if (atEndOfPem() && found.length > 0) break;
    for (const each of found) free(each);
    throw callFailed(
      found.length === 0
        ? `Reading ${what} (none found in PEM)`
        : `Reading ${what} (block ${found.length + 1} cannot be read; the ${found.length} before it were)`,
    );
  }
  clearErrors();
  return found;
}

/** Every certificate in `pem`, in order (`X509 *`s the caller frees). */
export function readCertificates(pem: string | Uint8Array, what: string): Deno.PointerObject[] {
  const { libcrypto } = loadOpenssl();
  clearErrors();
  return withPemBio(
    pem,
    (bio) =>
      readAllPem(
        bio,
        (from) => libcrypto.PEM_read_bio_X509(from, null, null, null),
        libcrypto.X509_free,
        what,
      ),
  );
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

/** Certificates or CRLs as the options take them: PEM text, DER or PEM bytes, or a list of those. */
export type PemOrDer = string | Uint8Array | readonly (string | Uint8Array)[];

const PEM_START = new TextEncoder().encode("-----BEGIN");

function isPemBytes(bytes: Uint8Array): boolean {
  // PEM may follow any amount of text (`openssl x509 -text` output, a comment, a BOM); DER starts with a
  // SEQUENCE tag, so a DER certificate is never taken for text.
  if (bytes[0] === 0x30) return false;
  outer: for (let i = 0; i + PEM_START.length <= bytes.length; i++) {
    for (let j = 0; j < PEM_START.length; j++) if (bytes[i + j] !== PEM_START[j]) continue outer;
    return true;
  }
  return false;
}

function itemsOf(input: PemOrDer): (string | Uint8Array)[] {
  return typeof input === "string" || input instanceof Uint8Array ? [input] : [...input];
}

/** Whether `value` is what `PemOrDer` allows (non-empty). */
export function isPemOrDer(value: unknown): value is PemOrDer {
  const ok = (item: unknown) =>
    (typeof item === "string" && item !== "") || (item instanceof Uint8Array && item.length > 0);
  return ok(value) || (Array.isArray(value) && value.length > 0 && value.every(ok));
}

/** Every certificate in `input` (PEM text, DER bytes, or a list): `X509 *`s the caller frees. */
export function readCertificatesAny(input: PemOrDer, what: string): Deno.PointerObject[] {
  const { libcrypto } = loadOpenssl();
  const out: Deno.PointerObject[] = [];
  try {
    for (const [index, item] of itemsOf(input).entries()) {
      const label = Array.isArray(input) ? `${what}[${index}]` : what;
      if (typeof item === "string" || isPemBytes(item)) {
        out.push(...readCertificates(item, label));
        continue;
      }
      clearErrors();
      const x509 = withPemBio(item, (bio) => libcrypto.d2i_X509_bio(bio, null));
      if (x509 === null) throw callFailed(`Reading ${label} (neither PEM nor a DER certificate)`);
      out.push(x509);
    }
    return out;
  } catch (error) {
    for (const x509 of out) libcrypto.X509_free(x509);
    throw error;
  }
}

/** Every CRL in `input` (PEM text, DER bytes, or a list): `X509_CRL *`s the caller frees. */
export function readCrls(input: PemOrDer, what: string): Deno.PointerObject[] {
  const { libcrypto } = loadOpenssl();
  const out: Deno.PointerObject[] = [];
  try {
    for (const [index, item] of itemsOf(input).entries()) {
      const label = Array.isArray(input) ? `${what}[${index}]` : what;
      clearErrors();
      if (typeof item === "string" || isPemBytes(item)) {
        const found = withPemBio(item, (bio) =>
          readAllPem(
            bio,
            (from) => libcrypto.PEM_read_bio_X509_CRL(from, null, null, null),
            libcrypto.X509_CRL_free,
            `${label} (CRLs)`,
          ));
        out.push(...found);
      } else {
        const crl = withPemBio(item, (bio) => libcrypto.d2i_X509_CRL_bio(bio, null));
        if (crl === null) throw callFailed(`Reading ${label} (neither PEM nor a DER CRL)`);
        out.push(crl);
      }
    }
    return out;
  } catch (error) {
    for (const crl of out) libcrypto.X509_CRL_free(crl);
    throw error;
  }
}

/** What a PKCS#12 bundle holds: the caller frees the key, the certificate and the chain. */
export interface Pkcs12Contents {
  key: Deno.PointerObject;
  certificate: Deno.PointerObject;
  chain: Deno.PointerObject[];
}

/**
 * Opens a PKCS#12 bundle (its bytes, or a file OpenSSL reads itself) with `password` (empty if none: nothing
 * ever prompts).
 *
 * @throws {SslCondition} naming the bundle: unreadable, a wrong password, or no key or certificate in it.
 */
export function readPkcs12(
  source: Uint8Array | { file: string },
  password: string,
  what: string,
): Pkcs12Contents {
  const { libcrypto } = loadOpenssl();
  clearErrors();
  const p12 = source instanceof Uint8Array
    ? withPemBio(source, (bio) => libcrypto.d2i_PKCS12_bio(bio, null))
    : (() => {
      const bio = libcrypto.BIO_new_file(cString(source.file, what), cString("rb"));
      if (bio === null) throw callFailed(`Opening ${what} ${source.file}`);
      try {
        return libcrypto.d2i_PKCS12_bio(bio, null);
      } finally {
        libcrypto.BIO_free(bio);
      }
    })();
  if (p12 === null) throw callFailed(`Reading ${what} (not a PKCS#12 bundle)`);
  const cells = [new BigUint64Array(1), new BigUint64Array(1), new BigUint64Array(1)];
  try {
    const ok = libcrypto.PKCS12_parse(
      p12,
      cString(password, `the password for ${what}`),
      cells[0],
      cells[1],
      cells[2],
    );
    if (ok !== 1) {
      throw callFailed(
        `Opening ${what}: wrong password, or a legacy bundle (RC2, 3DES) that OpenSSL 3 reads only with its ` +
          "legacy provider",
      );
    }
  } finally {
    libcrypto.PKCS12_free(p12);
  }
  const [key, certificate, stack] = cells.map((cell) => Deno.UnsafePointer.create(cell[0]));
  const chain: Deno.PointerObject[] = [];
  if (stack !== null) {
    for (let item = libcrypto.OPENSSL_sk_pop(stack); item !== null; item = libcrypto.OPENSSL_sk_pop(stack)) {
      chain.unshift(item);
    }
    libcrypto.OPENSSL_sk_free(stack);
  }
  if (key === null || certificate === null) {
    if (key) libcrypto.EVP_PKEY_free(key);
    if (certificate) libcrypto.X509_free(certificate);
    for (const x509 of chain) libcrypto.X509_free(x509);
    throw new SslCondition(`${what} holds no private key and certificate`);
  }
  return { key, certificate, chain };
}

/** Every CRL in a PEM file that OpenSSL reads itself: `X509_CRL *`s the caller frees. */
export function readCrlFile(path: string, what: string): Deno.PointerObject[] {
  const { libcrypto } = loadOpenssl();
  clearErrors();
  const bio = libcrypto.BIO_new_file(cString(path, what), cString("rb"));
  if (bio === null) throw callFailed(`Opening ${what} ${path}`);
  try {
    return readAllPem(
      bio,
      (from) => libcrypto.PEM_read_bio_X509_CRL(from, null, null, null),
      libcrypto.X509_CRL_free,
      `${what} ${path} (CRLs)`,
    );
  } finally {
    libcrypto.BIO_free(bio);
  }
}
