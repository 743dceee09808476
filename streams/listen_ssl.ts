/**
 * `listenSsl`: a TLS listener in the shape of `Deno.listenTls`, an async
 * iterable of handshaken `SocketStream`s.
 *
 * @module
 */

import { describe, SslCtxPointer, SslPointer } from "../ffi/pointers.ts";
import { methodSideOf } from "../ffi/ssl_ctx.ts";
import { checkNoNul } from "../ffi/_cstring.ts";
import { checkFunction, checkPort, checkSignal, ownOptions } from "../ffi/_option_checks.ts";
import { SslAbstractContext } from "./abstract_context.ts";
import { AcceptBackoff, SERVER_HANDSHAKE_TIMEOUT_MS } from "./_server_defaults.ts";
import { SSL_OPTION_KEYS, type SslOptions } from "./attach_ssl.ts";
import { checkInitargs, makeInstance } from "./make_instance.ts";
import type { SocketStream } from "./socket_stream.ts";

// The SSL options (signal is the listener's own), where to listen, and the streams' timeouts.
const LISTEN_KEYS: ReadonlySet<string> = new Set([
  ...SSL_OPTION_KEYS,
  "port",
  "hostname",
  "onError",
  "readTimeout",
  "writeTimeout",
]);

// A context every accepted connection can be made with: not a client one.
function checkServerContext(caller: string, sslCtx: unknown): void {
  if (sslCtx instanceof SslAbstractContext && sslCtx.side !== "server") {
    throw new TypeError(`${caller} needs a server context, got a client SslAbstractContext`);
  }
  if (sslCtx instanceof SslCtxPointer && !sslCtx.freed && methodSideOf(sslCtx) === "client") {
    throw new TypeError(`${caller} needs a server context, got an SslCtxPointer made for sslSide "client"`);
  }
}

/** Options of `listenSsl`: where to listen, and the SSL options for each connection. */
export interface ListenSslOptions extends Omit<SslOptions, "signal"> {
  /** The TCP port (0 picks a free one; `addr` tells which). */
  port: number;
  /**
   * The address to listen on.
   * @default {"0.0.0.0"}
   */
  hostname?: string;
  /**
   * Milliseconds a client has to finish its handshake; a stalled one is dropped. `null` for no limit.
   * @default {10000}
   */
  handshakeTimeout?: number | null;
  /**
   * Told about each client dropped because its handshake failed (with the client's address), and about each
   * failed accept (with the listener's address; the listener pauses, 10 ms doubling up to 1 s, and accepts
   * again).
   */
  onError?: (error: unknown, remoteAddr: Deno.NetAddr) => void;
  /** Milliseconds a read may wait, for each stream. */
  readTimeout?: number;
  /** Milliseconds a write may wait, for each stream. */
  writeTimeout?: number;
  /** Aborting it closes the listener (as `close()`). */
  signal?: AbortSignal;
}

/** A TLS listener: iterate it for handshaken streams; close it to stop. */
export interface SslListener extends AsyncIterable<SocketStream>, AsyncDisposable {
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /** Stops accepting; streams not yet taken are closed; iteration ends. Idempotent. */
  close(): void;
  /**
   * Serves connections accepted from now on with `sslCtx` (a server `SslAbstractContext` or an
   * `SslCtxPointer`), for a new certificate without a restart; connections already accepted keep theirs. To
   * renew the certificate files of the same context, `context.reload()` is enough. Closing the context it
   * replaces is the caller's (its live connections keep it until they end).
   *
   * @throws {TypeError} for anything else, a closed context or a client one, a freed pointer.
   */
  setContext(sslCtx: SslAbstractContext | SslCtxPointer): void;
}

/**
 * Listens for TLS clients, like `Deno.listenTls` but with OpenSSL and the
 * LispWorks SSL options: each accepted connection is handshaken (concurrently,
 * bounded by `handshakeTimeout`) before iteration yields it. A client whose
 * handshake fails is dropped and reported to `onError`; it never stops the
 * listener. `sslSide` defaults to "server", and `sslCtx` to `true` (as in
 * `attachSsl`): every stream it yields is a TLS one.
 *
 * @param options the port, the address and the SSL options.
 * @returns the listener.
 * @throws {TypeError} or {RangeError} for wrong options; Deno's errors if it cannot listen.
 * @example A server that takes a new context on SIGHUP
 * ```ts
 * import { createSslServerContext, listenSsl } from "@comm/socket-stream";
 *
 * let context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key" });
 * await using listener = listenSsl({ port: 8443, sslCtx: context });
 * Deno.addSignalListener("SIGHUP", () => {
 *   const renewed = createSslServerContext({ certFile: "renewed.pem", keyFile: "renewed.key" });
 *   listener.setContext(renewed);
 *   context.close(); // its live connections keep it until they end
 *   context = renewed;
 * });
 * ```
 * @example An echo server
 * ```ts
 * import { createSslServerContext, listenSsl } from "@comm/socket-stream";
 *
 * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key" });
 * await using listener = listenSsl({ port: 8443, sslCtx: context });
 * for await (const stream of listener) {
 *   stream.readable.pipeTo(stream.writable).catch(() => {});
 * }
 * ```
 */
export function listenSsl(options: ListenSslOptions): SslListener {
  const {
    port,
    hostname = "0.0.0.0",
    handshakeTimeout = SERVER_HANDSHAKE_TIMEOUT_MS,
    onError,
    signal,
    ...ssl
  } = ownOptions("listenSsl", options, LISTEN_KEYS);
  checkPort("listenSsl", "port", port);
  checkFunction("onError", onError);
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(`listenSsl: hostname must be a non-empty string, got ${describe(hostname)}`);
  }
  checkNoNul(hostname, "listenSsl's hostname");
  checkSignal("signal", signal);
  // What each connection is made with is checked now: a wrong option would otherwise fail every client.
  checkInitargs({ ...ssl, handshakeTimeout });
  if (ssl.sslCtx instanceof SslPointer) {
    throw new TypeError(
      "listenSsl needs a context for many connections, not an SslPointer (one connection's SSL)",
    );
  }
  checkServerContext("listenSsl", ssl.sslCtx);
  if (ssl.sslSide === "client") {
    throw new TypeError('listenSsl is the server: its sslSide cannot be "client"');
  }
  // No sslCtx means what attachSsl takes it to mean (true: a server context from the symbol), never a plain
  // stream: this listener yields TLS streams only.
  let current: SslOptions["sslCtx"] = ssl.sslCtx ?? true;
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  const ready: SocketStream[] = [];
  const waiting: ((stream: SocketStream | null) => void)[] = [];
  const handshaking = new Set<Promise<void>>();
  const closing: Promise<void>[] = [];
  let closed = false;
  let stopped!: () => void;
  const stopping = new Promise<void>((resolve) => stopped = resolve);

  const shut = (stream: SocketStream) => {
    stream.close();
    closing.push(stream.closed);
  };

  const deliver = (stream: SocketStream) => {
    if (closed) return shut(stream);
    const taker = waiting.shift();
    if (taker) taker(stream);
    else ready.push(stream);
  };

  const backoff = new AcceptBackoff();
  const accepting = (async () => {
    for (;;) {
      let socket: Deno.TcpConn;
      try {
        socket = await listener.accept();
      } catch (error) {
        if (closed || error instanceof Deno.errors.BadResource) return;
        // Out of descriptors, or a connection reset in the backlog: report it, pause, accept again.
        try {
          onError?.(error, listener.addr);
        } catch {
          // The listener goes on.
        }
        await backoff.failed(stopping);
        continue;
      }
      backoff.succeeded();
      const handshake = makeInstance("socket-stream", { handshakeTimeout, ...ssl, sslCtx: current, socket })
        .then(deliver, (error) => onError?.(error, socket.remoteAddr))
        .catch(() => {});
      handshaking.add(handshake);
      handshake.finally(() => handshaking.delete(handshake));
    }
  })();

  const close = () => {
    if (closed) return;
    closed = true;
    stopped();
    try {
      listener.close();
    } catch {
      // Already closed.
    }
    for (const stream of ready.splice(0)) shut(stream);
    for (const taker of waiting.splice(0)) taker(null);
    signal?.removeEventListener("abort", close);
  };
  signal?.addEventListener("abort", close, { once: true });
  if (signal?.aborted) close();

  return {
    addr: listener.addr,
    close,
    setContext(sslCtx) {
      if (sslCtx instanceof SslAbstractContext) {
        checkServerContext("setContext", sslCtx);
        if (sslCtx.closed) throw new TypeError("setContext: this SslAbstractContext is closed");
      } else if (sslCtx instanceof SslCtxPointer) {
        sslCtx.pointer; // throws TypeError if freed
        checkServerContext("setContext", sslCtx);
      } else {
        throw new TypeError(
          `setContext needs an SslAbstractContext or an SslCtxPointer, got ${describe(sslCtx)}`,
        );
      }
      current = sslCtx;
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = ready.shift() ??
          (closed ? null : await new Promise<SocketStream | null>((resolve) => waiting.push(resolve)));
        if (next === null) return;
        yield next;
      }
    },
    async [Symbol.asyncDispose]() {
      close();
      await accepting;
      await Promise.allSettled(handshaking);
      await Promise.allSettled(closing);
    },
  };
}
