/**
 * OpenSSL's message callback: every TLS protocol message an SSL sends or receives (handshake messages, alerts,
 * ChangeCipherSpec; TLS 1.3's encrypted handshake messages decrypted), for `onMessage`, `trace`, and the
 * module's own wait for a client's answer to a post-handshake certificate request.
 *
 * @module
 */

import { callbackFor, insideOpensslCallback, releaseWhenFreed } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";

/** Which way a message went. */
export type MessageDirection = "sent" | "received";

/**
 * Called with each TLS protocol message: its direction, its content type (20 ChangeCipherSpec, 21 alert, 22
 * handshake, 23 application data), the handshake message type for a handshake message (1 ClientHello, 2
 * ServerHello, 4 NewSessionTicket, 11 Certificate, 13 CertificateRequest, 20 Finished, 24 KeyUpdate...) or
 * `null`, and the message's bytes (a copy, decrypted).
 */
export type MessageCallback = (
  direction: MessageDirection,
  contentType: number,
  handshakeType: number | null,
  bytes: Uint8Array,
) => void;

// void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
const MESSAGE_CALLBACK = {
  parameters: ["i32", "i32", "i32", "pointer", "usize", "pointer", "pointer"],
  result: "void",
} as const;

// OpenSSL's pseudo content types for record headers and TLS 1.3's inner content type: not messages.
const RECORD_HEADER = 256;
const INNER_CONTENT_TYPE = 257;
const HANDSHAKE = 22;

// The message callback of each SSL_CTX the module set one on, by address: an SSL's own watcher passes to it.
type Handler = (ssl: Deno.PointerObject, ...message: Parameters<MessageCallback>) => void;
const contextCallbacks = new Map<bigint, Handler>();
// The native callback each watched context has, for an SSL to go back to once its own watcher is gone.
const contextNatives = new Map<bigint, Deno.PointerObject>();

function nativeHandler(kind: "ctx" | "ssl", raw: Deno.PointerObject, handler: Handler): Deno.PointerObject {
  return callbackFor(kind, raw, MESSAGE_CALLBACK, (writeP, _version, contentType, buffer, length, ssl) => {
    if (ssl === null || contentType === RECORD_HEADER || contentType === INNER_CONTENT_TYPE) return;
    const size = Number(length);
    const bytes = buffer === null || size === 0
      ? new Uint8Array(0)
      : new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(buffer, size)).slice();
    const handshakeType = contentType === HANDSHAKE && bytes.length > 0 ? bytes[0] : null;
    try {
      handler(ssl, writeP === 1 ? "sent" : "received", contentType, handshakeType, bytes);
    } catch {
      // A failing observer must not break the connection.
    }
  });
}

/** Calls `handler` with every message of every SSL of the context at `raw`. */
export function watchContextMessages(raw: Deno.PointerObject, handler: Handler): void {
  const native = nativeHandler("ctx", raw, handler);
  loadOpenssl().libssl.SSL_CTX_set_msg_callback(raw, native);
  const address = Deno.UnsafePointer.value(raw);
  contextCallbacks.set(address, handler);
  contextNatives.set(address, native);
  releaseWhenFreed("ctx", raw, () => {
    contextCallbacks.delete(address);
    contextNatives.delete(address);
  });
}

// Each watched SSL's own message callback and who listens to it, by address, until the SSL is freed: made once
// per SSL and installed while anyone listens (a request per message on a long connection makes no new callback).
interface SslWatch {
  readonly listeners: Set<Handler>;
  readonly native: Deno.PointerObject;
  installed: boolean;
}
const sslWatches = new Map<bigint, SslWatch>();

function watchOf(ssl: Deno.PointerObject): SslWatch {
  const address = Deno.UnsafePointer.value(ssl);
  const known = sslWatches.get(address);
  if (known !== undefined) return known;
  const context = loadOpenssl().libssl.SSL_get_SSL_CTX(ssl);
  const contextAddress = context === null ? null : Deno.UnsafePointer.value(context);
  const listeners = new Set<Handler>();
  const native = nativeHandler("ssl", ssl, (from, ...message) => {
    // Each listener on its own: a context callback (the application's onMessage) that throws must not keep
    // the module's own watchers from seeing the message.
    const own = contextAddress === null ? undefined : contextCallbacks.get(contextAddress);
    try {
      own?.(from, ...message);
    } catch {
      // A failing observer changes nothing.
    }
    for (const each of listeners) {
      try {
        each(from, ...message);
      } catch {
        // Nor does a failing watcher.
      }
    }
  });
  const watch: SslWatch = { listeners, native, installed: false };
  sslWatches.set(address, watch);
  releaseWhenFreed("ssl", ssl, () => sslWatches.delete(address));
  return watch;
}

/**
 * Calls `handler` with every message of the SSL at `ssl` until the returned function is called; the context's
 * own message callback (`onMessage`, `trace`) still gets them. Once the last handler is gone the SSL goes back
 * to the context's callback (or none): records no longer call into JavaScript for a watcher nobody needs.
 */
export function watchSslMessages(ssl: Deno.PointerObject, handler: Handler): () => void {
  const address = Deno.UnsafePointer.value(ssl);
  const watch = watchOf(ssl);
  if (!watch.installed) {
    loadOpenssl().libssl.SSL_set_msg_callback(ssl, watch.native);
    watch.installed = true;
  }
  watch.listeners.add(handler);
  const stop = (): void => {
    watch.listeners.delete(handler);
    // Still listened to, already taken off, or the SSL was freed meanwhile (its entry went with it).
    if (watch.listeners.size > 0 || !watch.installed || sslWatches.get(address) !== watch) return;
    // Not from inside one of this SSL's own callbacks: OpenSSL may be using the SSL under it.
    if (insideOpensslCallback()) {
      queueMicrotask(stop);
      return;
    }
    watch.installed = false;
    const { libssl } = loadOpenssl();
    const context = libssl.SSL_get_SSL_CTX(ssl);
    const inherited = context === null ? undefined : contextNatives.get(Deno.UnsafePointer.value(context));
    libssl.SSL_set_msg_callback(ssl, inherited ?? null);
  };
  return stop;
}

/** @internal How many SSLs have a message watcher of their own installed (tests check none is left behind). */
export function sslMessageWatchers(): number {
  let installed = 0;
  for (const watch of sslWatches.values()) if (watch.installed) installed++;
  return installed;
}

const CONTENT_TYPES: Record<number, string> = {
  20: "ChangeCipherSpec",
  21: "Alert",
  22: "Handshake",
  23: "ApplicationData",
};

const HANDSHAKE_TYPES: Record<number, string> = {
  0: "HelloRequest",
  1: "ClientHello",
  2: "ServerHello",
  4: "NewSessionTicket",
  5: "EndOfEarlyData",
  8: "EncryptedExtensions",
  11: "Certificate",
  12: "ServerKeyExchange",
  13: "CertificateRequest",
  14: "ServerHelloDone",
  15: "CertificateVerify",
  16: "ClientKeyExchange",
  20: "Finished",
  22: "CertificateStatus",
  24: "KeyUpdate",
  254: "MessageHash",
};

/** One line describing a message, e.g. `-> Handshake ClientHello (512 bytes)`, for `trace`. */
export function describeMessage(
  ...[direction, contentType, handshakeType, bytes]: Parameters<MessageCallback>
): string {
  const arrow = direction === "sent" ? "->" : "<-";
  const type = CONTENT_TYPES[contentType] ?? `content type ${contentType}`;
  let detail = "";
  if (handshakeType !== null) detail = ` ${HANDSHAKE_TYPES[handshakeType] ?? `type ${handshakeType}`}`;
  if (contentType === 21 && bytes.length >= 2) {
    const description = loadOpenssl().libssl.SSL_alert_desc_string_long(bytes[1]);
    const text = description === null ? `${bytes[1]}` : new Deno.UnsafePointerView(description).getCString();
    detail = ` ${bytes[0] === 2 ? "fatal" : "warning"} ${text}`;
  }
  return `${arrow} ${type}${detail} (${bytes.length} bytes)`;
}
