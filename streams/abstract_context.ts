/**
 * Abstract contexts, LispWorks 8's `create-ssl-client-context` and
 * `create-ssl-server-context`: one configured SSL_CTX that serves every
 * connection made from it, usable as `sslCtx` everywhere.
 *
 * @module
 */

import { alpnSelectCallback, encodeAlpn } from "../ffi/_alpn.ts";
import { checkNoNul, cString, readCString } from "../ffi/_cstring.ts";
import { callFailed, clearErrors } from "../ffi/_error_queue.ts";
import { callbackFor, releaseWhenFreed } from "../ffi/_lifetimes.ts";
import {
  isPemOrDer,
  type PemOrDer,
  readCertificates,
  readCertificatesAny,
  readCrlFile,
  readCrls,
  readPkcs12,
  readPrivateKey,
} from "../ffi/_pem.ts";
import { setCipherList, setCiphersuites, setGroups } from "../ffi/ciphers.ts";
import {
  SSL_AD_UNRECOGNIZED_NAME,
  SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
  SSL_FILETYPE_PEM,
  SSL_TLSEXT_ERR_ALERT_FATAL,
  SSL_TLSEXT_ERR_OK,
  SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
  SSL_VERIFY_NONE,
  SSL_VERIFY_PEER,
} from "../ffi/constants.ts";
import { isProtocolVersion, type SslProtocolVersion, versionNumber } from "../ffi/connection_info.ts";
import { loadOpenssl } from "../ffi/library.ts";
import {
  SSL_CTX_add1_chain_cert,
  SSL_CTX_set_max_proto_version,
  SSL_CTX_set_min_proto_version,
} from "../ffi/macros.ts";
import { nativePasswordCallback, type PasswordCallback } from "../ffi/password.ts";
import { describe, type SslCtxPointer, type SslPointer } from "../ffi/pointers.ts";
import { newContextFor, setServerSessionContext } from "../ffi/ssl_ctx.ts";
import { checkHostName } from "./_host_name.ts";
import {
  checkStapledResponses,
  type OcspCheck,
  type OcspResponseSource,
  requestOcsp,
  stapleResponses,
} from "../ffi/_ocsp.ts";
import { functionId, markVerifyingByDefault, recordVerificationChoice } from "../ffi/_verify_policy.ts";
import {
  checkPins,
  nativeVerifyCallback,
  type VerifyCallback,
  verifyFlagBits,
  type VerifyFlags,
} from "../ffi/verification.ts";

/** What client and server contexts share. */
export interface SslContextOptions {
  /** A PEM file with the certificate, then any intermediates. */
  certFile?: string;
  /** A PEM file with the private key. */
  keyFile?: string;
  /** The certificate (then any intermediates) as PEM text. */
  cert?: string;
  /** The private key as PEM text. */
  key?: string;
  /** The password of an encrypted private key. */
  password?: string;
  /** Asked for the password of an encrypted private key. */
  passwordCallback?: PasswordCallback;
  /**
   * A PKCS#12 bundle (`.p12` / `.pfx` bytes) holding the certificate, its key and any chain certificates,
   * opened with `password` (empty if none; nothing ever prompts). Instead of cert/key or certFile/keyFile.
   */
  pfx?: Uint8Array;
  /** A PKCS#12 file, read by OpenSSL itself, as `pfx`. */
  pfxFile?: string;
  /**
   * Extra trusted CAs, added to the trust store: PEM text (one or more certificates), DER or PEM bytes, or a
   * list of those.
   */
  ca?: PemOrDer;
  /**
   * Certificate revocation lists (PEM text, DER or PEM bytes, or a list), checked as `crlCheck` says: a
   * revoked certificate fails with `SslVerificationFailure` code 23.
   */
  crl?: PemOrDer;
  /** A PEM file of CRLs, as `crl`. */
  crlFile?: string;
  /**
   * What the CRLs cover: the peer's own certificate ("leaf"), or every certificate of its chain ("chain",
   * where a CA without a CRL fails with code 3). The default with a CRL is "leaf".
   */
  crlCheck?: "leaf" | "chain";
  /**
   * The most intermediate CAs a peer's chain may have; a longer one fails with code 22. OpenSSL's default
   * is 100.
   */
  verifyDepth?: number;
  /** OpenSSL's verification flags by name, e.g. `{ partialChain: true }` (see `VerifyFlags`). */
  verifyFlags?: VerifyFlags;
  /**
   * SHA-256 pins of SubjectPublicKeyInfos, `"sha256/<base64>"` (HPKP's and curl's `--pinnedpubkey` form;
   * `PeerCertificate.spkiSha256` gives it): the handshake fails, naming the pins and the keys seen, unless a
   * certificate of the verified chain matches one. Checked during the handshake, before any byte is sent;
   * it needs verification on (a server: `requestClientCert` or `requireClientCert`).
   */
  pins?: readonly string[];
  /** A PEM file of trusted CAs, instead of the system store. */
  opensslTrustedFile?: string;
  /** A hashed directory of trusted CAs (`openssl rehash`), instead of the system store. */
  opensslTrustedDirectory?: string;
  /**
   * The lowest version accepted. "tls-v1" and "tls-v1-1" also lower the
   * security level to 0 for this context only (they sign with SHA-1).
   * @default {"tls-v1-2"}
   */
  protocolVersion?: SslProtocolVersion;
  /** The highest version offered; none by default. */
  maxProtocolVersion?: SslProtocolVersion;
  /** Decides each certificate of the peer's chain (see `setVerificationMode`). */
  verifyCallback?: VerifyCallback;
  /** Protocols for ALPN, in preference order. */
  alpnProtocols?: readonly string[];
  /** The TLS 1.2-and-below cipher list (OpenSSL syntax). */
  ciphers?: string;
  /** The TLS 1.3 cipher suites. */
  ciphersuites?: string;
  /** The key exchange groups, e.g. "X25519:P-256". */
  groups?: string;
  /** Receives each key log line (NSS format, for Wireshark). Off unless given: it reveals the keys. */
  keylog?: (line: string) => void;
  /** Appends each key log line to this file. Off unless given. */
  keylogFile?: string;
  /** Called with the new SSL_CTX after everything above is applied. */
  opensslCtxConfigureCallback?: (ctx: SslCtxPointer) => void;
  /** Called with each new SSL made from this context. */
  opensslSslConfigureCallback?: (ssl: SslPointer) => void;
}

/** Options of `createSslClientContext`. */
export interface SslClientContextOptions extends SslContextOptions {
  /**
   * Verify the server's chain and name; turning it off is for tests only.
   * @default {true}
   */
  verify?: boolean;
  /** The server name to send (SNI) and verify, when the connection gives none. */
  tlsextHostName?: string;
  /** A session from `stream.session()` to offer for resumption. */
  session?: Uint8Array;
  /**
   * Ask the server for a stapled OCSP response and check it during the handshake, against the verified chain
   * (signed by the issuer or a responder it delegates to, current within 5 minutes): "require" fails a server
   * that staples none (code 74), "if-stapled" only one whose response is bad. Either way a response saying
   * "revoked" fails with code 23, "unknown" with 75. A resumed session was checked when it was made.
   * `stream.ocspResponse` gives the response. Needs `verify`. Off by default.
   */
  ocspCheck?: OcspCheck;
  /**
   * Ask the server for a stapled OCSP response without checking it (`ocspCheck` checks it, and asks too):
   * `stream.ocspResponse` gives it, for the application to judge. Off by default.
   */
  requestOcsp?: boolean;
}

/**
 * Server contexts by the name a client asks for (SNI): a map of host names
 * (`*.example.com` matches one label) to contexts, or a function.
 */
export type SniContexts =
  | Record<string, SslAbstractContext>
  | Map<string, SslAbstractContext>
  | ((name: string) => SslAbstractContext | undefined);

/** Options of `createSslServerContext`. */
export interface SslServerContextOptions extends SslContextOptions {
  /**
   * Other server contexts to use when the client asks for their names (SNI); this one is the default. The
   * name is read from the ClientHello before the connection's SSL is made, and the SSL is made from the
   * chosen context, so all of its settings hold. A function that throws refuses the client with an
   * unrecognized_name alert. Only the context given as `sslCtx` routes: a chosen context's own `sni` is not
   * consulted.
   */
  sni?: SniContexts;
  /** Ask for a client certificate and verify it if one comes. */
  requestClientCert?: boolean;
  /** Require a valid client certificate (implies `requestClientCert`). */
  requireClientCert?: boolean;
  /**
   * The OCSP response (DER, from the CA's responder: `openssl ocsp -respout`) to staple for clients that ask,
   * or a function of this context's certificate that gives the current one (or `null` for none); it runs in
   * each handshake, synchronously, so keep it to a lookup. A function that throws or gives anything but bytes
   * staples nothing. The module does not fetch responses: refresh them before their nextUpdate.
   */
  ocspResponse?: OcspResponseSource;
}

const SHARED_KEYS = [
  "pfx",
  "pfxFile",
  "crl",
  "crlFile",
  "crlCheck",
  "verifyDepth",
  "verifyFlags",
  "pins",
  "certFile",
  "keyFile",
  "cert",
  "key",
  "password",
  "passwordCallback",
  "ca",
  "opensslTrustedFile",
  "opensslTrustedDirectory",
  "protocolVersion",
  "maxProtocolVersion",
  "verifyCallback",
  "alpnProtocols",
  "ciphers",
  "ciphersuites",
  "groups",
  "keylog",
  "keylogFile",
  "opensslCtxConfigureCallback",
  "opensslSslConfigureCallback",
];
const CLIENT_KEYS = new Set([
  ...SHARED_KEYS,
  "verify",
  "tlsextHostName",
  "session",
  "ocspCheck",
  "requestOcsp",
]);
const SERVER_KEYS = new Set([
  ...SHARED_KEYS,
  "requestClientCert",
  "requireClientCert",
  "sni",
  "ocspResponse",
]);

// int servername_cb(SSL *s, int *al, void *arg)
const SERVERNAME_CALLBACK = { parameters: ["pointer", "pointer", "pointer"], result: "i32" } as const;

// void keylog_cb(const SSL *ssl, const char *line)
const KEYLOG_CALLBACK = { parameters: ["pointer", "pointer"], result: "void" } as const;

function checkKeys(name: string, options: object, known: Set<string>): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`${name}: unknown option ${JSON.stringify(key)}`);
  }
}

function checkString(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string, got ${describe(value)}`);
  }
  checkNoNul(value, name);
}

function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  }
}

function checkOptions(name: string, options: SslClientContextOptions & SslServerContextOptions): void {
  for (
    const key of [
      "certFile",
      "keyFile",
      "cert",
      "key",
      "pfxFile",
      "crlFile",
      "opensslTrustedFile",
      "opensslTrustedDirectory",
      "ciphers",
      "ciphersuites",
      "groups",
      "keylogFile",
      "tlsextHostName",
    ] as const
  ) {
    checkString(key, options[key]);
  }
  if (options.password !== undefined) checkNoNul(options.password, "password");
  for (
    const key of [
      "passwordCallback",
      "verifyCallback",
      "keylog",
      "opensslCtxConfigureCallback",
      "opensslSslConfigureCallback",
    ] as const
  ) {
    checkFunction(key, options[key]);
  }
  for (const key of ["protocolVersion", "maxProtocolVersion"] as const) {
    if (options[key] !== undefined && !isProtocolVersion(options[key])) {
      throw new RangeError(
        `${key} must be "tls-v1", "tls-v1-1", "tls-v1-2" or "tls-v1-3", got ${describe(options[key])}`,
      );
    }
  }
  if (options.protocolVersion === "v3" || options.maxProtocolVersion === "v3") {
    throw new RangeError(`${name}: SSLv3 is not available in OpenSSL 3`);
  }
  if (options.alpnProtocols !== undefined) encodeAlpn(options.alpnProtocols);
  for (const key of ["ca", "crl"] as const) {
    if (options[key] !== undefined && !isPemOrDer(options[key])) {
      throw new TypeError(
        `${key} must be PEM text, DER or PEM bytes, or a non-empty list of those, got ${
          describe(options[key])
        }`,
      );
    }
  }
  if (options.pfx !== undefined && (!(options.pfx instanceof Uint8Array) || options.pfx.length === 0)) {
    throw new TypeError(`pfx must be the bytes of a PKCS#12 bundle, got ${describe(options.pfx)}`);
  }
  const identities = [options.certFile, options.cert, options.pfx, options.pfxFile].filter((x) =>
    x !== undefined
  );
  if (identities.length > 1) {
    throw new TypeError(`${name}: give one of certFile/keyFile, cert/key, pfx or pfxFile`);
  }
  if (options.crlCheck !== undefined && options.crlCheck !== "leaf" && options.crlCheck !== "chain") {
    throw new TypeError(`crlCheck must be "leaf" or "chain", got ${describe(options.crlCheck)}`);
  }
  if (options.crlCheck !== undefined && options.crl === undefined && options.crlFile === undefined) {
    throw new TypeError(`${name}: crlCheck needs crl or crlFile`);
  }
  if (
    options.verifyDepth !== undefined &&
    (!Number.isInteger(options.verifyDepth) || options.verifyDepth < 0 || options.verifyDepth > 100)
  ) {
    throw new RangeError(
      `verifyDepth must be an integer from 0 to 100, got ${describe(options.verifyDepth)}`,
    );
  }
  if (options.verifyFlags !== undefined) verifyFlagBits(options.verifyFlags);
  if (options.pins !== undefined) checkPins(options.pins);
  if (options.tlsextHostName !== undefined) checkHostName(options.tlsextHostName, "tlsextHostName");
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw new TypeError(`${name}: certFile and keyFile go together`);
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError(`${name}: cert and key go together`);
  }
  if (options.cert !== undefined && options.certFile !== undefined) {
    throw new TypeError(`${name}: give cert/key or certFile/keyFile, not both`);
  }
  if (
    options.ocspCheck !== undefined && options.ocspCheck !== "require" && options.ocspCheck !== "if-stapled"
  ) {
    throw new TypeError(`ocspCheck must be "require" or "if-stapled", got ${describe(options.ocspCheck)}`);
  }
  if (options.requestOcsp !== undefined && typeof options.requestOcsp !== "boolean") {
    throw new TypeError(`requestOcsp must be a boolean, got ${describe(options.requestOcsp)}`);
  }
  if (options.requestOcsp === false && options.ocspCheck !== undefined) {
    throw new TypeError(`${name}: ocspCheck asks for the response: it cannot go with requestOcsp: false`);
  }
  const response = options.ocspResponse;
  if (
    response !== undefined && typeof response !== "function" &&
    !(response instanceof Uint8Array && response.length > 0)
  ) {
    throw new TypeError(
      `ocspResponse must be a DER OCSP response or a function giving one, got ${describe(response)}`,
    );
  }
  if (options.session !== undefined && !(options.session instanceof Uint8Array)) {
    throw new TypeError(
      `session must be a Uint8Array from stream.session(), got ${describe(options.session)}`,
    );
  }
}

/**
 * A configured SSL_CTX shared by every connection made from it, LispWorks'
 * `ssl-abstract-context`. Pass it as `sslCtx` to `openTcpStream`,
 * `makeInstance` or `attachSsl`; there `sslSide` and the plain
 * `ctxConfigureCallback` / `sslConfigureCallback` are ignored (the context
 * has its own side and callbacks). The SSL_CTX is freed once the context is
 * closed and the last connection using it is gone.
 *
 * @example
 * ```ts
 * import { createSslClientContext } from "@comm/socket-stream";
 *
 * using context = createSslClientContext({ protocolVersion: "tls-v1-3", alpnProtocols: ["h2", "http/1.1"] });
 * console.log(context.side); // "client"
 * ```
 */
export class SslAbstractContext implements Disposable {
  /** Which end its connections are. */
  readonly side: "client" | "server";
  /** Whether closing was asked for. */
  #closed = false;
  #connections = 0;
  readonly #ctx: SslCtxPointer;
  readonly #options: SslClientContextOptions & SslServerContextOptions;
  readonly #choose: SniChooser | undefined;
  #sessionIdentity: string | undefined;

  /** @internal Use `createSslClientContext` or `createSslServerContext`. */
  constructor(
    side: "client" | "server",
    ctx: SslCtxPointer,
    options: SslClientContextOptions & SslServerContextOptions,
    choose?: SniChooser,
  ) {
    this.side = side;
    this.#ctx = ctx;
    this.#options = options;
    this.#choose = choose;
  }

  /** @internal Whether this server context hands clients to other contexts by the name they ask for (`sni`). */
  get routesByName(): boolean {
    return this.#choose !== undefined;
  }

  /**
   * @internal The context that serves a client asking for `name` (this one when no other is registered, or
   * for no name).
   *
   * @throws what the `sni` function throws; a `TypeError` if it answers with something that is not an open
   *   server context.
   */
  contextFor(name: string | null): SslAbstractContext {
    if (name === null || this.#choose === undefined) return this;
    const chosen = this.#choose(name);
    if (chosen === undefined || chosen === null) return this;
    if (!(chosen instanceof SslAbstractContext) || chosen.side !== "server") {
      throw new TypeError(
        `sni chose ${describe(chosen)} for ${JSON.stringify(name)}, not a server SslAbstractContext`,
      );
    }
    if (chosen.closed) throw new TypeError(`sni chose a closed context for ${JSON.stringify(name)}`);
    return chosen;
  }

  /**
   * The SSL_CTX, for raw OpenSSL calls.
   *
   * @throws {TypeError} once the context is closed.
   */
  get ctx(): SslCtxPointer {
    if (this.#closed) throw new TypeError("This SslAbstractContext is closed");
    return this.#ctx;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The server name a client connection sends and verifies when it is given none. */
  get tlsextHostName(): string | undefined {
    return this.#options.tlsextHostName;
  }

  /** The session a client connection offers when it is given none. */
  get session(): Uint8Array | undefined {
    return this.#options.session;
  }

  /** @internal What a client connection's sessions are bound to, besides its host (see `_verify_policy.ts`). */
  get sessionIdentity(): string {
    return this.#sessionIdentity ??= `${this.side} context ${configurationOf(this.#options)}`;
  }

  /** @internal A connection starts using the SSL_CTX; call the returned function when it ends. */
  acquire(): { ctx: SslCtxPointer; configure?: (ssl: SslPointer) => void; release: () => void } {
    const ctx = this.ctx;
    this.#connections++;
    let released = false;
    return {
      ctx,
      configure: this.#options.opensslSslConfigureCallback,
      release: () => {
        if (released) return;
        released = true;
        this.#connections--;
        this.#freeIfDone();
      },
    };
  }

  #freeIfDone(): void {
    if (this.#closed && this.#connections === 0 && !this.#ctx.freed) this.#ctx.destroy();
  }

  /** No new connections; the SSL_CTX is freed when the last one is gone. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#freeIfDone();
  }

  /** Closes the context (as `close()`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

function loadIdentity(ctx: SslCtxPointer, options: SslContextOptions, name: string): void {
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

function loadTrust(
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
    // Honours SSL_CERT_FILE and SSL_CERT_DIR.
    if (libssl.SSL_CTX_set_default_verify_paths(raw) !== 1) {
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
    // X509_V_FLAG_CRL_CHECK, and X509_V_FLAG_CRL_CHECK_ALL for the whole chain.
    libcrypto.X509_VERIFY_PARAM_set_flags(param, options.crlCheck === "chain" ? 0x4n | 0x8n : 0x4n);
  }
  if (options.verifyFlags !== undefined) {
    const { set, clear } = verifyFlagBits(options.verifyFlags);
    if (clear) libcrypto.X509_VERIFY_PARAM_clear_flags(param, clear);
    if (set) libcrypto.X509_VERIFY_PARAM_set_flags(param, set);
  }
  if (options.verifyDepth !== undefined) libssl.SSL_CTX_set_verify_depth(raw, options.verifyDepth);
  return trusted;
}

function applyProtocolAndCiphers(ctx: SslCtxPointer, options: SslContextOptions, name: string): void {
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
  // TLS 1.0 and 1.1 have no forward-secret AEAD suites: with them, OpenSSL's default list.
  else if (minimum === "tls-v1" || minimum === "tls-v1-1") setCipherList(ctx, "DEFAULT");
  if (options.ciphersuites !== undefined) setCiphersuites(ctx, options.ciphersuites);
  if (options.groups !== undefined) setGroups(ctx, options.groups);
}

function applyKeylog(ctx: SslCtxPointer, options: SslContextOptions): void {
  const { keylog, keylogFile } = options;
  if (keylog === undefined && keylogFile === undefined) return;
  const raw = ctx.pointer;
  const native = callbackFor("ctx", raw, KEYLOG_CALLBACK, (_ssl, line) => {
    const text = readCString(line);
    if (text === null) return;
    try {
      keylog?.(text);
      if (keylogFile !== undefined) Deno.writeTextFileSync(keylogFile, `${text}\n`, { append: true });
    } catch {
      // A failing sink must not break the handshake.
    }
  });
  loadOpenssl().libssl.SSL_CTX_set_keylog_callback(raw, native);
}

/** Whether a host name matches a pattern: exact, or `*.domain` for exactly one more label. */
export function hostMatches(pattern: string, name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, "");
  const wanted = pattern.toLowerCase().replace(/\.$/, "");
  if (!wanted.startsWith("*.")) return host === wanted;
  const suffix = wanted.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".") && host.length > suffix.length;
}

/** How a server context picks the context for a name. */
type SniChooser = (name: string) => SslAbstractContext | undefined;

function sniChooser(sni: SniContexts): SniChooser {
  if (typeof sni === "function") return sni;
  if (typeof sni !== "object" || sni === null) {
    throw new TypeError(
      `sni must be a map of host names to server contexts or a function, got ${describe(sni)}`,
    );
  }
  const entries = sni instanceof Map ? [...sni.entries()] : Object.entries(sni);
  for (const [pattern, context] of entries) {
    if (!(context instanceof SslAbstractContext) || context.side !== "server") {
      throw new TypeError(
        `sni[${JSON.stringify(pattern)}] must be a server SslAbstractContext, got ${describe(context)}`,
      );
    }
  }
  // Exact names before wildcards.
  const ordered = [...entries].sort(([a], [b]) => Number(a.startsWith("*.")) - Number(b.startsWith("*.")));
  return (name) => ordered.find(([pattern]) => hostMatches(pattern, name))?.[1];
}

// Which context routed each SSL it made (see attachSsl) to which, by the SSL's address.
const routes = new Map<bigint, { router: SslAbstractContext; chosen: SslAbstractContext }>();

/**
 * @internal Records that `router` chose `chosen` for the SSL `ssl`, made from `chosen`'s SSL_CTX, by the name in
 * a ClientHello the module read itself; the servername callback checks that OpenSSL reads the same name.
 */
export function recordRoute(ssl: SslPointer, router: SslAbstractContext, chosen: SslAbstractContext): void {
  const address = Deno.UnsafePointer.value(ssl.pointer);
  routes.set(address, { router, chosen });
  releaseWhenFreed("ssl", ssl.pointer, () => routes.delete(address));
}

/**
 * Every server context checks, when OpenSSL has read the client's name, that the connection runs on the
 * context that name maps to: an SSL made from it by the module's routing (which read the name before the SSL
 * existed), or from its raw SSL_CTX. A name that maps elsewhere fails the handshake with an alert: OpenSSL
 * cannot switch a connection's verify mode, protocol range or ciphers this late, so nothing is switched.
 */
function installNameCheck(ctx: SslCtxPointer, self: () => SslAbstractContext | undefined): void {
  const { libssl } = loadOpenssl();
  const raw = ctx.pointer;
  const native = callbackFor("ctx", raw, SERVERNAME_CALLBACK, (ssl, alert) => {
    if (ssl === null) return SSL_TLSEXT_ERR_OK;
    const name = readCString(libssl.SSL_get_servername(ssl, 0))?.toLowerCase() ?? null;
    const route = routes.get(Deno.UnsafePointer.value(ssl));
    const context = self();
    const router = route?.router ?? context;
    const expected = route?.chosen ?? context;
    try {
      if (router === undefined || router.contextFor(name) === expected) return SSL_TLSEXT_ERR_OK;
    } catch {
      // A chooser that fails refuses the name.
    }
    if (alert !== null) {
      new Int32Array(Deno.UnsafePointerView.getArrayBuffer(alert, 4))[0] = SSL_AD_UNRECOGNIZED_NAME;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  });
  libssl.SSL_CTX_callback_ctrl(raw, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, native);
}

function build(
  side: "client" | "server",
  options: SslClientContextOptions & SslServerContextOptions,
  configure: (ctx: SslCtxPointer) => void,
): SslAbstractContext {
  const name = side === "client" ? "createSslClientContext" : "createSslServerContext";
  if (typeof options !== "object" || options === null) throw new TypeError(`${name} needs an options object`);
  checkKeys(name, options, side === "client" ? CLIENT_KEYS : SERVER_KEYS);
  checkOptions(name, options);
  const choose = options.sni === undefined ? undefined : sniChooser(options.sni);
  const ctx = newContextFor(true, side, { secureClientDefaults: false });
  // The name check runs only for handshakes, after the context below exists.
  const made: { context?: SslAbstractContext } = {};
  try {
    if (side === "server") installNameCheck(ctx, () => made.context);
    applyProtocolAndCiphers(ctx, options, name);
    loadIdentity(ctx, options, name);
    configure(ctx);
    if (options.alpnProtocols !== undefined) {
      const { libssl } = loadOpenssl();
      if (side === "client") {
        const wire = encodeAlpn(options.alpnProtocols);
        if (libssl.SSL_CTX_set_alpn_protos(ctx.pointer, wire, wire.length) !== 0) {
          throw callFailed(`${name}: alpnProtocols`);
        }
      } else {
        libssl.SSL_CTX_set_alpn_select_cb(
          ctx.pointer,
          alpnSelectCallback(ctx.pointer, options.alpnProtocols),
          null,
        );
      }
    }
    applyKeylog(ctx, options);
    options.opensslCtxConfigureCallback?.(ctx);
  } catch (error) {
    ctx.destroy();
    throw error;
  }
  made.context = new SslAbstractContext(side, ctx, { ...options }, choose);
  return made.context;
}

/**
 * What a context promises about authentication, identity, versions and ciphers, as text: a server's session id
 * context is its digest, so a session made under one policy never resumes under another (contexts that share
 * ticket keys, SNI contexts) while equal configurations, in any process, resume each other's sessions; a
 * client's sessions carry it too. A function (a verify or configure callback, which may decide anything)
 * counts by identity, in this process.
 */
function configurationOf(options: SslClientContextOptions & SslServerContextOptions): string {
  // Secrets and what does not bear on authentication stay out.
  const {
    sni: _sni,
    keylog: _keylog,
    keylogFile: _keylogFile,
    key: _key,
    pfx: _pfx,
    password: _password,
    passwordCallback: _passwordCallback,
    session: _session,
    tlsextHostName: _tlsextHostName,
    // What a server staples changes as responses are refreshed; it does not change who it is.
    ocspResponse: _ocspResponse,
    ...rest
  } = options;
  return JSON.stringify(rest, (_name, value) => typeof value === "function" ? functionId(value) : value);
}

function setVerify(
  ctx: SslCtxPointer,
  bits: number,
  callback: VerifyCallback | undefined,
  pins: readonly string[] | undefined,
): void {
  const raw = ctx.pointer;
  if (pins !== undefined && bits === SSL_VERIFY_NONE) {
    throw new TypeError(
      "pins check the verified chain: they need verification on (verify: true on a client; requestClientCert or " +
        "requireClientCert on a server)",
    );
  }
  const native = (callback || pins) && bits !== SSL_VERIFY_NONE
    ? nativeVerifyCallback("ctx", raw, callback, pins)
    : null;
  loadOpenssl().libssl.SSL_CTX_set_verify(raw, bits, native);
}

/**
 * Makes a client context, LispWorks 8's `create-ssl-client-context`. By
 * default it verifies the server against the system trust store
 * (`SSL_CERT_FILE` / `SSL_CERT_DIR` honoured), checks the host name, and
 * accepts TLS 1.2 and 1.3.
 *
 * @param options trust, identity (for client certificates), versions, ALPN, ciphers, session, key log.
 * @returns the context; close it when done (connections keep it alive until they end).
 * @throws {TypeError} or {RangeError} for a wrong or unknown option, naming it.
 * @throws {SslCondition} when OpenSSL refuses a file, a key, a list or a password.
 * @example Mutual TLS with a client certificate
 * ```ts
 * import { createSslClientContext, openTcpStream } from "@comm/socket-stream";
 *
 * using context = createSslClientContext({
 *   certFile: "client.pem",
 *   keyFile: "client.key",
 *   ca: await Deno.readTextFile("ca.pem"),
 * });
 * await using stream = await openTcpStream("localhost", 8443, { sslCtx: context });
 * ```
 * @example Revocation: a CRL, and the server's stapled OCSP response required
 * ```ts
 * import { createSslClientContext } from "@comm/socket-stream";
 *
 * using context = createSslClientContext({
 *   crlFile: "ca.crl",
 *   ocspCheck: "require",
 *   pins: ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
 * });
 * ```
 */
export function createSslClientContext(options: SslClientContextOptions = {}): SslAbstractContext {
  return build("client", options, (ctx) => {
    const verify = options.verify ?? true;
    if (typeof verify !== "boolean") throw new TypeError(`verify must be a boolean, got ${describe(verify)}`);
    loadTrust(ctx, options, verify, "createSslClientContext");
    setVerify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, options.verifyCallback, options.pins);
    if (verify) markVerifyingByDefault(ctx.pointer);
    else recordVerificationChoice("ctx", ctx.pointer, false);
    if (options.ocspCheck !== undefined) {
      if (!verify) throw new TypeError("ocspCheck checks the verified chain: it needs verify: true");
      checkStapledResponses(ctx.pointer, options.ocspCheck);
    }
    if (options.ocspCheck !== undefined || options.requestOcsp) requestOcsp(ctx.pointer);
  });
}

/**
 * Makes a server context, LispWorks 8's `create-ssl-server-context`. It
 * needs a certificate and key. With `requestClientCert` or
 * `requireClientCert` it verifies client certificates against `ca`,
 * `opensslTrustedFile` or `opensslTrustedDirectory` (one is needed: a
 * server does not trust the system store for clients unless told to).
 *
 * With `sni`, a client asking for another name (SNI) is served by the context
 * registered for it (exact names first, then `*.domain` wildcards), with all
 * of that context's settings; any other name, or none, gets this context.
 *
 * @param options identity, client certificates, versions, ALPN, ciphers, key log, SNI.
 * @returns the context.
 * @throws {TypeError} or {RangeError} for a wrong or missing option, naming it.
 * @throws {SslCondition} when OpenSSL refuses a file, a key, a list or a password.
 * @example
 * ```ts
 * import { createSslServerContext, makeInstance } from "@comm/socket-stream";
 *
 * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key", alpnProtocols: ["h2"] });
 * for await (const socket of Deno.listen({ port: 8443 })) {
 *   const stream = await makeInstance("socket-stream", { socket, sslCtx: context });
 *   stream.close();
 * }
 * ```
 * @example Stapling an OCSP response, refreshed by the application
 * ```ts
 * import { createSslServerContext } from "@comm/socket-stream";
 *
 * let current = await Deno.readFile("server.ocsp.der"); // from `openssl ocsp -respout`
 * setInterval(async () => current = await Deno.readFile("server.ocsp.der"), 3_600_000);
 * using context = createSslServerContext({
 *   certFile: "server.pem",
 *   keyFile: "server.key",
 *   ocspResponse: () => current,
 * });
 * ```
 */
export function createSslServerContext(options: SslServerContextOptions): SslAbstractContext {
  const identity = options?.certFile !== undefined || options?.cert !== undefined ||
    options?.pfx !== undefined ||
    options?.pfxFile !== undefined;
  if (!identity) {
    throw new TypeError("createSslServerContext needs certFile and keyFile, cert and key, pfx or pfxFile");
  }
  return build("server", options, (ctx) => {
    const { requestClientCert = false, requireClientCert = false } = options;
    for (
      const [key, value] of [["requestClientCert", requestClientCert], [
        "requireClientCert",
        requireClientCert,
      ]]
    ) {
      if (typeof value !== "boolean") throw new TypeError(`${key} must be a boolean, got ${describe(value)}`);
    }
    const asks = requestClientCert || requireClientCert;
    const trusted = loadTrust(ctx, options, false, "createSslServerContext");
    if (asks && !trusted) {
      throw new TypeError(
        "createSslServerContext: requestClientCert/requireClientCert need ca, opensslTrustedFile or opensslTrustedDirectory",
      );
    }
    const bits = !asks
      ? SSL_VERIFY_NONE
      : SSL_VERIFY_PEER | (requireClientCert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    setVerify(ctx, bits, options.verifyCallback, options.pins);
    setServerSessionContext(ctx.pointer, configurationOf(options));
    if (options.ocspResponse !== undefined) stapleResponses(ctx.pointer, options.ocspResponse);
  });
}
