/**
 * Session resumption settings of an SSL_CTX: a server's session lifetime, TLS 1.3 ticket count, ticket keys
 * and cache, and a client's view of each new session the server issues.
 *
 * @module
 */

import {
  SSL_CTRL_GET_TLSEXT_TICKET_KEYS,
  SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
  SSL_OP_NO_TICKET,
  SSL_SESS_CACHE_CLIENT,
  SSL_SESS_CACHE_NO_INTERNAL_STORE,
  SSL_SESS_CACHE_OFF,
} from "./constants.ts";
import { sessionBytes } from "./connection_info.ts";
import { callFailed, clearErrors } from "./_error_queue.ts";
import { callbackFor } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";
import { SSL_CTX_set_session_cache_mode } from "./macros.ts";

/** The length of a ticket key set: a 16-byte name, a 32-byte HMAC secret and a 32-byte AES key. */
export const TICKET_KEYS_LENGTH = 80;

// int new_session_cb(SSL *ssl, SSL_SESSION *session)
const NEW_SESSION_CALLBACK = { parameters: ["pointer", "pointer"], result: "i32" } as const;

/** Sessions made by the server context at `raw` live `seconds` (OpenSSL's default is 300). */
export function setSessionTimeout(raw: Deno.PointerObject, seconds: number): void {
  loadOpenssl().libssl.SSL_CTX_set_timeout(raw, BigInt(seconds));
}

/** The server context at `raw` sends `count` TLS 1.3 tickets after each full handshake (OpenSSL's default: 2). */
export function setNumTickets(raw: Deno.PointerObject, count: number): void {
  clearErrors();
  if (loadOpenssl().libssl.SSL_CTX_set_num_tickets(raw, BigInt(count)) !== 1) throw callFailed("numTickets");
}

function withSecretBuffer<T>(length: number, body: (native: Deno.PointerObject) => T): T {
  const { libcrypto } = loadOpenssl();
  const native = libcrypto.CRYPTO_malloc(BigInt(length), null, 0);
  if (native === null) throw new Error("Out of memory");
  try {
    return body(native);
  } finally {
    libcrypto.OPENSSL_cleanse(native, BigInt(length));
    libcrypto.CRYPTO_free(native, null, 0);
  }
}

/**
 * The server context at `raw` encrypts its tickets with `keys` (80 bytes) from now on. Tickets made with
 * other keys no longer resume: their clients get a full handshake.
 */
export function setTicketKeys(raw: Deno.PointerObject, keys: Uint8Array): void {
  const { libssl } = loadOpenssl();
  clearErrors();
  withSecretBuffer(TICKET_KEYS_LENGTH, (native) => {
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(native, TICKET_KEYS_LENGTH)).set(keys);
    if (
      Number(
        libssl.SSL_CTX_ctrl(raw, SSL_CTRL_SET_TLSEXT_TICKET_KEYS, BigInt(TICKET_KEYS_LENGTH), native),
      ) !== 1
    ) {
      throw callFailed("Setting the ticket keys");
    }
  });
}

/** The ticket keys of the server context at `raw` (80 bytes), to carry over to a context that replaces it. */
export function ticketKeysOf(raw: Deno.PointerObject): Uint8Array {
  const { libssl } = loadOpenssl();
  clearErrors();
  return withSecretBuffer(TICKET_KEYS_LENGTH, (native) => {
    if (
      Number(
        libssl.SSL_CTX_ctrl(raw, SSL_CTRL_GET_TLSEXT_TICKET_KEYS, BigInt(TICKET_KEYS_LENGTH), native),
      ) !== 1
    ) {
      throw callFailed("Reading the ticket keys");
    }
    return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(native, TICKET_KEYS_LENGTH)).slice();
  });
}

/** The server context at `raw` resumes nothing: no session cache, no tickets (TLS 1.2 or 1.3). */
export function disableServerResumption(raw: Deno.PointerObject): void {
  const { libssl } = loadOpenssl();
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  libssl.SSL_CTX_set_options(raw, SSL_OP_NO_TICKET);
  libssl.SSL_CTX_set_num_tickets(raw, 0n);
}

/**
 * Calls `onNew` with the DER of every resumable session the server issues to a client of the context at
 * `raw` (at the handshake for TLS 1.2, after it for TLS 1.3 tickets), and the address of the SSL it came on.
 * OpenSSL keeps no copy.
 */
export function watchNewSessions(
  raw: Deno.PointerObject,
  onNew: (ssl: bigint, session: Uint8Array) => void,
): void {
  const { libssl } = loadOpenssl();
  const native = callbackFor("ctx", raw, NEW_SESSION_CALLBACK, (ssl, session) => {
    if (ssl === null || session === null) return 0;
    try {
      const bytes = sessionBytes(session);
      if (bytes !== null) onNew(Deno.UnsafePointer.value(ssl), bytes);
    } catch {
      // A session that cannot be serialized is not offered later; the connection goes on.
    }
    // 0: OpenSSL keeps no reference (the DER is what the module keeps).
    return 0;
  });
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  libssl.SSL_CTX_sess_set_new_cb(raw, native);
}
