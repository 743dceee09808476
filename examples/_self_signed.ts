/**
 * A throwaway self-signed certificate made in memory through OpenSSL: an
 * ECDSA P-256 key and an X509 for `localhost` and 127.0.0.1, valid for a day.
 * For demos only.
 *
 * @module
 */

import { loadOpenssl, MBSTRING_ASC } from "../ffi/mod.ts";

const encoder = new TextEncoder();
const cString = (text: string) => encoder.encode(`${text}\0`);

/** An `X509 *` and its `EVP_PKEY *`; `dispose` frees both. */
export interface SelfSigned extends Disposable {
  /** The certificate (`X509 *`). */
  certificate: Deno.PointerObject;
  /** The private key (`EVP_PKEY *`). */
  key: Deno.PointerObject;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Making the demo certificate failed at ${what}`);
}

/** Makes a self-signed certificate for `commonName` with the given subject alternative names. */
export function makeSelfSigned(
  commonName = "localhost",
  altNames = "DNS:localhost,IP:127.0.0.1",
): SelfSigned {
  const { libcrypto } = loadOpenssl();
  // The key: EVP_PKEY_CTX_new_from_name("EC") + group P-256 + generate.
  const keyCtx = libcrypto.EVP_PKEY_CTX_new_from_name(null, cString("EC"), null);
  check(keyCtx !== null, "EVP_PKEY_CTX_new_from_name");
  const cell = new BigUint64Array(1);
  try {
    check(libcrypto.EVP_PKEY_keygen_init(keyCtx) === 1, "EVP_PKEY_keygen_init");
    check(
      libcrypto.EVP_PKEY_CTX_set_group_name(keyCtx, cString("P-256")) === 1,
      "EVP_PKEY_CTX_set_group_name",
    );
    check(libcrypto.EVP_PKEY_generate(keyCtx, cell) === 1, "EVP_PKEY_generate");
  } finally {
    libcrypto.EVP_PKEY_CTX_free(keyCtx);
  }
  const key = Deno.UnsafePointer.create(cell[0])!;
  const certificate = libcrypto.X509_new()!;
  try {
    check(libcrypto.X509_set_version(certificate, 2n) === 1, "X509_set_version"); // v3
    const serial = new Uint32Array(1);
    crypto.getRandomValues(serial);
    check(
      libcrypto.ASN1_INTEGER_set(libcrypto.X509_get_serialNumber(certificate), BigInt(serial[0] >>> 1)) === 1,
      "serial",
    );
    check(libcrypto.X509_gmtime_adj(libcrypto.X509_getm_notBefore(certificate), -60n) !== null, "notBefore");
    check(libcrypto.X509_gmtime_adj(libcrypto.X509_getm_notAfter(certificate), 86_400n) !== null, "notAfter");
    check(libcrypto.X509_set_pubkey(certificate, key) === 1, "X509_set_pubkey");
    const name = libcrypto.X509_get_subject_name(certificate);
    const cn = encoder.encode(commonName);
    check(
      libcrypto.X509_NAME_add_entry_by_txt(name, cString("CN"), MBSTRING_ASC, cn, cn.length, -1, 0) === 1,
      "subject",
    );
    check(libcrypto.X509_set_issuer_name(certificate, name) === 1, "issuer");
    // NID_subject_alt_name = 85
    const san = libcrypto.X509V3_EXT_conf_nid(null, null, 85, cString(altNames));
    check(san !== null, "subjectAltName");
    const added = libcrypto.X509_add_ext(certificate, san, -1);
    libcrypto.X509_EXTENSION_free(san);
    check(added === 1, "X509_add_ext");
    check(libcrypto.X509_sign(certificate, key, libcrypto.EVP_sha256()) > 0, "X509_sign");
  } catch (error) {
    libcrypto.X509_free(certificate);
    libcrypto.EVP_PKEY_free(key);
    throw error;
  }
  return {
    certificate,
    key,
    [Symbol.dispose]() {
      libcrypto.X509_free(certificate);
      libcrypto.EVP_PKEY_free(key);
    },
  };
}
