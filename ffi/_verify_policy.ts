/**
 * The rule every client SSL the module makes obeys: it verifies the server's chain and name, or the caller
 * turned verification off explicitly. Also the session id context that binds a client's sessions to the
 * host and verification they were made with, and the checks after a resumption.
 *
 * What "explicitly" means: `setVerificationMode` with a mode that does not verify (on the context or the
 * SSL), `verify: false` on a client context, or a context the module made with `SSL_VERIFY_PEER` whose mode
 * was changed since (a raw `SSL_CTX_set_verify` in a `ctxConfigureCallback`). A context that simply never
 * verified (made for "both" or "server", or by your own FFI) does not count: its client SSLs get
 * `SSL_VERIFY_PEER` from the module.
 *
 * @module
 */

import {
  SSL_VERIFY_PEER,
  X509_V_ERR_HOSTNAME_MISMATCH,
  X509_V_ERR_IP_ADDRESS_MISMATCH,
  X509_V_OK,
} from "./constants.ts";
import { cString, readCString } from "./_cstring.ts";
import { sha256, toHex } from "./_digest.ts";
import { SslVerificationFailure } from "./errors.ts";
import { addSystemTrust } from "./_system_trust.ts";
import { releaseWhenFreed } from "./_lifetimes.ts";
import { authenticatesByPsk } from "./_psk.ts";
import { loadOpenssl } from "./library.ts";
import { SSL_set1_verify_cert_store } from "./macros.ts";
import type { SslCtxPointer, SslPointer } from "./pointers.ts";

// Contexts the module gave SSL_VERIFY_PEER when it made them.
const verifyingByDefault = new Set<bigint>();
// Contexts and SSLs whose verification was turned off through the module's API.
const turnedOff = { ctx: new Set<bigint>(), ssl: new Set<bigint>() };
// Trust stores for the client SSLs of contexts made for "both" (whose own store serves their servers).
const clientStores = new Map<bigint, Deno.PointerObject>();

function forgetWhenFreed(kind: "ctx" | "ssl", raw: Deno.PointerObject, set: Set<bigint>): void {
  const address = Deno.UnsafePointer.value(raw);
  if (set.has(address)) return;
  set.add(address);
  releaseWhenFreed(kind, raw, () => set.delete(address));
}

/** @internal The module made `ctx` with `SSL_VERIFY_PEER`. */
export function markVerifyingByDefault(ctx: Deno.PointerObject): void {
  forgetWhenFreed("ctx", ctx, verifyingByDefault);
}

/** @internal The caller chose whether `target` verifies, through the module's API. */
export function recordVerificationChoice(
  kind: "ctx" | "ssl",
  raw: Deno.PointerObject,
  verifies: boolean,
): void {
  const set = turnedOff[kind];
  if (verifies) set.delete(Deno.UnsafePointer.value(raw));
  else forgetWhenFreed(kind, raw, set);
}

/**
 * @internal Gives a "both" context the system trust store for its client SSLs (its own store, used by its
 * server SSLs for client certificates, stays empty: a server never trusts the system store for clients).
 */
export function giveClientTrustStore(ctx: Deno.PointerObject): boolean {
  const { libcrypto } = loadOpenssl();
  const store = libcrypto.X509_STORE_new();
  if (store === null) return false;
  // Honours SSL_CERT_FILE and SSL_CERT_DIR; the file is parsed once while it is unchanged.
  if (!addSystemTrust(store)) {
    libcrypto.X509_STORE_free(store);
    return false;
  }
  const address = Deno.UnsafePointer.value(ctx);
  clientStores.set(address, store);
  releaseWhenFreed("ctx", ctx, () => {
    clientStores.delete(address);
    libcrypto.X509_STORE_free(store);
  });
  return true;
}

/** @internal Whether `ctx` was made for "both" sides by the module. */
export function isBothContext(ctx: Deno.PointerObject): boolean {
  return clientStores.has(Deno.UnsafePointer.value(ctx));
}

function storeIsEmpty(store: Deno.PointerValue): boolean {
  const { libcrypto } = loadOpenssl();
  const objects = store === null ? null : libcrypto.X509_STORE_get0_objects(store);
  return objects === null || libcrypto.OPENSSL_sk_num(objects) <= 0;
}

function verifiesPeer(ssl: Deno.PointerObject): boolean {
  return (loadOpenssl().libssl.SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) !== 0;
}

function turnedOffExplicitly(ssl: SslPointer, ctx: SslCtxPointer): boolean {
  const { libssl } = loadOpenssl();
  const context = Deno.UnsafePointer.value(ctx.pointer);
  return turnedOff.ssl.has(Deno.UnsafePointer.value(ssl.pointer)) || turnedOff.ctx.has(context) ||
    (verifyingByDefault.has(context) &&
      (libssl.SSL_CTX_get_verify_mode(ctx.pointer) & SSL_VERIFY_PEER) === 0);
}

/**
 * @internal Makes a client SSL verify its peer unless that was turned off explicitly: `SSL_VERIFY_PEER`
 * (keeping the context's verify callback), and for a "both" context the system trust store.
 */
export function requireVerification(ssl: SslPointer, ctx: SslCtxPointer): void {
  const raw = ssl.pointer;
  if (verifiesPeer(raw) || turnedOffExplicitly(ssl, ctx)) return;
  const { libssl } = loadOpenssl();
  libssl.SSL_set_verify(raw, libssl.SSL_get_verify_mode(raw) | SSL_VERIFY_PEER, null);
  // A "both" context whose own store is still empty: the system store. One you filled is yours to use.
  const store = clientStores.get(Deno.UnsafePointer.value(ctx.pointer));
  if (store && storeIsEmpty(libssl.SSL_CTX_get_cert_store(ctx.pointer))) {
    SSL_set1_verify_cert_store(raw, store);
  }
}

/** The host name or IP address a client SSL will check the certificate against, or `null`. */
export function nameToVerify(ssl: Deno.PointerObject): string | null {
  const { libssl, libcrypto } = loadOpenssl();
  const param = libssl.SSL_get0_param(ssl);
  const host = readCString(libcrypto.X509_VERIFY_PARAM_get0_host(param, 0));
  if (host !== null) return host;
  const ip = libcrypto.X509_VERIFY_PARAM_get1_ip_asc(param);
  if (ip === null) return null;
  try {
    return readCString(ip);
  } finally {
    libcrypto.CRYPTO_free(ip, null, 0);
  }
}

// Functions numbered in this process (a callback may decide anything, so it counts by identity).
const functionIds = new WeakMap<object, number>();
let nextFunctionId = 1;

/** @internal A process-local name for a function, or "none". */
export function functionId(fn: unknown): string {
  if (typeof fn !== "function") return "none";
  let id = functionIds.get(fn);
  if (id === undefined) functionIds.set(fn, id = nextFunctionId++);
  return `function ${id}`;
}

// A random name for each SSL_CTX the module was given, by address (forgotten when it is freed for good).
const contextIds = new Map<bigint, string>();

/** @internal A process-local name for an SSL_CTX: sessions made on one are not offered on another. */
export function contextId(ctx: SslCtxPointer): string {
  const address = Deno.UnsafePointer.value(ctx.pointer);
  let id = contextIds.get(address);
  if (id === undefined) {
    id = crypto.randomUUID();
    contextIds.set(address, id);
    releaseWhenFreed("ctx", ctx.pointer, () => contextIds.delete(address));
  }
  return id;
}

function pointerName(pointer: Deno.PointerValue): string {
  return String(Deno.UnsafePointer.value(pointer));
}

// The SHA-256 of the certificate an SSL presents, as hex, or "none".
function ownCertificate(ssl: Deno.PointerObject): string {
  const { libssl, libcrypto } = loadOpenssl();
  const certificate = libssl.SSL_get_certificate(ssl);
  if (certificate === null) return "none";
  const digest = new Uint8Array(32);
  const length = new Uint32Array(1);
  if (libcrypto.X509_digest(certificate, libcrypto.EVP_sha256(), digest, length) !== 1) return "unknown";
  return toHex(digest);
}

/**
 * @internal The rule for a client SSL once it is configured: if it verifies, it has a name to check (Python's
 * `check_hostname`). Returns the session id context that its sessions carry: a digest of `identity` (the
 * context and the callbacks that configured it), the host, the verification mode and callback, and the
 * client certificate, so a session is offered only where all of them are the same.
 *
 * @throws {TypeError} for a verifying client without a name, before anything is sent.
 */
export function checkClientBeforeHandshake(ssl: SslPointer, identity: string): Uint8Array<ArrayBuffer> {
  const raw = ssl.pointer;
  const verifies = verifiesPeer(raw);
  const name = nameToVerify(raw);
  if (verifies && name === null) {
    throw new TypeError(
      "This TLS client verifies the server's certificate but has no name to check it against, so any valid " +
        "certificate would pass: pass tlsextHostName (the server's name or IP address), or turn verification " +
        'off explicitly (verify: false, or setVerificationMode(ctx, "client", "never"))',
    );
  }
  const { libssl } = loadOpenssl();
  const context = sha256(cString(
    [
      "@comm/socket-stream client",
      identity,
      name ?? "",
      libssl.SSL_get_verify_mode(raw),
      pointerName(libssl.SSL_get_verify_callback(raw)),
      ownCertificate(raw),
    ].join("\n"),
  ));
  libssl.SSL_set_session_id_context(raw, context, context.length);
  const address = Deno.UnsafePointer.value(raw);
  if (!clientSessionContexts.has(address)) {
    releaseWhenFreed("ssl", raw, () => clientSessionContexts.delete(address));
  }
  clientSessionContexts.set(address, context);
  return context;
}

// The session id context checkClientBeforeHandshake gave each client SSL, by address.
const clientSessionContexts = new Map<bigint, Uint8Array<ArrayBuffer>>();

/** @internal The session id context of a client SSL the module configured, for sessions it makes itself. */
export function clientSessionContextOf(ssl: Deno.PointerObject): Uint8Array<ArrayBuffer> | undefined {
  return clientSessionContexts.get(Deno.UnsafePointer.value(ssl));
}

/**
 * @internal After a resumed handshake on a verifying client: the session's own verification passed, and
 * its peer certificate carries the name this connection checks (OpenSSL verifies nothing on resumption).
 *
 * @throws {SslVerificationFailure} if not.
 */
export function checkResumedPeer(ssl: Deno.PointerObject): void {
  const { libssl, libcrypto } = loadOpenssl();
  if (libssl.SSL_session_reused(ssl) !== 1 || !verifiesPeer(ssl)) return;
  const fail = (code: number, why: string) => {
    const verifyMessage = readCString(libcrypto.X509_verify_cert_error_string(BigInt(code))) ??
      `error ${code}`;
    return new SslVerificationFailure(
      `TLS handshake failed: the resumed session ${why} (X509 error ${code}); it was not offered for this host`,
      { verifyCode: code, verifyMessage },
    );
  };
  const result = Number(libssl.SSL_get_verify_result(ssl));
  if (result !== X509_V_OK) throw fail(result, "had not been verified");
  const name = nameToVerify(ssl);
  if (name === null) return;
  const peer = libssl.SSL_get0_peer_certificate(ssl);
  // A TLS 1.3 external PSK (or a ticket from a PSK handshake) counts as resumed: the server proved the key.
  if (peer === null && authenticatesByPsk(libssl.SSL_get_SSL_CTX(ssl))) return;
  if (peer === null) throw fail(X509_V_ERR_HOSTNAME_MISMATCH, "has no peer certificate");
  const ip = name.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(name);
  const matches = ip ? libcrypto.X509_check_ip_asc(peer, cString(name), 0) === 1 : libcrypto.X509_check_host(
    peer,
    cString(name),
    BigInt(new TextEncoder().encode(name).length),
    0,
    null,
  ) === 1;
  if (!matches) {
    throw fail(
      ip ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH,
      `is for a certificate that does not name ${name}`,
    );
  }
}

/**
 * @internal A server SSL whose verification was changed for this one connection (a verify mode or callback
 * other than its context's) gets a session id context of its own, so sessions made without that
 * verification (on other connections of the same context) do not resume on it.
 */
export function bindServerSessions(ssl: SslPointer, ctx: SslCtxPointer): void {
  const { libssl } = loadOpenssl();
  const raw = ssl.pointer;
  const mode = libssl.SSL_get_verify_mode(raw);
  const callback = pointerName(libssl.SSL_get_verify_callback(raw));
  if (
    mode === libssl.SSL_CTX_get_verify_mode(ctx.pointer) &&
    callback === pointerName(libssl.SSL_CTX_get_verify_callback(ctx.pointer))
  ) {
    return;
  }
  const context = sha256(
    cString(`@comm/socket-stream server connection\n${contextId(ctx)}\n${mode}\n${callback}`),
  );
  libssl.SSL_set_session_id_context(raw, context, context.length);
}
