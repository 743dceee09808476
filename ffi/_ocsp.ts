/**
 * OCSP stapling: a client asks for the server's stapled response and checks it against the verified chain;
 * a server staples a response it was given.
 *
 * @module
 */

import {
  SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP,
  SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB,
  SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP,
  SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE,
  SSL_TLSEXT_ERR_NOACK,
  SSL_TLSEXT_ERR_OK,
  TLSEXT_STATUSTYPE_ocsp,
  X509_V_FLAG_CRL_CHECK,
  X509_V_FLAG_CRL_CHECK_ALL,
} from "./constants.ts";
import { describeCertificate, type PeerCertificate } from "./certificate.ts";
import { withNativeBuffer } from "./connection_info.ts";
import { describe } from "./pointers.ts";
import { cString, readCString } from "./_cstring.ts";
import { clearErrors, firstErrorReason, noteVerifyFailure } from "./_error_queue.ts";
import { callbackFor, releaseWhenFreed } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";

/** How a client treats the stapled OCSP response. */
export type OcspCheck = "require" | "if-stapled";

/**
 * What a server staples: a DER OCSP response, or a function of its certificate giving one (or `null`). The
 * function gets a description of the certificate made once per context (on the first handshake that asks, and
 * again after a reload), frozen, with its own copy of `der`, `validFrom` and `validTo` on each call: what one call
 * changes, the next does not see.
 *
 * @example Staple the response a cron job refreshes, looked up by the certificate's fingerprint
 * ```ts
 * import { createSslServerContext, type OcspResponseSource } from "@comm/socket-stream";
 *
 * const responses = new Map<string, Uint8Array>(); // fingerprint256 -> DER, refreshed elsewhere
 * const ocspResponse: OcspResponseSource = (certificate) => responses.get(certificate.fingerprint256) ?? null;
 * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key", ocspResponse });
 * ```
 */
export type OcspResponseSource = Uint8Array | ((certificate: PeerCertificate) => Uint8Array | null);

// int status_cb(SSL *s, void *arg)
const STATUS_CALLBACK = { parameters: ["pointer", "pointer"], result: "i32" } as const;

// X509_V_ERR_* codes for what a response can say (x509_vfy.h).
const CERT_REVOKED = 23;
const OCSP_VERIFY_FAILED = 74;
const OCSP_CERT_UNKNOWN = 75;

// The digests a response's CertID may use (null: SHA-1, OpenSSL's default).
const CERT_ID_DIGESTS = [null, "SHA256", "SHA384", "SHA512"];
// Seconds of clock difference tolerated in thisUpdate and nextUpdate.
const CLOCK_SKEW = 300;
/** How old a response without a nextUpdate may be, in seconds: 7 days. */
export const MAX_AGE_WITHOUT_NEXT_UPDATE = 7 * 86400;
// ocsperr.h
const OCSP_R_STATUS_NOT_YET_VALID = 126;
const OCSP_R_STATUS_TOO_OLD = 127;
// crlCheck's flags, about the peer's chain.
const CRL_CHECK_FLAGS = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
/** The most bytes a server staples: a TLS 1.3 certificate entry's extensions hold at most 65535. */
export const MAX_OCSP_RESPONSE_BYTES = 60 * 1024;

/** Asks for a stapled OCSP response on every connection of the client context at `raw`. */
export function requestOcsp(raw: Deno.PointerObject): void {
  loadOpenssl().libssl.SSL_CTX_ctrl(
    raw,
    SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE,
    BigInt(TLSEXT_STATUSTYPE_ocsp),
    null,
  );
}

/** The DER OCSP response the server stapled on `ssl`, or `null`. */
export function stapledResponse(ssl: Deno.PointerObject): Uint8Array | null {
  const { libssl } = loadOpenssl();
  // SSL_ctrl writes the response's address into a `void *` out-parameter: native memory, never a JS buffer.
  return withNativeBuffer(8, (cell) => {
    new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(cell, 8))[0] = 0n;
    const length = Number(libssl.SSL_ctrl(ssl, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0n, cell));
    const data = Deno.UnsafePointer.create(new Deno.UnsafePointerView(cell).getBigUint64());
    if (length <= 0 || data === null) return null;
    return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(data, length)).slice();
  });
}

function stackItem(stack: Deno.PointerValue, index: number): Deno.PointerValue {
  const { libcrypto } = loadOpenssl();
  return stack === null || libcrypto.OPENSSL_sk_num(stack) <= index
    ? null
    : libcrypto.OPENSSL_sk_value(stack, index);
}

/**
 * Why the stapled response `der` does not vouch for the peer of `ssl` (its verified chain): a reason with the
 * X509 code, or `null` when it says "good", is signed by the issuer or a responder it names, and is current.
 */
export function checkResponse(
  ssl: Deno.PointerObject,
  der: Uint8Array,
): { text: string; code: number } | null {
  const { libssl, libcrypto } = loadOpenssl();
  clearErrors();
  const response = der.length === 0 ? null : withNativeBuffer(der.length, (native) => {
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(native, der.length)).set(der);
    return libcrypto.d2i_OCSP_RESPONSE(
      null,
      new BigUint64Array([Deno.UnsafePointer.value(native)]),
      BigInt(der.length),
    );
  });
  if (response === null) {
    return { text: "the stapled OCSP response cannot be read", code: OCSP_VERIFY_FAILED };
  }
  let basic: Deno.PointerValue = null;
  let id: Deno.PointerValue = null;
  try {
    const status = libcrypto.OCSP_response_status(response);
    if (status !== 0) {
      return { text: `the OCSP responder answered with status ${status}`, code: OCSP_VERIFY_FAILED };
    }
    basic = libcrypto.OCSP_response_get1_basic(response);
    if (basic === null) {
      return { text: "the stapled OCSP response holds no answer", code: OCSP_VERIFY_FAILED };
    }
    if (!responderVouchedFor(ssl, basic)) {
      clearErrors();
      return {
        text: "the stapled OCSP response is not signed by a responder the chain vouches for",
        code: OCSP_VERIFY_FAILED,
      };
    }
    const chain = libssl.SSL_get0_verified_chain(ssl);
    const leaf = stackItem(chain, 0);
    const issuer = stackItem(chain, 1);
    if (leaf === null || issuer === null) {
      return {
        text: "the chain is not verified, so the OCSP response cannot be matched",
        code: OCSP_VERIFY_FAILED,
      };
    }
    const found = new Int32Array(2);
    const times = [new BigUint64Array(1), new BigUint64Array(1), new BigUint64Array(1)];
    const statusCell = new Uint8Array(found.buffer, 0, 4);
    const reasonCell = new Uint8Array(found.buffer, 4, 4);
    // The CertID may hash the issuer with SHA-1 (the usual) or another digest (RFC 6960 allows any).
    let matched = false;
    for (const digest of CERT_ID_DIGESTS) {
      const md = digest === null ? null : libcrypto.EVP_get_digestbyname(cString(digest));
      if (digest !== null && md === null) continue;
      id = libcrypto.OCSP_cert_to_id(md, leaf, issuer);
      if (id === null) continue;
      matched =
        libcrypto.OCSP_resp_find_status(basic, id, statusCell, reasonCell, times[0], times[1], times[2]) ===
          1;
      libcrypto.OCSP_CERTID_free(id);
      id = null;
      if (matched) break;
    }
    if (!matched) {
      return {
        text: "the stapled OCSP response says nothing about this certificate",
        code: OCSP_CERT_UNKNOWN,
      };
    }
    const [thisUpdate, nextUpdate] = [
      Deno.UnsafePointer.create(times[1][0]),
      Deno.UnsafePointer.create(times[2][0]),
    ];
    // Without a nextUpdate, a response is current for MAX_AGE_WITHOUT_NEXT_UPDATE after its thisUpdate.
    const maxAge = nextUpdate === null ? BigInt(MAX_AGE_WITHOUT_NEXT_UPDATE) : -1n;
    clearErrors();
    if (libcrypto.OCSP_check_validity(thisUpdate, nextUpdate, BigInt(CLOCK_SKEW), maxAge) !== 1) {
      const reason = firstErrorReason();
      clearErrors();
      const text = reason === OCSP_R_STATUS_NOT_YET_VALID
        ? "the stapled OCSP response is not yet valid (its thisUpdate is ahead of this clock)"
        : reason === OCSP_R_STATUS_TOO_OLD
        ? `the stapled OCSP response has no nextUpdate and is older than ${
          MAX_AGE_WITHOUT_NEXT_UPDATE / 86400
        } days`
        : "the stapled OCSP response is out of date (past its nextUpdate)";
      return { text, code: OCSP_VERIFY_FAILED };
    }
    if (found[0] === 1) {
      const reason = readCString(libcrypto.OCSP_crl_reason_str(BigInt(found[1]))) ?? "unspecified";
      return {
        text: `the stapled OCSP response says the certificate is revoked (${reason})`,
        code: CERT_REVOKED,
      };
    }
    if (found[0] !== 0) {
      return { text: "the OCSP responder does not know the certificate", code: OCSP_CERT_UNKNOWN };
    }
    return null;
  } finally {
    if (id !== null) libcrypto.OCSP_CERTID_free(id);
    if (basic !== null) libcrypto.OCSP_BASICRESP_free(basic);
    libcrypto.OCSP_RESPONSE_free(response);
  }
}

/**
 * Whether the response `basic` is signed by a responder the trust of `ssl` vouches for, judged as the peer's
 * chain was. OCSP_basic_verify checks the responder's chain with the trust store's parameters, which lack the
 * connection's verify flags (`verifyFlags`: partialChain, x509Strict, noCheckTime...): the store gets them for
 * this one call. Nothing else uses the store meanwhile (OpenSSL runs on this thread only, and no JavaScript
 * callback runs inside the call). crlCheck's flags stay out: they ask for CRLs of the peer's chain, and a
 * responder's certificate has none to ask for (RFC 6960 4.2.2.2.1).
 */
function responderVouchedFor(ssl: Deno.PointerObject, basic: Deno.PointerObject): boolean {
  const { libssl, libcrypto } = loadOpenssl();
  const ctx = libssl.SSL_get_SSL_CTX(ssl);
  const store = ctx === null ? null : libssl.SSL_CTX_get_cert_store(ctx);
  const storeParam = store === null ? null : libcrypto.X509_STORE_get0_param(store);
  const connectionParam = libssl.SSL_get0_param(ssl);
  const lent = storeParam === null || connectionParam === null ? 0n : (
    libcrypto.X509_VERIFY_PARAM_get_flags(connectionParam) & ~CRL_CHECK_FLAGS &
    ~libcrypto.X509_VERIFY_PARAM_get_flags(storeParam)
  );
  if (lent !== 0n) libcrypto.X509_VERIFY_PARAM_set_flags(storeParam, lent);
  try {
    return libcrypto.OCSP_basic_verify(basic, libssl.SSL_get_peer_cert_chain(ssl), store, 0n) === 1;
  } finally {
    if (lent !== 0n) libcrypto.X509_VERIFY_PARAM_clear_flags(storeParam, lent);
  }
}

/**
 * Checks the stapled response of every connection of the client context at `raw` during its handshake:
 * "require" fails a connection without one, "if-stapled" only a bad one (revoked: code 23).
 */
export function checkStapledResponses(raw: Deno.PointerObject, mode: OcspCheck): void {
  const { libssl } = loadOpenssl();
  const native = callbackFor("ctx", raw, STATUS_CALLBACK, (ssl) => {
    if (ssl === null) return 0;
    // A resumed session (TLS 1.3 calls this for one too) has no certificate message to staple to: its response
    // was checked when the session was made, by a context with the same configuration (see _verify_policy.ts).
    if (libssl.SSL_session_reused(ssl) === 1) return 1;
    try {
      const der = stapledResponse(ssl);
      if (der === null) {
        if (mode === "if-stapled") return 1;
        noteVerifyFailure(
          ssl,
          'the server stapled no OCSP response (ocspCheck: "require")',
          OCSP_VERIFY_FAILED,
        );
        return 0;
      }
      const problem = checkResponse(ssl, der);
      if (problem === null) return 1;
      noteVerifyFailure(ssl, problem.text, problem.code);
      return 0;
    } catch (error) {
      noteVerifyFailure(ssl, `checking the stapled OCSP response failed: ${error}`, OCSP_VERIFY_FAILED);
      return 0;
    }
  });
  libssl.SSL_CTX_callback_ctrl(raw, SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB, native);
}

// The most certificates whose descriptions a context keeps: its own (one per key type) and a few that
// opensslSslConfigureCallback may set on single connections.
const DESCRIBED_CERTIFICATES_KEPT = 8;

/**
 * Describes the certificates of the context at `raw` for `ocspResponse` functions, each once: by the X509's
 * address, holding a reference so that the address names the same certificate while its description is kept.
 * Released with the context; a reload makes a new context, and so new descriptions. Each call gets a frozen copy
 * of the description: the frozen parts are shared, the mutable ones (`der`, a `Uint8Array`; `validFrom` and
 * `validTo`, `Date`s) are its own, so nothing one call changes reaches the next.
 */
function certificateDescriber(raw: Deno.PointerObject): (x509: Deno.PointerObject) => PeerCertificate {
  const { libcrypto } = loadOpenssl();
  const kept = new Map<bigint, { x509: Deno.PointerObject; certificate: PeerCertificate }>();
  releaseWhenFreed("ctx", raw, () => {
    for (const { x509 } of kept.values()) libcrypto.X509_free(x509);
    kept.clear();
  });
  // A copy for one call: a typed array's bytes and a Date's time cannot be frozen, so those are the call's own
  // (a kilobyte or two copied per handshake, against describing the certificate again).
  const copyFor = (certificate: PeerCertificate): PeerCertificate =>
    Object.freeze({
      ...certificate,
      der: certificate.der.slice(),
      validFrom: new Date(certificate.validFrom.getTime()),
      validTo: new Date(certificate.validTo.getTime()),
    });
  return (x509) => {
    const address = Deno.UnsafePointer.value(x509);
    const known = kept.get(address);
    if (known !== undefined) return copyFor(known.certificate);
    const certificate = describeCertificate(x509);
    // Every handshake shares these parts: frozen, so one call cannot change what the next one sees.
    for (const part of [certificate.subjectAltNames, certificate.keyUsage, certificate.extKeyUsage]) {
      if (part !== null) Object.freeze(part);
    }
    Object.freeze(certificate.publicKey);
    if (kept.size >= DESCRIBED_CERTIFICATES_KEPT) {
      const [oldest, entry] = kept.entries().next().value!;
      kept.delete(oldest);
      libcrypto.X509_free(entry.x509);
    }
    if (libcrypto.X509_up_ref(x509) === 1) kept.set(address, { x509, certificate });
    return copyFor(certificate);
  };
}

/**
 * Staples `source`'s response on every connection of the server context at `raw` whose client asks for one.
 * Bytes are checked (1 to MAX_OCSP_RESPONSE_BYTES) and copied here, once. A function that gives `null` staples
 * nothing; one that throws, or gives anything but bytes (a promise too), staples nothing and is warned about
 * once.
 *
 * @throws {RangeError} for bytes that are empty or too big to staple.
 */
export function stapleResponses(raw: Deno.PointerObject, source: OcspResponseSource): void {
  const { libssl, libcrypto } = loadOpenssl();
  const fixed = source instanceof Uint8Array ? source.slice() : null;
  if (fixed !== null && (fixed.length === 0 || fixed.length > MAX_OCSP_RESPONSE_BYTES)) {
    throw new RangeError(
      `ocspResponse is ${fixed.length} bytes; a stapled response is 1 to ${MAX_OCSP_RESPONSE_BYTES} bytes`,
    );
  }
  const describeOwn = fixed === null ? certificateDescriber(raw) : null;
  // Each kind of misuse is said once per context: nothing stapled, and the handshake goes on.
  const warned = new Set<string>();
  const warnOnce = (kind: string, message: string) => {
    if (warned.has(kind)) return;
    warned.add(kind);
    console.warn(`${message}; nothing is stapled (said once per context)`);
  };
  // A function's answer, or `null` (told about) when it gives no usable response.
  const ask = (ssl: Deno.PointerObject, lookup: (certificate: PeerCertificate) => Uint8Array | null) => {
    let der: unknown;
    try {
      const own = libssl.SSL_get_certificate(ssl);
      der = own === null ? null : lookup(describeOwn!(own));
    } catch (error) {
      warnOnce("threw", `ocspResponse threw (${error instanceof Error ? error.message : String(error)})`);
      return null;
    }
    if (der === null) return null;
    if (der instanceof Uint8Array && der.length === 0) {
      warnOnce("empty", `ocspResponse gave empty bytes; a response is 1 to ${MAX_OCSP_RESPONSE_BYTES} bytes`);
      return null;
    }
    if (!(der instanceof Uint8Array)) {
      // An async function's promise cannot be waited for here (OpenSSL asks synchronously).
      const promise = typeof (der as Promise<unknown> | undefined)?.then === "function";
      if (promise) (der as Promise<unknown>).then(() => {}, () => {});
      warnOnce(
        "type",
        "ocspResponse must give the DER bytes of a response or null, synchronously; it gave " +
          (promise ? "a promise" : describe(der)),
      );
      return null;
    }
    if (der.length > MAX_OCSP_RESPONSE_BYTES) {
      warnOnce(
        "size",
        `ocspResponse gave ${der.length} bytes; at most ${MAX_OCSP_RESPONSE_BYTES} can be stapled`,
      );
      return null;
    }
    return der;
  };
  const native = callbackFor("ctx", raw, STATUS_CALLBACK, (ssl) => {
    if (ssl === null) return SSL_TLSEXT_ERR_NOACK;
    const der = fixed ?? ask(ssl, source as (certificate: PeerCertificate) => Uint8Array | null);
    if (der === null) return SSL_TLSEXT_ERR_NOACK;
    // The SSL takes the buffer and frees it.
    const copy = libcrypto.CRYPTO_malloc(BigInt(der.length), null, 0);
    if (copy === null) return SSL_TLSEXT_ERR_NOACK;
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(copy, der.length)).set(der);
    if (
      Number(libssl.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, BigInt(der.length), copy)) !== 1
    ) {
      libcrypto.CRYPTO_free(copy, null, 0);
      return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
  });
  libssl.SSL_CTX_callback_ctrl(raw, SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB, native);
}
