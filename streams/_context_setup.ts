/**
 * Applying an abstract context's options to its SSL_CTX: identity (PEM, PKCS#12), trust (CAs, CRLs, verify
 * flags and depth), versions and ciphers, the key log, and the verify mode.
 *
 * @module
 */

import type { AnyContextOptions, SslContextOptions } from "./_context_options.ts";
import { cString } from "../ffi/_cstring.ts";
import { callFailed, clearErrors } from "../ffi/_error_queue.ts";
import {
  readCertificates,
  readCertificatesAny,
  readCrlFile,
  readCrls,
  readPkcs12,
  readPrivateKey,
} from "../ffi/_pem.ts";
import { setCipherList, setCiphersuites, setGroups } from "../ffi/ciphers.ts";
import { checkKeylogFile, setKeylog } from "../ffi/_keylog_environment.ts";
import { PSK_CIPHERS, PSK_CIPHERSUITES } from "../ffi/_psk.ts";
import { DEFAULT_CIPHERS } from "../ffi/ssl_ctx.ts";
import {
  SSL_FILETYPE_PEM,
  SSL_VERIFY_NONE,
  X509_V_FLAG_CRL_CHECK,
  X509_V_FLAG_CRL_CHECK_ALL,
} from "../ffi/constants.ts";
import { versionNumber } from "../ffi/connection_info.ts";
import { loadOpenssl } from "../ffi/library.ts";
import { addSystemTrust } from "../ffi/_system_trust.ts";
import {
  SSL_CTX_add1_chain_cert,
  SSL_CTX_set_max_proto_version,
  SSL_CTX_set_min_proto_version,
} from "../ffi/macros.ts";
import { nativePasswordCallback, type PasswordCallback } from "../ffi/password.ts";
import type { SslCtxPointer } from "../ffi/pointers.ts";
import { nativeVerifyCallback, type VerifyCallback, verifyFlagBits } from "../ffi/verification.ts";

/** Loads the certificate, key and chain from PEM files, PEM text or a PKCS#12 bundle, and checks they match. */
export function loadIdentity(ctx: SslCtxPointer, options: SslContextOptions, name: string): void {
  const raw = ctx.pointer;
  const { libssl, libcrypto } = loadOpenssl();
  if (options.passwordCallback || options.password !== undefined) {
    const answer: PasswordCallback = options.passwordCallback ?? (() => options.password!);
    libssl.SSL_CTX_set_default_passwd_cb(raw, nativePasswordCallback("ctx", raw, answer));
  }
  clearErrors();
  if (options.certFile !== undefined && options.keyFile !== undefined) {
    if (libssl.SSL_CTX_use_certificate_chain_file(raw, cString(options.certFile, "certFile")) !== 1) {
      throw callFailed(`${name}: loading certFile ${options.certFile}`);
    }
    if (
      libssl.SSL_CTX_use_PrivateKey_file(raw, cString(options.keyFile, "keyFile"), SSL_FILETYPE_PEM) !== 1
    ) {
      throw callFailed(`${name}: loading keyFile ${options.keyFile}`);
    }
  } else if (options.cert !== undefined && options.key !== undefined) {
    const [leaf, ...chain] = readCertificates(options.cert, `${name}: cert`);
    try {
      if (libssl.SSL_CTX_use_certificate(raw, leaf) !== 1) throw callFailed(`${name}: using cert`);
      for (const intermediate of chain) {
        if (SSL_CTX_add1_chain_cert(raw, intermediate) !== 1) throw callFailed(`${name}: adding the chain`);
      }
    } finally {
      for (const certificate of [leaf, ...chain]) libcrypto.X509_free(certificate);
    }
    const encrypted = options.key.includes("ENCRYPTED");
    const password = encrypted
      ? options.password ?? options.passwordCallback?.({ maxLength: 1024, forEncryption: false })
      : undefined;
    const key = readPrivateKey(options.key, password, `${name}: key`);
    try {
      if (libssl.SSL_CTX_use_PrivateKey(raw, key) !== 1) throw callFailed(`${name}: using key`);
    } finally {
      libcrypto.EVP_PKEY_free(key);
    }
  } else if (options.pfx !== undefined || options.pfxFile !== undefined) {
    const what = options.pfxFile === undefined ? `${name}: pfx` : `${name}: pfxFile ${options.pfxFile}`;
    const bundle = readPkcs12(options.pfx ?? { file: options.pfxFile! }, options.password ?? "", what);
    try {
      if (libssl.SSL_CTX_use_certificate(raw, bundle.certificate) !== 1) {
        throw callFailed(`${what}: its certificate`);
      }
      if (libssl.SSL_CTX_use_PrivateKey(raw, bundle.key) !== 1) throw callFailed(`${what}: its key`);
      for (const intermediate of bundle.chain) {
        if (SSL_CTX_add1_chain_cert(raw, intermediate) !== 1) throw callFailed(`${what}: its chain`);
      }
    } finally {
      libcrypto.EVP_PKEY_free(bundle.key);
      for (const certificate of [bundle.certificate, ...bundle.chain]) libcrypto.X509_free(certificate);
    }
  } else {
    return;
  }
  if (libssl.SSL_CTX_check_private_key(raw) !== 1) {
    throw callFailed(`${name}: the key does not match the certificate`);
  }
}

/**
 * Loads the trust store (the system's or the given file/directory, plus `ca`), the CRLs, verify flags and depth.
 * Returns whether anything is trusted.
 */
export function loadTrust(
  ctx: SslCtxPointer,
  options: SslContextOptions,
  useSystemStore: boolean,
  name: string,
): boolean {
  const raw = ctx.pointer;
  const { libssl, libcrypto } = loadOpenssl();
  clearErrors();
  let trusted = false;
  if (options.opensslTrustedFile !== undefined || options.opensslTrustedDirectory !== undefined) {
    const file = options.opensslTrustedFile === undefined
      ? null
      : cString(options.opensslTrustedFile, "opensslTrustedFile");
    const directory = options.opensslTrustedDirectory === undefined
      ? null
      : cString(options.opensslTrustedDirectory, "opensslTrustedDirectory");
    if (libssl.SSL_CTX_load_verify_locations(raw, file, directory) !== 1) {
      throw callFailed(`${name}: loading opensslTrustedFile/opensslTrustedDirectory`);
    }
    trusted = true;
  } else if (useSystemStore) {
    // Honours SSL_CERT_FILE and SSL_CERT_DIR; the file is parsed once while it is unchanged.
    if (!addSystemTrust(libssl.SSL_CTX_get_cert_store(raw))) {
      throw callFailed(`${name}: loading the system trust store`);
    }
    trusted = true;
  }
  const store = libssl.SSL_CTX_get_cert_store(raw);
  if (options.ca !== undefined) {
    const certificates = readCertificatesAny(options.ca, `${name}: ca`);
    try {
      for (const certificate of certificates) {
        // The store takes its own reference.
        if (libcrypto.X509_STORE_add_cert(store, certificate) !== 1) throw callFailed(`${name}: adding ca`);
      }
    } finally {
      for (const certificate of certificates) libcrypto.X509_free(certificate);
    }
    trusted = true;
  }
  const crls = [
    ...(options.crl === undefined ? [] : readCrls(options.crl, `${name}: crl`)),
    ...(options.crlFile === undefined ? [] : readCrlFile(options.crlFile, `${name}: crlFile`)),
  ];
  try {
    for (const crl of crls) {
      if (libcrypto.X509_STORE_add_crl(store, crl) !== 1) throw callFailed(`${name}: adding a CRL`);
    }
  } finally {
    for (const crl of crls) libcrypto.X509_CRL_free(crl);
  }
  const param = libssl.SSL_CTX_get0_param(raw);
  if (crls.length > 0) {
    libcrypto.X509_VERIFY_PARAM_set_flags(
      param,
      options.crlCheck === "chain"
        ? X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL
        : X509_V_FLAG_CRL_CHECK,
    );
  }
  if (options.verifyFlags !== undefined) {
    const { set, clear } = verifyFlagBits(options.verifyFlags);
    if (clear) libcrypto.X509_VERIFY_PARAM_clear_flags(param, clear);
    if (set) libcrypto.X509_VERIFY_PARAM_set_flags(param, set);
  }
  if (options.verifyDepth !== undefined) libssl.SSL_CTX_set_verify_depth(raw, options.verifyDepth);
  return trusted;
}

/** Sets the version range (level 0 for TLS 1.0/1.1 only), cipher list, TLS 1.3 suites and groups. */
export function applyProtocolAndCiphers(ctx: SslCtxPointer, options: AnyContextOptions, name: string): void {
  const raw = ctx.pointer;
  const { libssl } = loadOpenssl();
  const minimum = options.protocolVersion ?? "tls-v1-2";
  if (minimum === "tls-v1" || minimum === "tls-v1-1") {
    // TLS 1.0 and 1.1 sign with SHA-1/MD5, which OpenSSL 3 allows only at level 0: this context only.
    libssl.SSL_CTX_set_security_level(raw, 0);
  }
  clearErrors();
  if (SSL_CTX_set_min_proto_version(raw, versionNumber(minimum)) !== 1) {
    throw callFailed(`${name}: protocolVersion`);
  }
  if (
    options.maxProtocolVersion !== undefined &&
    SSL_CTX_set_max_proto_version(raw, versionNumber(options.maxProtocolVersion)) !== 1
  ) {
    throw callFailed(`${name}: maxProtocolVersion`);
  }
  if (options.ciphers !== undefined) setCipherList(ctx, options.ciphers);
  // With a PSK, the forward-secret PSK suites too (TLS 1.3 needs nothing more).
  else if (options.psk !== undefined || options.pskCallback !== undefined) {
    setCipherList(ctx, `${DEFAULT_CIPHERS}:${PSK_CIPHERS}`);
  } // TLS 1.0 and 1.1 have no forward-secret AEAD suites: with them, OpenSSL's default list.
  else if (minimum === "tls-v1" || minimum === "tls-v1-1") setCipherList(ctx, "DEFAULT");
  if (options.ciphersuites !== undefined) setCiphersuites(ctx, options.ciphersuites);
  // A TLS 1.3 external PSK is bound to SHA-256: those suites first, or a server with a certificate would take
  // TLS_AES_256_GCM_SHA384 and the certificate instead of the key.
  else if (options.psk !== undefined || options.pskCallback !== undefined) {
    setCiphersuites(ctx, PSK_CIPHERSUITES);
  }
  if (options.groups !== undefined) setGroups(ctx, options.groups);
}

/**
 * Sends key log lines to `keylog` and/or appends them to `keylogFile` (0600), when either is given.
 *
 * @throws {Error} when `keylogFile` cannot be opened for appending now (see `checkKeylogFile`).
 */
export function applyKeylog(ctx: SslCtxPointer, options: SslContextOptions): void {
  const { keylog, keylogFile } = options;
  if (keylog === undefined && keylogFile === undefined) return;
  // Tried now, so that a key log asked for is not silently missing (a reload tries it again).
  if (keylogFile !== undefined) checkKeylogFile(keylogFile);
  setKeylog(ctx.pointer, { keylog, file: keylogFile });
}

/** Sets the verify mode, with the module's callback when there is a verify callback or pins. */
export function setVerify(
  ctx: SslCtxPointer,
  bits: number,
  callback: VerifyCallback | undefined,
  pins: readonly string[] | undefined,
  side: "client" | "server",
): void {
  const raw = ctx.pointer;
  if (pins !== undefined && bits === SSL_VERIFY_NONE) {
    throw new TypeError(
      "pins check the verified chain: they need verification on (verify: true on a client; requestClientCert or " +
        "requireClientCert on a server)",
    );
  }
  // A server's callback goes on even while it asks for no certificate: a post-handshake request uses it. (A
  // client that does not verify must not have one: OpenSSL would call it, and its answer would count.)
  const native = (callback || pins) && (bits !== SSL_VERIFY_NONE || side === "server")
    ? nativeVerifyCallback("ctx", raw, callback, pins)
    : null;
  loadOpenssl().libssl.SSL_CTX_set_verify(raw, bits, native);
}
