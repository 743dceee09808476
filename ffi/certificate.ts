/**
 * Reading an X509 certificate into a plain object: subject, issuer, names,
 * serial, validity, fingerprint, DER and PEM.
 *
 * @module
 */

import { ASN1_STRFLGS_ESC_MSB, NID_subject_alt_name, XN_FLAG_RFC2253 } from "./constants.ts";
import { readCString } from "./_cstring.ts";
import { clearErrors } from "./_error_queue.ts";
import { loadOpenssl } from "./library.ts";
import { BIO_pending } from "./macros.ts";

/**
 * A certificate as the peer presented it. The shape follows Node's
 * `getPeerCertificate()` where the two overlap.
 */
export interface PeerCertificate {
  /** The subject in RFC 2253 form, e.g. "CN=localhost,O=Example". */
  subject: string;
  /** The issuer in RFC 2253 form. */
  issuer: string;
  /** The subject alternative names as OpenSSL prints them, e.g. ["DNS:localhost", "IP Address:127.0.0.1"]. */
  subjectAltNames: string[];
  /** The serial number in upper-case hex. */
  serialNumber: string;
  /** Not valid before this instant. */
  validFrom: Date;
  /** Not valid after this instant. */
  validTo: Date;
  /** SHA-256 of the DER, as colon-separated upper-case hex pairs. */
  fingerprint256: string;
  /** The certificate in DER. */
  der: Uint8Array;
  /** The certificate in PEM. */
  pem: string;
}

const NAME_FLAGS = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;

// Runs `write` against a fresh memory BIO and returns what it wrote.
function memoryBioBytes(write: (bio: Deno.PointerObject) => void): Uint8Array<ArrayBuffer> {
  const { libcrypto } = loadOpenssl();
  const bio = libcrypto.BIO_new(libcrypto.BIO_s_mem());
  if (bio === null) throw new Error("Cannot allocate a memory BIO");
  try {
    write(bio);
    const pending = BIO_pending(bio);
    const bytes = new Uint8Array(Math.max(pending, 0));
    if (pending > 0) libcrypto.BIO_read(bio, bytes, pending);
    return bytes;
  } finally {
    libcrypto.BIO_free(bio);
  }
}

function memoryBioText(write: (bio: Deno.PointerObject) => void): string {
  return new TextDecoder().decode(memoryBioBytes(write));
}

/** An `X509_NAME *` in RFC 2253 form (UTF-8 kept readable). */
export function nameOf(name: Deno.PointerValue): string {
  if (name === null) return "";
  return memoryBioText((bio) => loadOpenssl().libcrypto.X509_NAME_print_ex(bio, name, 0, NAME_FLAGS));
}

function timeOf(time: Deno.PointerValue): Date {
  // struct tm: nine ints (sec, min, hour, mday, mon, year, wday, yday, isdst), then platform fields.
  const tm = new Int32Array(16);
  if (time === null || loadOpenssl().libcrypto.ASN1_TIME_to_tm(time, tm) !== 1) return new Date(NaN);
  return new Date(Date.UTC(tm[5] + 1900, tm[4], tm[3], tm[2], tm[1], tm[0]));
}

function serialOf(x509: Deno.PointerObject): string {
  const { libcrypto } = loadOpenssl();
  const bn = libcrypto.ASN1_INTEGER_to_BN(libcrypto.X509_get_serialNumber(x509), null);
  if (bn === null) return "";
  try {
    const hex = libcrypto.BN_bn2hex(bn);
    const text = readCString(hex) ?? "";
    // OPENSSL_free(hex)
    libcrypto.CRYPTO_free(hex, null, 0);
    return text;
  } finally {
    libcrypto.BN_free(bn);
  }
}

// GENERAL_NAME types (x509v3.h).
const GEN_EMAIL = 1;
const GEN_DNS = 2;
const GEN_DIRNAME = 4;
const GEN_URI = 6;
const GEN_IPADD = 7;

const latin1 = new TextDecoder("latin1");

function bytesOf(asn1String: Deno.PointerValue): Uint8Array {
  const { libcrypto } = loadOpenssl();
  const length = asn1String === null ? 0 : libcrypto.ASN1_STRING_length(asn1String);
  const data = asn1String === null ? null : libcrypto.ASN1_STRING_get0_data(asn1String);
  if (data === null || length <= 0) return new Uint8Array(0);
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(data, length)).slice();
}

// As OpenSSL prints it: dotted decimal, or eight hex groups.
function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length === 16) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
    return Array.from({ length: 8 }, (_, i) => view.getUint16(2 * i).toString(16).toUpperCase()).join(":");
  }
  return "<invalid>";
}

// One entry per name, read from the extension itself: never by splitting printed text, where a URI or a
// directory name containing ", DNS:" would pass for a name the certificate does not carry.
function altNamesOf(x509: Deno.PointerObject): string[] {
  const { libcrypto } = loadOpenssl();
  const names = libcrypto.X509_get_ext_d2i(x509, NID_subject_alt_name, null, null);
  if (names === null) return [];
  try {
    const out: string[] = [];
    const count = libcrypto.OPENSSL_sk_num(names);
    const type = new Int32Array(1);
    for (let i = 0; i < count; i++) {
      const value = libcrypto.GENERAL_NAME_get0_value(libcrypto.OPENSSL_sk_value(names, i), type);
      switch (type[0]) {
        case GEN_DNS:
          out.push(`DNS:${latin1.decode(bytesOf(value))}`);
          break;
        case GEN_IPADD:
          out.push(`IP Address:${ipText(bytesOf(value))}`);
          break;
        case GEN_URI:
          out.push(`URI:${latin1.decode(bytesOf(value))}`);
          break;
        case GEN_EMAIL:
          out.push(`email:${latin1.decode(bytesOf(value))}`);
          break;
        case GEN_DIRNAME:
          out.push(`DirName:${nameOf(value)}`);
          break;
        default:
          out.push("othername:<unsupported>");
      }
    }
    return out;
  } finally {
    libcrypto.GENERAL_NAMES_free(names);
  }
}

function derOf(x509: Deno.PointerObject): Uint8Array<ArrayBuffer> {
  return memoryBioBytes((bio) => loadOpenssl().libcrypto.i2d_X509_bio(bio, x509));
}

function fingerprintOf(x509: Deno.PointerObject): string {
  const { libcrypto } = loadOpenssl();
  const digest = new Uint8Array(64);
  const length = new Uint32Array(1);
  if (libcrypto.X509_digest(x509, libcrypto.EVP_sha256(), digest, length) !== 1) return "";
  return Array.from(digest.subarray(0, length[0]), (byte) => byte.toString(16).padStart(2, "0").toUpperCase())
    .join(":");
}

function pemOf(der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const base64 = btoa(binary).replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`;
}

/** Describes the certificate at `x509` (an `X509 *`, not freed here). */
export function describeCertificate(x509: Deno.PointerObject): PeerCertificate {
  const { libcrypto } = loadOpenssl();
  clearErrors();
  const der = derOf(x509);
  const certificate: PeerCertificate = {
    subject: nameOf(libcrypto.X509_get_subject_name(x509)),
    issuer: nameOf(libcrypto.X509_get_issuer_name(x509)),
    subjectAltNames: altNamesOf(x509),
    serialNumber: serialOf(x509),
    validFrom: timeOf(libcrypto.X509_get0_notBefore(x509)),
    validTo: timeOf(libcrypto.X509_get0_notAfter(x509)),
    fingerprint256: fingerprintOf(x509),
    der,
    pem: pemOf(der),
  };
  clearErrors();
  return certificate;
}

/** The certificate the peer of `ssl` presented, or `null` if none. */
export function peerCertificateOf(ssl: Deno.PointerObject): PeerCertificate | null {
  const { libssl, libcrypto } = loadOpenssl();
  const x509 = libssl.SSL_get1_peer_certificate(ssl);
  if (x509 === null) return null;
  try {
    return describeCertificate(x509);
  } finally {
    // SSL_get1_peer_certificate gave us a reference.
    libcrypto.X509_free(x509);
  }
}
