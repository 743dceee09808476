/**
 * Reading an X509 certificate into a plain object: subject, issuer, names,
 * serial, validity, fingerprints, the public key and its pin, key usages, DER
 * and PEM.
 *
 * @module
 */

import { ASN1_STRFLGS_ESC_MSB, NID_subject_alt_name, XN_FLAG_RFC2253 } from "./constants.ts";
import { readCString } from "./_cstring.ts";
import { callFailed, clearErrors } from "./_error_queue.ts";
import { loadOpenssl } from "./library.ts";
import { BIO_pending } from "./macros.ts";
import { sha256, toHex } from "./_digest.ts";
import { withNativeBuffer } from "./connection_info.ts";

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
  /** SHA-1 of the DER, as colon-separated upper-case hex pairs (Node's `fingerprint`). */
  fingerprint: string;
  /**
   * The SHA-256 pin of the SubjectPublicKeyInfo, `"sha256/<base64>"`, as HPKP and curl's `--pinnedpubkey`
   * write it: the form the `pins` option takes.
   */
  spkiSha256: string;
  /** The public key: its type ("RSA", "EC", "Ed25519", ...), size in bits and, for EC, its curve. */
  publicKey: PublicKeyInfo;
  /**
   * The key usage extension's bits by name ("digitalSignature", "keyEncipherment", ...), or `null` when the
   * certificate has none (any usage).
   */
  keyUsage: string[] | null;
  /**
   * The extended key usage by name ("serverAuth", "clientAuth", ...), or `null` when the certificate has
   * none (any usage).
   */
  extKeyUsage: string[] | null;
  /** The certificate in DER. */
  der: Uint8Array;
  /** The certificate in PEM. */
  pem: string;
}

/** A certificate's public key. */
export interface PublicKeyInfo {
  /** "RSA", "RSA-PSS", "EC", "Ed25519", "Ed448", "DSA", or OpenSSL's name for another type. */
  type: string;
  /** The key size in bits. */
  bits: number;
  /** The named curve of an EC key ("prime256v1", "secp384r1", ...). */
  curve?: string;
}

// EVP_PKEY_* identifiers (evp.h / obj_mac.h).
const KEY_TYPES: Record<number, string> = {
  6: "RSA",
  912: "RSA-PSS",
  408: "EC",
  1087: "Ed25519",
  1088: "Ed448",
  116: "DSA",
  28: "DH",
  920: "DHX",
  1034: "X25519",
  1035: "X448",
};

// X509v3 key usage bits (x509v3.h: KU_*), as the extension names them.
const KEY_USAGE: [number, string][] = [
  [0x0080, "digitalSignature"],
  [0x0040, "nonRepudiation"],
  [0x0020, "keyEncipherment"],
  [0x0010, "dataEncipherment"],
  [0x0008, "keyAgreement"],
  [0x0004, "keyCertSign"],
  [0x0002, "cRLSign"],
  [0x0001, "encipherOnly"],
  [0x8000, "decipherOnly"],
];

// Extended key usage bits (x509v3.h: XKU_*), by OpenSSL's short names.
const EXT_KEY_USAGE: [number, string][] = [
  [0x01, "serverAuth"],
  [0x02, "clientAuth"],
  [0x04, "emailProtection"],
  [0x08, "codeSigning"],
  [0x10, "msSGC"],
  [0x20, "OCSPSigning"],
  [0x40, "timeStamping"],
  [0x80, "DVCS"],
  [0x100, "anyExtendedKeyUsage"],
];

const ABSENT = 0xffffffff;

function namesOf(bits: number, table: [number, string][]): string[] | null {
  return bits === ABSENT ? null : table.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name);
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

function fingerprintOf(x509: Deno.PointerObject, sha1 = false): string {
  const { libcrypto } = loadOpenssl();
  const digest = new Uint8Array(64);
  const length = new Uint32Array(1);
  const md = sha1 ? libcrypto.EVP_sha1() : libcrypto.EVP_sha256();
  if (libcrypto.X509_digest(x509, md, digest, length) !== 1) return "";
  // Colon-separated upper-case pairs, as Node's fingerprint256.
  return toHex(digest.subarray(0, length[0])).toUpperCase().replace(/..(?!$)/g, "$&:");
}

/**
 * The DER SubjectPublicKeyInfo's SHA-256, as "sha256/<base64>" (an `X509 *`, not freed here); "" for a
 * certificate without a key OpenSSL can encode.
 *
 * @throws {SslCondition} if OpenSSL sizes the key's DER and then fails to write it.
 */
export function spkiPinOf(x509: Deno.PointerObject): string {
  const { libcrypto } = loadOpenssl();
  const key = libcrypto.X509_get0_pubkey(x509);
  if (key === null) return "";
  const length = libcrypto.i2d_PUBKEY(key, null);
  if (length <= 0) return "";
  const der = withNativeBuffer(length, (native) => {
    // i2d_PUBKEY writes at the address in the cell (and moves it past what it wrote).
    const written = libcrypto.i2d_PUBKEY(key, new BigUint64Array([Deno.UnsafePointer.value(native)]));
    if (written !== length) {
      throw callFailed(
        `Encoding the public key of ${nameOf(libcrypto.X509_get_subject_name(x509)) || "a certificate"} ` +
          `(i2d_PUBKEY gave ${written} of the ${length} bytes it announced)`,
      );
    }
    return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(native, length)).slice();
  });
  return `sha256/${btoa(String.fromCharCode(...sha256(der)))}`;
}

function publicKeyOf(x509: Deno.PointerObject): PublicKeyInfo {
  const { libcrypto } = loadOpenssl();
  const key = libcrypto.X509_get0_pubkey(x509);
  if (key === null) return { type: "unknown", bits: 0 };
  const id = libcrypto.EVP_PKEY_get_base_id(key);
  const info: PublicKeyInfo = { type: KEY_TYPES[id] ?? `NID ${id}`, bits: libcrypto.EVP_PKEY_get_bits(key) };
  if (info.type === "EC") {
    const name = new Uint8Array(80);
    const length = new BigUint64Array(1);
    if (
      libcrypto.EVP_PKEY_get_group_name(key, name, BigInt(name.length), new Uint8Array(length.buffer)) === 1
    ) {
      info.curve = new TextDecoder().decode(name.subarray(0, Number(length[0])));
    }
  }
  return info;
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
    fingerprint: fingerprintOf(x509, true),
    spkiSha256: spkiPinOf(x509),
    publicKey: publicKeyOf(x509),
    keyUsage: namesOf(libcrypto.X509_get_key_usage(x509), KEY_USAGE),
    extKeyUsage: namesOf(libcrypto.X509_get_extended_key_usage(x509), EXT_KEY_USAGE),
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
