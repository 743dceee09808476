/**
 * Pre-shared keys: OpenSSL's PSK callbacks, which serve TLS 1.2's PSK suites and TLS 1.3's external PSKs
 * (with SHA-256, as `openssl s_client -psk` does, so the TLS 1.3 suite is TLS_AES_128_GCM_SHA256 or
 * TLS_CHACHA20_POLY1305_SHA256).
 *
 * @module
 */

import { TLS1_3_VERSION } from "./constants.ts";
import { checkNoNul, readCString } from "./_cstring.ts";
import { noteVerifyFailure } from "./_error_queue.ts";
import { callbackFor, releaseWhenFreed } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";
import { clientSessionContextOf } from "./_verify_policy.ts";
import { describe } from "./pointers.ts";

/** A pre-shared key and the identity that names it. */
export interface PskIdentity {
  /** The name the client sends for the key (at most 128 bytes of UTF-8). */
  identity: string;
  /** The key: 1 to 512 bytes (16 or more; 32 for TLS 1.3's SHA-256). */
  key: Uint8Array;
}

/** The most bytes of a PSK identity the module sends or accepts. */
export const MAX_PSK_IDENTITY_BYTES = 128;
/** The most bytes of a PSK (OpenSSL's PSK_MAX_PSK_LEN). */
export const MAX_PSK_BYTES = 512;

/** The TLS 1.2 PSK suites a PSK context adds to its list when `ciphers` is not given: forward secret ones. */
export const PSK_CIPHERS = [
  "ECDHE-PSK-CHACHA20-POLY1305",
  "DHE-PSK-AES128-GCM-SHA256",
  "DHE-PSK-AES256-GCM-SHA384",
  "DHE-PSK-CHACHA20-POLY1305",
].join(":");

/** The TLS 1.3 suites of a PSK context unless `ciphersuites` says otherwise: SHA-256 ones first. */
export const PSK_CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";

// unsigned int psk_client_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_identity_len,
//                            unsigned char *psk, unsigned int max_psk_len)
const CLIENT_CALLBACK = {
  parameters: ["pointer", "pointer", "pointer", "u32", "pointer", "u32"],
  result: "u32",
} as const;
// int psk_use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
//                        SSL_SESSION **sess)
const USE_SESSION_CALLBACK = {
  parameters: ["pointer", "pointer", "pointer", "pointer", "pointer"],
  result: "i32",
} as const;
// TLS_AES_128_GCM_SHA256, the suite an external PSK is bound to (SHA-256, as s_client -psk).
const TLS13_PSK_SUITE = new Uint8Array([0x13, 0x01]);

// unsigned int psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk, unsigned int max_psk_len)
const SERVER_CALLBACK = { parameters: ["pointer", "pointer", "pointer", "u32"], result: "u32" } as const;

const encoder = new TextEncoder();

/** Refuses a key that is not 1 to 512 bytes, naming `name` (and the length of bytes that are too few or many). */
export function checkPskKey(key: unknown, name: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length === 0 || key.length > MAX_PSK_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : describe(key);
    throw new TypeError(`${name} must be 1 to ${MAX_PSK_BYTES} bytes, got ${got}`);
  }
}

/**
 * Refuses a promise as a PSK callback's answer: OpenSSL asks within the handshake and cannot wait for one. Its
 * outcome is dropped (handled, so a rejection does not end the process).
 */
function refusePromise(answer: unknown, name: string): void {
  const then = (answer as { then?: unknown } | null | undefined)?.then;
  if (typeof then !== "function") return;
  (answer as PromiseLike<unknown>).then(() => {}, () => {});
  throw new TypeError(
    `${name} must answer synchronously, not with a promise (OpenSSL asks within the handshake)`,
  );
}

/** Refuses an identity that is empty, has a NUL or is over 128 bytes, naming `name`. */
export function checkPskIdentity(identity: unknown, name: string): asserts identity is string {
  if (typeof identity !== "string" || identity === "") {
    throw new TypeError(`${name} must be a non-empty string, got ${describe(identity)}`);
  }
  checkNoNul(identity, name);
  if (encoder.encode(identity).length > MAX_PSK_IDENTITY_BYTES) {
    throw new TypeError(`${name} must be at most ${MAX_PSK_IDENTITY_BYTES} bytes of UTF-8`);
  }
}

/** Refuses anything but `{ identity, key }` with a good identity and key. */
export function checkPskIdentityAndKey(value: unknown, name: string): asserts value is PskIdentity {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`${name} must be { identity, key }, got ${describe(value)}`);
  }
  const { identity, key } = value as Record<string, unknown>;
  checkPskIdentity(identity, `${name}.identity`);
  checkPskKey(key, `${name}.key`);
}

// The SSL_CTXs whose clients may authenticate a server by a PSK instead of a certificate, by address.
const pskClientContexts = new Set<bigint>();

/** Whether a client of the SSL_CTX at `ctx` may have authenticated its server by a PSK (see `checkResumedPeer`). */
export function authenticatesByPsk(ctx: Deno.PointerValue): boolean {
  return ctx !== null && pskClientContexts.has(Deno.UnsafePointer.value(ctx));
}

function copyInto(target: Deno.PointerObject, max: number, bytes: Uint8Array): boolean {
  if (bytes.length > max) return false;
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(target, max)).set(bytes);
  return true;
}

// What a client's pskCallback answered, or the error it threw (a wrong answer counts as one).
type Outcome = { answer: PskIdentity | null } | { error: unknown };

function ask(provide: (hint: string | null) => PskIdentity | null | undefined, hint: string | null): Outcome {
  try {
    const answer = provide(hint) ?? null;
    refusePromise(answer, "pskCallback");
    if (answer !== null) checkPskIdentityAndKey(answer, "pskCallback's answer");
    return { answer };
  } catch (error) {
    return { error };
  }
}

function failureText(error: unknown): string {
  return `the PSK callback failed: ${error instanceof Error ? error.message : error}`;
}

// A client's answer to `provide(null)` for its handshake under way, by SSL address, with the client random that
// tells the handshake: OpenSSL asks the TLS 1.3 callback again after a HelloRetryRequest, and a TLS 1.2 server
// without a hint brings the legacy callback the same question; the ClientHello keeps its random across a retry,
// a renegotiation makes a new one.
const answers = new Map<bigint, { random: Uint8Array; outcome: Outcome }>();

function clientRandom(ssl: Deno.PointerObject): Uint8Array {
  const random = new Uint8Array(32);
  loadOpenssl().libssl.SSL_get_client_random(ssl, random, BigInt(random.length));
  return random;
}

/** `provide(null)`, asked once per handshake of `ssl`. */
function askOnce(
  ssl: Deno.PointerObject,
  provide: (hint: string | null) => PskIdentity | null | undefined,
): Outcome {
  const address = Deno.UnsafePointer.value(ssl);
  const random = clientRandom(ssl);
  const known = answers.get(address);
  if (known !== undefined && known.random.every((byte, i) => byte === random[i])) return known.outcome;
  const outcome = ask(provide, null);
  if (known === undefined) releaseWhenFreed("ssl", ssl, () => answers.delete(address));
  answers.set(address, { random, outcome });
  return outcome;
}

// The SSL whose TLS 1.3 callback has just offered no PSK: OpenSSL then calls the legacy callback, in the same
// native call, for the same ClientHello.
let declinedAtHello: bigint | null = null;

/**
 * The client context at `raw` offers the PSK `provide` gives for the server's hint (TLS 1.2; `null` at TLS
 * 1.3), or none when it gives `null`. It runs in the handshake, synchronously, once per handshake for each
 * hint.
 */
export function offerPsk(
  raw: Deno.PointerObject,
  provide: (hint: string | null) => PskIdentity | null | undefined,
): void {
  const native = callbackFor("ctx", raw, CLIENT_CALLBACK, (ssl, hint, identity, maxIdentity, psk, maxPsk) => {
    if (ssl === null || identity === null || psk === null) return 0;
    const address = Deno.UnsafePointer.value(ssl);
    if (declinedAtHello === address) {
      // The TLS 1.3 callback answered for this ClientHello (and OpenSSL's own PSK session here would carry no
      // session id context, nor suit a retry's hash): no PSK from this one either.
      declinedAtHello = null;
      return 0;
    }
    // Otherwise a TLS 1.2 ClientKeyExchange, which fails without a PSK (so a failure is noted). Without a hint
    // it asks what the TLS 1.3 callback asked for this ClientHello: that answer again.
    const text = readCString(hint);
    const outcome = text === null ? askOnce(ssl, provide) : ask(provide, text);
    if ("error" in outcome) {
      noteVerifyFailure(ssl, failureText(outcome.error));
      return 0;
    }
    const chosen = outcome.answer;
    if (chosen === null) return 0;
    // NUL-terminated, within max_identity_len.
    const name = encoder.encode(`${chosen.identity}\0`);
    if (!copyInto(identity, maxIdentity, name) || !copyInto(psk, maxPsk, chosen.key)) return 0;
    return chosen.key.length;
  });
  const { libssl } = loadOpenssl();
  libssl.SSL_CTX_set_psk_client_callback(raw, native);
  // TLS 1.3: the module makes the PSK's session itself, so it carries the connection's session id context.
  libssl.SSL_CTX_set_psk_use_session_callback(raw, useSessionCallback(raw, provide));
  const address = Deno.UnsafePointer.value(raw);
  pskClientContexts.add(address);
  releaseWhenFreed("ctx", raw, () => pskClientContexts.delete(address));
}

/**
 * The server context at `raw` accepts a client's PSK identity when `lookup` gives its key, and refuses it
 * (the handshake fails, or at TLS 1.3 goes on with the certificate if there is one) when it gives `null`.
 */
export function acceptPsk(
  raw: Deno.PointerObject,
  lookup: (identity: string) => Uint8Array | null | undefined,
): void {
  const { libssl } = loadOpenssl();
  const native = callbackFor("ctx", raw, SERVER_CALLBACK, (ssl, identity, psk, maxPsk) => {
    const name = readCString(identity);
    if (ssl === null || name === null || psk === null) return 0;
    try {
      const key = lookup(name);
      if (key === null || key === undefined) return 0;
      refusePromise(key, "pskCallback");
      checkPskKey(key, "pskCallback's answer");
      return copyInto(psk, maxPsk, key) ? key.length : 0;
    } catch (error) {
      // Said only where it ends the handshake: a TLS 1.3 server with a certificate goes on with it, and a note
      // would then name this for whatever fails later on the connection.
      const goesOn = libssl.SSL_version(ssl) === TLS1_3_VERSION && libssl.SSL_get_certificate(ssl) !== null;
      if (!goesOn) noteVerifyFailure(ssl, failureText(error));
      return 0;
    }
  });
  libssl.SSL_CTX_set_psk_server_callback(raw, native);
}

function writePointer(cell: Deno.PointerObject, value: Deno.PointerValue): void {
  new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(cell, 8))[0] = Deno.UnsafePointer.value(value);
}

/** An SSL_SESSION for the external PSK `key` on `ssl`, or `null` if OpenSSL cannot make it. */
function pskSession(ssl: Deno.PointerObject, cipher: Deno.PointerObject, key: Uint8Array): Deno.PointerValue {
  const { libssl } = loadOpenssl();
  const session = libssl.SSL_SESSION_new();
  if (session === null) return null;
  const context = clientSessionContextOf(ssl) ?? new Uint8Array(0);
  if (
    libssl.SSL_SESSION_set1_master_key(session, key, BigInt(key.length)) !== 1 ||
    libssl.SSL_SESSION_set_cipher(session, cipher) !== 1 ||
    libssl.SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) !== 1 ||
    libssl.SSL_SESSION_set1_id_context(session, context, context.length) !== 1
  ) {
    libssl.SSL_SESSION_free(session);
    return null;
  }
  return session;
}

function useSessionCallback(
  raw: Deno.PointerObject,
  provide: (hint: string | null) => PskIdentity | null | undefined,
): Deno.PointerObject {
  const { libssl, libcrypto } = loadOpenssl();
  // The identity offered last: OpenSSL copies it as soon as this callback returns (SSL's psksession_id), so
  // keeping the bytes until the next call is enough.
  let offered = new Uint8Array(0);
  return callbackFor("ctx", raw, USE_SESSION_CALLBACK, (ssl, md, id, idLength, sessionCell) => {
    declinedAtHello = null;
    if (ssl === null || id === null || idLength === null || sessionCell === null) return 0;
    writePointer(sessionCell, null);
    const decline = () => {
      declinedAtHello = Deno.UnsafePointer.value(ssl);
      return 1;
    };
    const outcome = askOnce(ssl, provide);
    if ("error" in outcome) {
      noteVerifyFailure(ssl, failureText(outcome.error));
      return 0;
    }
    const chosen = outcome.answer;
    if (chosen === null) return decline();
    const cipher = libssl.SSL_CIPHER_find(ssl, TLS13_PSK_SUITE);
    if (cipher === null) return decline();
    // After a HelloRetryRequest OpenSSL asks again with the chosen suite's hash: a PSK for SHA-256 only. By type:
    // OpenSSL's digest here is a fetched one, the cipher's a built-in one, never the same pointer.
    const digest = libssl.SSL_CIPHER_get_handshake_digest(cipher);
    if (
      md !== null && (digest === null || libcrypto.EVP_MD_get_type(md) !== libcrypto.EVP_MD_get_type(digest))
    ) {
      return decline();
    }
    const session = pskSession(ssl, cipher, chosen.key);
    if (session === null) return 0;
    offered = encoder.encode(chosen.identity);
    writePointer(id, Deno.UnsafePointer.of(offered));
    new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(idLength, 8))[0] = BigInt(offered.length);
    // OpenSSL owns the session now.
    writePointer(sessionCell, session);
    return 1;
  });
}
