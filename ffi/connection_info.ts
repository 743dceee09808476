/**
 * What a connection can tell after its handshake: the version, the peer's
 * chain, the verification result, exported keying material and the session.
 * Each takes the raw `SSL *`.
 *
 * @module
 */

import {
  SSL3_VERSION,
  TLS1_1_VERSION,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
  TLS1_VERSION,
  X509_V_OK,
} from "./constants.ts";
import { describeCertificate, type PeerCertificate } from "./certificate.ts";
import { callFailed, clearErrors } from "./_error_queue.ts";
import { cString, readCString } from "./_cstring.ts";
import { loadOpenssl } from "./library.ts";

/** A protocol version as LispWorks 8 names it. */
export type SslProtocolVersion = "v3" | "tls-v1" | "tls-v1-1" | "tls-v1-2" | "tls-v1-3";

const VERSIONS: Record<number, SslProtocolVersion> = {
  [SSL3_VERSION]: "v3",
  [TLS1_VERSION]: "tls-v1",
  [TLS1_1_VERSION]: "tls-v1-1",
  [TLS1_2_VERSION]: "tls-v1-2",
  [TLS1_3_VERSION]: "tls-v1-3",
};

/** The OpenSSL version number of a LispWorks version name. */
export function versionNumber(version: SslProtocolVersion): number {
  const entry = Object.entries(VERSIONS).find(([, name]) => name === version);
  if (!entry) throw new RangeError(`unknown protocol version ${JSON.stringify(version)}`);
  return Number(entry[0]);
}

/** Whether `value` names a protocol version. */
export function isProtocolVersion(value: unknown): value is SslProtocolVersion {
  return Object.values(VERSIONS).includes(value as SslProtocolVersion);
}

/** The negotiated version of `ssl`, or `null` if unknown. */
export function protocolVersionOf(ssl: Deno.PointerObject): SslProtocolVersion | null {
  return VERSIONS[loadOpenssl().libssl.SSL_version(ssl)] ?? null;
}

/** The result of checking the peer's certificate. */
export interface VerifyResult {
  /** Whether the chain verified (and the host name matched, when one was set). */
  ok: boolean;
  /** `X509_V_OK` (0) or the `X509_V_ERR_*` code. */
  code: number;
  /** OpenSSL's text for `code`. */
  message: string;
}

/** `SSL_get_verify_result` with its text. */
export function verifyResultOf(ssl: Deno.PointerObject): VerifyResult {
  const { libssl, libcrypto } = loadOpenssl();
  const code = Number(libssl.SSL_get_verify_result(ssl));
  return {
    ok: code === X509_V_OK,
    code,
    message: readCString(libcrypto.X509_verify_cert_error_string(BigInt(code))) ?? "",
  };
}

function stackOf(stack: Deno.PointerValue): Deno.PointerObject[] {
  if (stack === null) return [];
  const { libcrypto } = loadOpenssl();
  const items: Deno.PointerObject[] = [];
  const count = libcrypto.OPENSSL_sk_num(stack);
  for (let i = 0; i < count; i++) {
    const item = libcrypto.OPENSSL_sk_value(stack, i);
    if (item !== null) items.push(item);
  }
  return items;
}

/**
 * The peer's certificates, leaf first: the verified chain up to the trusted
 * root when verification ran, else the chain as the peer sent it.
 */
export function peerChainOf(ssl: Deno.PointerObject): PeerCertificate[] {
  const { libssl, libcrypto } = loadOpenssl();
  const verified = stackOf(libssl.SSL_get0_verified_chain(ssl));
  if (verified.length > 0) return verified.map(describeCertificate);
  const sent = stackOf(libssl.SSL_get_peer_cert_chain(ssl)).map(describeCertificate);
  // A server's view of the client's chain leaves the leaf out.
  const leaf = libssl.SSL_get1_peer_certificate(ssl);
  if (leaf === null) return sent;
  try {
    const described = describeCertificate(leaf);
    return sent[0]?.fingerprint256 === described.fingerprint256 ? sent : [described, ...sent];
  } finally {
    libcrypto.X509_free(leaf);
  }
}

/** RFC 5705 keying material from the session's master secret. */
export function exportKeyingMaterialOf(
  ssl: Deno.PointerObject,
  length: number,
  label: string,
  context?: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(length);
  const labelBytes = cString(label, "exportKeyingMaterial's label");
  const contextBytes = context ?? new Uint8Array(1);
  clearErrors();
  const ok = loadOpenssl().libssl.SSL_export_keying_material(
    ssl,
    out,
    BigInt(length),
    labelBytes,
    BigInt(labelBytes.length - 1),
    contextBytes,
    BigInt(context?.length ?? 0),
    context === undefined ? 0 : 1,
  );
  if (ok !== 1) throw callFailed("exportKeyingMaterial");
  return out;
}

/**
 * Runs `body` with `length` bytes (at least 1) of native memory, freed when it returns or throws: for DER in
 * and out of OpenSSL, since i2d/d2i move a pointer they are given the address of, and for out-parameters.
 */
export function withNativeBuffer<T>(length: number, body: (native: Deno.PointerObject) => T): T {
  const { libcrypto } = loadOpenssl();
  const native = libcrypto.CRYPTO_malloc(BigInt(Math.max(length, 1)), null, 0);
  if (native === null) throw new Error("Out of memory");
  try {
    return body(native);
  } finally {
    libcrypto.CRYPTO_free(native, null, 0);
  }
}

/** The SSL_SESSION at `session` in DER, or `null` if it cannot be resumed. */
export function sessionBytes(session: Deno.PointerObject): Uint8Array | null {
  const { libssl } = loadOpenssl();
  if (libssl.SSL_SESSION_is_resumable(session) !== 1) return null;
  const length = libssl.i2d_SSL_SESSION(session, null);
  if (length <= 0) return null;
  return withNativeBuffer(length, (native) => {
    const cell = new BigUint64Array([Deno.UnsafePointer.value(native)]);
    libssl.i2d_SSL_SESSION(session, cell);
    return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(native, length)).slice();
  });
}

/** The current session of `ssl` in DER, or `null` if it cannot be resumed. */
export function sessionBytesOf(ssl: Deno.PointerObject): Uint8Array | null {
  const { libssl } = loadOpenssl();
  const session = libssl.SSL_get1_session(ssl);
  if (session === null) return null;
  try {
    return sessionBytes(session);
  } finally {
    libssl.SSL_SESSION_free(session);
  }
}

/** Whether `der` is a session OpenSSL can read (as `stream.session()` gives). */
export function isSessionBytes(der: Uint8Array): boolean {
  const { libssl } = loadOpenssl();
  if (der.length === 0) return false;
  const session = withNativeBuffer(der.length, (native) => {
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(native, der.length)).set(der);
    return libssl.d2i_SSL_SESSION(
      null,
      new BigUint64Array([Deno.UnsafePointer.value(native)]),
      BigInt(der.length),
    );
  });
  clearErrors();
  if (session === null) return false;
  libssl.SSL_SESSION_free(session);
  return true;
}

/**
 * Offers a saved session (DER from `sessionBytesOf`) on `ssl` before its
 * handshake, if it was made in the session id context `context`: a client's
 * sessions carry one per host and per verification (see `_verify_policy.ts`),
 * so a session is offered only to the host, and with the verification, it
 * was made with. Any other session is not offered (a full handshake follows).
 *
 * @returns whether the session was offered.
 * @throws {SslCondition} if the bytes are not a session.
 */
export function offerSession(ssl: Deno.PointerObject, der: Uint8Array, context: Uint8Array): boolean {
  const { libssl } = loadOpenssl();
  clearErrors();
  if (der.length === 0) throw new TypeError("session is empty; pass the bytes stream.session() returned");
  const session = withNativeBuffer(der.length, (native) => {
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(native, der.length)).set(der);
    const cell = new BigUint64Array([Deno.UnsafePointer.value(native)]);
    return libssl.d2i_SSL_SESSION(null, cell, BigInt(der.length));
  });
  if (session === null) throw callFailed("Reading the session to resume");
  try {
    const length = new Uint32Array(1);
    const id = libssl.SSL_SESSION_get0_id_context(session, length);
    const made = id === null || length[0] === 0
      ? new Uint8Array(0)
      : new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(id, length[0]));
    if (made.length !== context.length || made.some((byte, i) => byte !== context[i])) return false;
    if (libssl.SSL_set_session(ssl, session) !== 1) throw callFailed("SSL_set_session");
    return true;
  } finally {
    // SSL_set_session took its own reference.
    libssl.SSL_SESSION_free(session);
  }
}
