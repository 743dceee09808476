/**
 * What a TLS session can do after its handshake: TLS 1.3 key updates and post-handshake client
 * authentication, TLS 1.2 renegotiation by a server, and channel bindings (RFC 9266, RFC 5929).
 *
 * @module
 */

import { type PeerCertificate, peerCertificateOf } from "../ffi/certificate.ts";
import { exportKeyingMaterialOf } from "../ffi/connection_info.ts";
import { SSL_KEY_UPDATE_NOT_REQUESTED, SSL_KEY_UPDATE_REQUESTED, SSL_VERIFY_PEER } from "../ffi/constants.ts";
import { cString, readCString } from "../ffi/_cstring.ts";
import { SocketError, SslCondition } from "../ffi/errors.ts";
import { watchSslMessages } from "../ffi/_messages.ts";
import { loadOpenssl } from "../ffi/library.ts";
import type { Deadline } from "./_deadline.ts";
import type { TlsSession } from "./_tls_session.ts";

const TLS1_3_VERSION = 0x0304;
// SSL_CTRL_GET_EXTMS_SUPPORT (ssl.h): SSL_get_extms_support.
const SSL_CTRL_GET_EXTMS_SUPPORT = 122;
const FINISHED = 20;
const NID_md5 = 4;
const NID_sha1 = 64;

/** The channel bindings `channelBinding` derives. */
export type ChannelBindingType = "tls-exporter" | "tls-unique" | "tls-server-end-point";

function isTls13(ssl: Deno.PointerObject): boolean {
  return loadOpenssl().libssl.SSL_version(ssl) === TLS1_3_VERSION;
}

function isServer(ssl: Deno.PointerObject): boolean {
  return loadOpenssl().libssl.SSL_is_server(ssl) === 1;
}

function usesExtendedMasterSecret(ssl: Deno.PointerObject): boolean {
  return Number(loadOpenssl().libssl.SSL_ctrl(ssl, SSL_CTRL_GET_EXTMS_SUPPORT, 0n, null)) === 1;
}

/**
 * Sends a TLS 1.3 KeyUpdate: from now on this end encrypts with new keys; with `requestPeer` the peer is asked
 * to update its own too (it does so when it next reads).
 */
export async function updateKeys(
  session: TlsSession,
  requestPeer: boolean,
  deadline: Deadline,
): Promise<void> {
  const ssl = session.objects.ssl.pointer;
  if (!isTls13(ssl)) throw new SocketError("keyUpdate() needs TLS 1.3; TLS 1.2 has no key update");
  const type = requestPeer ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED;
  await session.request("TLS key update", (raw) => loadOpenssl().libssl.SSL_key_update(raw, type), deadline);
}

/**
 * A server renegotiates a TLS 1.2 session (a new handshake inside it, for instance to ask for a client
 * certificate the first one did not): resolves once the client has gone through it.
 */
export async function renegotiate(session: TlsSession, deadline: Deadline): Promise<void> {
  const ssl = session.objects.ssl.pointer;
  const { libssl } = loadOpenssl();
  if (!isServer(ssl)) {
    throw new SocketError("renegotiate() is for a server; a client waits for the server to renegotiate");
  }
  if (isTls13(ssl)) {
    throw new SocketError(
      "renegotiate() needs TLS 1.2: TLS 1.3 has none (keyUpdate() for new keys, requestClientCertificate() for a " +
        "client certificate)",
    );
  }
  await session.request("TLS renegotiation", (raw) => libssl.SSL_renegotiate(raw), deadline);
  await session.driveUntil(() => libssl.SSL_renegotiate_pending(ssl) === 0, "TLS renegotiation", deadline);
}

// Sessions with a certificate request under way: a second one at once would only fail inside OpenSSL.
const requesting = new WeakSet<TlsSession>();

/**
 * A TLS 1.3 server asks its client for a certificate after the handshake and waits for it: resolves with the
 * verified certificate. A client that sends none gets an `SslCondition` here and the connection goes on; one
 * whose certificate fails verification fails the connection (`SslVerificationFailure`).
 */

export async function requestClientCertificate(
  session: TlsSession,
  deadline: Deadline,
): Promise<PeerCertificate> {
  // Before anything changes the SSL: a second request at once would only fail inside OpenSSL.
  if (requesting.has(session)) {
    throw new SocketError("requestClientCertificate() is already waiting for this client's answer");
  }
  const ssl = session.objects.ssl.pointer;
  const { libssl } = loadOpenssl();
  if (!isServer(ssl)) throw new SocketError("requestClientCertificate() is for a server");
  if (!isTls13(ssl)) {
    throw new SocketError(
      "requestClientCertificate() needs TLS 1.3 (post-handshake authentication); at TLS 1.2 a server asks " +
        "with requestClientCert, or renegotiates",
    );
  }
  const ctx = libssl.SSL_get_SSL_CTX(ssl);
  const store = ctx === null ? null : libssl.SSL_CTX_get_cert_store(ctx);
  const objects = store === null ? null : loadOpenssl().libcrypto.X509_STORE_get0_objects(store);
  if (objects === null || loadOpenssl().libcrypto.OPENSSL_sk_num(objects) <= 0) {
    throw new TypeError(
      "requestClientCertificate() verifies the client's certificate: the server context needs ca, " +
        "opensslTrustedFile or opensslTrustedDirectory",
    );
  }
  // Verified, with the context's own callback (and pins); a client without a certificate is told, not cut off.
  libssl.SSL_set_verify(
    ssl,
    libssl.SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER,
    libssl.SSL_get_verify_callback(ssl),
  );
  requesting.add(session);
  let answered = false;
  const stop = watchSslMessages(ssl, (_ssl, direction, _type, handshakeType) => {
    if (direction === "received" && handshakeType === FINISHED) answered = true;
  });
  try {
    try {
      await session.request(
        "TLS post-handshake certificate request",
        (raw) => libssl.SSL_verify_client_post_handshake(raw),
        deadline,
      );
    } catch (error) {
      if (error instanceof SslCondition && /extension not received/i.test(error.message)) {
        throw new SslCondition(
          "requestClientCertificate() failed: the client did not offer post-handshake authentication (a client " +
            "context needs postHandshakeAuth: true)",
          { cause: error },
        );
      }
      throw error;
    }
    await session.driveUntil(() => answered, "TLS post-handshake certificate request", deadline);
  } finally {
    stop();
    requesting.delete(session);
  }
  // detachSsl or close() may have freed the SSL while the answer was awaited: its pointer must not reach OpenSSL.
  if (session.objects.ssl.freed) {
    throw new Deno.errors.BadResource("requestClientCertificate(): TLS ended before the answer was read");
  }
  const certificate = peerCertificateOf(ssl);
  if (certificate === null) {
    throw new SslCondition("requestClientCertificate() failed: the client answered without a certificate");
  }
  return certificate;
}

function finishedMessage(ssl: Deno.PointerObject, own: boolean): Uint8Array {
  const { libssl } = loadOpenssl();
  const buffer = new Uint8Array(64);
  const length = Number(
    own ? libssl.SSL_get_finished(ssl, buffer, 64n) : libssl.SSL_get_peer_finished(ssl, buffer, 64n),
  );
  return buffer.slice(0, Math.min(length, 64));
}

function serverEndPoint(ssl: Deno.PointerObject): Uint8Array {
  const { libssl, libcrypto } = loadOpenssl();
  const server = isServer(ssl);
  // A server knows which certificate it sent only in a full handshake: a resumed session (or an external
  // PSK) was authenticated before, perhaps with a certificate it no longer has (a reload), perhaps with none.
  if (server && libssl.SSL_session_reused(ssl) === 1) {
    throw new SocketError(
      "tls-server-end-point: this server sent no certificate in this session (it was resumed, or used a PSK), " +
        "so it cannot tell which one the client holds",
    );
  }
  const certificate = server ? libssl.SSL_get_certificate(ssl) : libssl.SSL_get0_peer_certificate(ssl);
  if (certificate === null) {
    throw new SocketError("tls-server-end-point needs the server's certificate, and this session has none");
  }
  const digestNid = new Int32Array(1);
  const keyNid = new Int32Array(1);
  const signature = libcrypto.X509_get_signature_nid(certificate);
  if (libcrypto.OBJ_find_sigid_algs(signature, digestNid, keyNid) !== 1 || digestNid[0] === 0) {
    throw new SocketError(
      "tls-server-end-point is not defined for this certificate: its signature algorithm has no single hash " +
        "(RFC 5929, 4.1)",
    );
  }
  // RFC 5929: MD5 and SHA-1 become SHA-256.
  const nid = digestNid[0] === NID_md5 || digestNid[0] === NID_sha1 ? 0 : digestNid[0];
  const name = nid === 0 ? "SHA256" : readCString(libcrypto.OBJ_nid2sn(nid)) ?? "";
  const md = libcrypto.EVP_get_digestbyname(cString(name));
  if (md === null) throw new SocketError(`tls-server-end-point: OpenSSL has no digest ${name}`);
  const out = new Uint8Array(64);
  const length = new Uint32Array(1);
  if (libcrypto.X509_digest(certificate, md, out, length) !== 1) {
    throw new SocketError("tls-server-end-point: hashing the certificate failed");
  }
  return out.slice(0, length[0]);
}

/**
 * The channel binding `type` of the session on `ssl`: "tls-exporter" (RFC 9266: 32 bytes exported with the
 * label "EXPORTER-Channel-Binding"; TLS 1.3, or TLS 1.2 with the extended master secret), "tls-unique" (RFC
 * 5929: the first Finished message of the handshake; TLS 1.2 with the extended master secret only, since
 * without it the triple handshake attack defeats it) or "tls-server-end-point" (RFC 5929: the hash of the
 * server's certificate).
 */
export function channelBindingOf(ssl: Deno.PointerObject, type: ChannelBindingType): Uint8Array {
  switch (type) {
    case "tls-exporter":
      if (!isTls13(ssl) && !usesExtendedMasterSecret(ssl)) {
        throw new SocketError(
          "tls-exporter is only safe with TLS 1.3 or the extended master secret (RFC 9266), and this TLS 1.2 " +
            "session has none",
        );
      }
      return exportKeyingMaterialOf(ssl, 32, "EXPORTER-Channel-Binding");
    case "tls-unique": {
      if (isTls13(ssl)) {
        throw new SocketError("tls-unique is not defined for TLS 1.3 (RFC 8446, C.5): use tls-exporter");
      }
      if (!usesExtendedMasterSecret(ssl)) {
        throw new SocketError(
          "tls-unique without the extended master secret is open to the triple handshake attack (RFC 7627)",
        );
      }
      // The first Finished of the latest handshake: the client's, or on a resumed session the server's.
      const resumed = loadOpenssl().libssl.SSL_session_reused(ssl) === 1;
      const clientSends = !resumed;
      return finishedMessage(ssl, isServer(ssl) !== clientSends);
    }
    case "tls-server-end-point":
      return serverEndPoint(ssl);
    default:
      throw new TypeError(
        `channelBinding needs "tls-exporter", "tls-unique" or "tls-server-end-point", got ${
          JSON.stringify(type)
        }`,
      );
  }
}
