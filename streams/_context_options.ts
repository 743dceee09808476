/**
 * The options of the abstract contexts (`createSslClientContext`, `createSslServerContext`): their types, the
 * checks that refuse a wrong one before anything native is made, and what of them a session is bound to.
 *
 * @module
 */

import { encodeAlpn } from "../ffi/_alpn.ts";
import { checkNoNul } from "../ffi/_cstring.ts";
import { MAX_OCSP_RESPONSE_BYTES, type OcspCheck, type OcspResponseSource } from "../ffi/_ocsp.ts";
import { isPemOrDer, type PemOrDer } from "../ffi/_pem.ts";
import { TICKET_KEYS_LENGTH } from "../ffi/_sessions.ts";
import { isSessionBytes } from "../ffi/connection_info.ts";
import type { MessageCallback } from "../ffi/_messages.ts";
import type { CertRequestCallback } from "../ffi/_client_certificates.ts";
import { checkPskIdentity, checkPskIdentityAndKey, type PskIdentity } from "../ffi/_psk.ts";
import { functionId } from "../ffi/_verify_policy.ts";
import { sha256Hex } from "../ffi/_digest.ts";
import { isProtocolVersion, type SslProtocolVersion } from "../ffi/connection_info.ts";
import type { PasswordCallback } from "../ffi/password.ts";
import { describe, type SslCtxPointer, type SslPointer } from "../ffi/pointers.ts";
import { checkPins, type VerifyCallback, verifyFlagBits, type VerifyFlags } from "../ffi/verification.ts";
import { checkHostName } from "./_host_name.ts";
import type { SslAbstractContext } from "./abstract_context.ts";
import type { ClientHelloInfo } from "./_client_hello.ts";
import { checkFunction } from "../ffi/_option_checks.ts";

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
  /**
   * Appends each key log line to this file (opened for the lines of each handshake step, not kept open, so a
   * rotated file is followed), made mode 0600: only the owner may read the keys. Off unless given. A file that
   * cannot be opened for appending (a missing directory, a directory, a read-only file, no `--allow-write`) is
   * refused when the context is made (and on `reload()`): an `Error` naming the path and why, whose `cause` is
   * the file system's. Tried by making it and removing it again, so no empty file is left before the first
   * line. A file that cannot be written later is said once on stderr, and its lines are dropped until it can.
   */
  keylogFile?: string;
  /**
   * Called with every TLS protocol message each connection sends or receives (OpenSSL's message callback):
   * direction, content type, handshake message type, bytes. For debugging; it slows every record down.
   */
  onMessage?: MessageCallback;
  /**
   * Prints each connection's handshake to stderr, a line per message (`-> Handshake ClientHello (517
   * bytes)`), with `onMessage` if both are given. For debugging legacy peers.
   */
  trace?: boolean;
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
  /**
   * Chooses the certificate to send when the server asks for one (LispWorks 8's name): it sees the CAs the
   * server accepts (`info.acceptableCas`) and answers `{ cert, key }` (PEM text), `null` for none, or a
   * promise of either (awaited within the handshake timeout, never blocking). Throwing fails the handshake.
   * It replaces this context's own certificate for that connection. Its connections resume no session (not
   * `session`, not `sessionCache`): a session would carry the certificate an earlier handshake chose.
   */
  certRequestCallback?: CertRequestCallback;
  /**
   * Offer TLS 1.3 post-handshake authentication, so a server can ask for this client's certificate after the
   * handshake (`stream.requestClientCertificate()`); the client answers with its certificate (`certFile`...),
   * or none. Off by default.
   */
  postHandshakeAuth?: boolean;
  /**
   * Go along when a TLS 1.2 server renegotiates. Off by default: a module client refuses (renegotiation is
   * what attacks on TLS 1.2 went through; TLS 1.3 has none), and the server then fails the connection.
   */
  allowRenegotiation?: boolean;
  /**
   * Keep the newest session of each host and port this context connects to, and offer it on the next
   * connection there when none is given (`session` on the connection comes first, this context's `session`
   * option last). A session is only offered where it was made: the same host, verification and client
   * certificate (see `stream.session()`). At most 1000 hosts, the least recently used dropped first.
   * @default {false}
   */
  sessionCache?: boolean;
  /**
   * Called with every session the server issues (DER, for `session` later): TLS 1.2's at the handshake, TLS
   * 1.3's tickets after it, as they are read. Called after the read that brought it, never inside OpenSSL; a
   * callback that throws is ignored.
   */
  onSession?: (session: Uint8Array) => void;
  /**
   * A pre-shared key to offer (TLS 1.3 external PSK with SHA-256, as `openssl s_client -psk`; TLS 1.2 PSK
   * suites). A server that accepts it is authenticated by the key, without a certificate; one that does not
   * is verified as usual (TLS 1.3). Only with TLS 1.3 suites on SHA-256 (TLS_AES_128_GCM_SHA256,
   * TLS_CHACHA20_POLY1305_SHA256); at TLS 1.2 the forward-secret PSK suites join the list unless `ciphers`
   * says otherwise.
   */
  psk?: PskIdentity;
  /**
   * Chooses the PSK to offer, from the server's identity hint (TLS 1.2) or `null`; `null` offers none. Runs
   * in the handshake, synchronously: a promise (an async function) is refused, as is a throw or a wrong answer,
   * and the handshake fails saying why. Instead of `psk`.
   */
  pskCallback?: (hint: string | null) => PskIdentity | null;
}

/**
 * Server contexts by the name a client asks for (SNI): a map of host names
 * (`*.example.com` matches one label) to contexts, or a function.
 */
export type SniContexts =
  | Record<string, SslAbstractContext>
  | Map<string, SslAbstractContext>
  | ((name: string) => SslAbstractContext | undefined | Promise<SslAbstractContext | undefined>);

/**
 * Sees each client's ClientHello before any choice: gives the context to serve it (or a promise of one), or
 * nothing to go on with `sni` and this context; throwing (or rejecting) refuses the client with a
 * handshake_failure alert.
 */
export type ClientHelloCallback = (
  info: ClientHelloInfo,
) => SslAbstractContext | void | undefined | Promise<SslAbstractContext | void | undefined>;

/** Either side's options, for code that handles both (`pskCallback` differs by side). */
export type AnyContextOptions =
  & Omit<SslClientContextOptions & SslServerContextOptions, "pskCallback">
  & { pskCallback?: (...args: never[]) => unknown };

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
  /**
   * Sees each ClientHello (`serverName`, `alpnProtocols`, `cipherSuites`, `versions`) before `sni` and may
   * choose the context (for instance after looking a certificate up: it may return a promise, awaited within
   * the handshake timeout without blocking anything), or refuse the client by throwing. The ClientHello is
   * read before the connection's SSL is made, so every setting of the chosen context holds.
   */
  clientHelloCallback?: ClientHelloCallback;
  /** Ask for a client certificate and verify it if one comes. */
  requestClientCert?: boolean;
  /** Require a valid client certificate (implies `requestClientCert`). */
  requireClientCert?: boolean;
  /**
   * The OCSP response (DER, from the CA's responder: `openssl ocsp -respout`) to staple for clients that ask,
   * or a function of this context's certificate that gives the current one (or `null` for none); it runs in
   * each handshake, synchronously, so keep it to a lookup. The certificate is described once (on the first
   * handshake that asks, and again after `reload()`); each call gets that description frozen, with its own copy
   * of `der`, `validFrom` and `validTo`, so nothing one call changes reaches the next. A function that throws or
   * gives anything but bytes (empty bytes, a promise) staples nothing, and is warned about once per context. The module does not
   * fetch responses: refresh them before their nextUpdate.
   */
  ocspResponse?: OcspResponseSource;
  /**
   * How long a session (a cache entry or a ticket) resumes, in seconds, from 1 to 2^31-1.
   * @default {300}
   */
  sessionTimeout?: number;
  /**
   * How many TLS 1.3 tickets to send after a full handshake (0: none), up to 100.
   * @default {2}
   */
  numTickets?: number;
  /**
   * The keys that encrypt session tickets: 80 random bytes (a 16-byte name, a 32-byte HMAC secret, a 32-byte
   * AES key). Give every process behind a load balancer the same ones so each resumes the others' sessions;
   * change them with `setTicketKeys`. Each context makes random ones by default. Keep them secret: they
   * decrypt every ticket, and with it each session's traffic.
   */
  ticketKeys?: Uint8Array;
  /**
   * `false`: resume nothing (no session cache, no tickets, TLS 1.2 or 1.3); every client gets a full
   * handshake. Cannot go with `numTickets` or `ticketKeys`.
   * @default {true}
   */
  sessionCache?: boolean;
  /**
   * Looks up the key of a client's PSK identity (TLS 1.3 external PSK with SHA-256, TLS 1.2 PSK suites);
   * `null` refuses it: at TLS 1.2 the handshake fails, at TLS 1.3 it goes on with the certificate, or fails
   * if there is none. Runs in the handshake, synchronously: a promise (an async function), a throw or a key
   * that is not 1 to 512 bytes refuses the identity in the same way, and where that ends the handshake, says
   * why. A server with it needs no certificate.
   */
  pskCallback?: (identity: string) => Uint8Array | null;
  /** The identity hint a TLS 1.2 server sends to PSK clients. */
  pskIdentityHint?: string;
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
  "onMessage",
  "trace",
  "opensslCtxConfigureCallback",
  "opensslSslConfigureCallback",
];
/** The options a client context takes. */
export const CLIENT_KEYS = new Set([
  ...SHARED_KEYS,
  "verify",
  "tlsextHostName",
  "session",
  "ocspCheck",
  "requestOcsp",
  "sessionCache",
  "onSession",
  "psk",
  "pskCallback",
  "postHandshakeAuth",
  "allowRenegotiation",
  "certRequestCallback",
]);
/** The options a server context takes. */
export const SERVER_KEYS = new Set([
  ...SHARED_KEYS,
  "requestClientCert",
  "requireClientCert",
  "sni",
  "clientHelloCallback",
  "ocspResponse",
  "sessionTimeout",
  "numTickets",
  "ticketKeys",
  "sessionCache",
  "pskCallback",
  "pskIdentityHint",
]);

function checkString(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string, got ${describe(value)}`);
  }
  checkNoNul(value, name);
}

/** Refuses a wrong option value with a `TypeError` or `RangeError` naming the option, before anything native. */
export function checkOptions(name: string, options: AnyContextOptions): void {
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
  if (
    (options.pfx !== undefined || options.pfxFile !== undefined) && options.passwordCallback !== undefined
  ) {
    // A bundle is opened with `password` at once; a callback would silently never be asked.
    throw new TypeError(
      `${name}: a pfx or pfxFile bundle takes its password as password, not passwordCallback`,
    );
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
    const got = response instanceof Uint8Array ? "empty bytes" : describe(response);
    throw new TypeError(`ocspResponse must be a DER OCSP response or a function giving one, got ${got}`);
  }
  if (response instanceof Uint8Array && response.length > MAX_OCSP_RESPONSE_BYTES) {
    throw new RangeError(
      `ocspResponse is ${response.length} bytes; at most ${MAX_OCSP_RESPONSE_BYTES} fit in a handshake (an OCSP ` +
        "response is usually 1 to 4 KiB)",
    );
  }
  checkSessionOptions(name, options);
  checkFunction("onMessage", options.onMessage);
  checkFunction("clientHelloCallback", options.clientHelloCallback);
  checkFunction("certRequestCallback", options.certRequestCallback);
  for (const key of ["trace", "postHandshakeAuth", "allowRenegotiation"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "boolean") {
      throw new TypeError(`${key} must be a boolean, got ${describe(options[key])}`);
    }
  }
  if (options.psk !== undefined) checkPskIdentityAndKey(options.psk, "psk");
  checkFunction("pskCallback", options.pskCallback);
  if (options.psk !== undefined && options.pskCallback !== undefined) {
    throw new TypeError(`${name}: give psk or pskCallback, not both`);
  }
  if (options.pskIdentityHint !== undefined) checkPskIdentity(options.pskIdentityHint, "pskIdentityHint");
  if (options.psk !== undefined || options.pskCallback !== undefined) {
    // A server that takes the key sends no certificate: checks of its certificate would silently not apply.
    const certificateChecks = (["pins", "ocspCheck", "crl", "crlFile"] as const).filter((key) =>
      options[key] !== undefined
    );
    if (certificateChecks.length > 0) {
      throw new TypeError(
        `${name}: ${
          certificateChecks.join(", ")
        } check the peer's certificate, and a peer that uses the PSK ` +
          "presents none, so they would not apply to it: use a context without the PSK for them",
      );
    }
  }
  if (options.session instanceof Uint8Array && !isSessionBytes(options.session)) {
    throw new TypeError(`session must be the bytes stream.session() returned; these are no TLS session`);
  }
  if (options.session !== undefined && !(options.session instanceof Uint8Array)) {
    throw new TypeError(
      `session must be a Uint8Array from stream.session(), got ${describe(options.session)}`,
    );
  }
}

/**
 * What a context promises about authentication, identity, versions and ciphers, as text: a server's session id
 * context is its digest, so a session made under one policy never resumes under another (contexts that share
 * ticket keys, SNI contexts) while equal configurations, in any process, resume each other's sessions; a
 * client's sessions carry it too. A function (a verify or configure callback, which may decide anything)
 * counts by identity, in this process.
 */
export function configurationOf(options: AnyContextOptions): string {
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
    // Nor do how sessions are kept and for how long (and the ticket keys are a secret).
    sessionTimeout: _sessionTimeout,
    numTickets: _numTickets,
    ticketKeys: _ticketKeys,
    sessionCache: _sessionCache,
    onSession: _onSession,
    // Observers see the connection; they do not decide anything about it.
    onMessage: _onMessage,
    trace: _trace,
    ...rest
  } = options;
  // In a fixed order, so the same options written in another order (another process) give the same text.
  const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
  // A PSK is a secret: it counts by its digest.
  if (options.psk !== undefined) sorted.psk = pskDigest(options.psk);
  return JSON.stringify(sorted, (_name, value) => typeof value === "function" ? functionId(value) : value);
}

function checkSessionOptions(name: string, options: AnyContextOptions): void {
  const { sessionTimeout, numTickets, ticketKeys, sessionCache, onSession } = options;
  if (
    sessionTimeout !== undefined &&
    (!Number.isInteger(sessionTimeout) || sessionTimeout < 1 || sessionTimeout > 2 ** 31 - 1)
  ) {
    throw new RangeError(
      `sessionTimeout must be an integer number of seconds from 1 to 2^31-1, got ${describe(sessionTimeout)}`,
    );
  }
  if (numTickets !== undefined && (!Number.isInteger(numTickets) || numTickets < 0 || numTickets > 100)) {
    throw new RangeError(`numTickets must be an integer from 0 to 100, got ${describe(numTickets)}`);
  }
  if (ticketKeys !== undefined) checkTicketKeys(ticketKeys);
  if (sessionCache !== undefined && typeof sessionCache !== "boolean") {
    throw new TypeError(`sessionCache must be a boolean, got ${describe(sessionCache)}`);
  }
  if (sessionCache === false && (numTickets !== undefined || ticketKeys !== undefined)) {
    throw new TypeError(
      `${name}: sessionCache: false resumes nothing; it cannot go with numTickets or ticketKeys`,
    );
  }
  if (onSession !== undefined && typeof onSession !== "function") {
    throw new TypeError(`onSession must be a function, got ${describe(onSession)}`);
  }
}

/** Refuses ticket keys that are not 80 bytes. */
export function checkTicketKeys(keys: unknown): asserts keys is Uint8Array {
  if (!(keys instanceof Uint8Array) || keys.length !== TICKET_KEYS_LENGTH) {
    throw new TypeError(
      `ticketKeys must be ${TICKET_KEYS_LENGTH} bytes (crypto.getRandomValues(new Uint8Array(80))), got ${
        keys instanceof Uint8Array ? `${keys.length} bytes` : describe(keys)
      }`,
    );
  }
}

function pskDigest(psk: PskIdentity): string {
  const identity = new TextEncoder().encode(psk.identity);
  const both = new Uint8Array(identity.length + 1 + psk.key.length);
  both.set(identity);
  both.set(psk.key, identity.length + 1);
  return sha256Hex(both);
}
