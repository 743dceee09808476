/**
 * `makeInstance`: LispWorks' `(make-instance 'socket-stream ...)`.
 *
 * @module
 */

import {
  attachSsl,
  checkSslOptions,
  SSL_OPTION_KEYS,
  type SslCtxSpec,
  type SslOptions,
} from "./attach_ssl.ts";
import { SocketStream, type SocketStreamOptions } from "./socket_stream.ts";
import { checkKeys, checkSignal } from "./_option_checks.ts";

/** The names `makeInstance` takes: the stream's and the SSL options. */
export const INITARG_KEYS: ReadonlySet<string> = new Set([
  ...SSL_OPTION_KEYS,
  "socket",
  "readTimeout",
  "writeTimeout",
]);

/**
 * Checks initargs (`known` names the keys the caller takes): unknown names, the signal, and the SSL options'
 * values when there is an `sslCtx`.
 */
export function checkInitargs(caller: string, initargs: Record<string, unknown>, known = INITARG_KEYS): void {
  checkKeys(caller, initargs, known);
  checkSignal("signal", initargs.signal);
  if (initargs.sslCtx !== null && initargs.sslCtx !== undefined) checkSslOptions(initargs as SslOptions);
}

/** The initargs of `makeInstance`: the socket, timeouts and the SSL options. */
export interface SocketStreamInit extends Omit<SslOptions, "sslCtx">, SocketStreamOptions {
  /** The SSL to use; `null` or absent makes a plain stream. */
  sslCtx?: SslCtxSpec | null;
}

/**
 * Makes a socket stream over a connection, LispWorks' `make-instance` of
 * `socket-stream`. The stream owns the connection from now on. With a
 * non-null `sslCtx` it calls `attachSsl` with all the SSL options (so
 * `sslSide` defaults to "server", as in LispWorks); if that fails, the stream
 * and the connection are closed and the error is thrown.
 *
 * @param cls `"socket-stream"`, `SocketStream` or a subclass of it.
 * @param initargs the socket and the options.
 * @returns the stream, handshaken when TLS was asked for with a side.
 * @throws {TypeError} for an unknown class or a wrong or unknown option (the connection is closed, as for
 *   every failure once the stream is made).
 * @throws {SslCondition} whatever `attachSsl` throws.
 * @example A TLS server connection from an accepted socket
 * ```ts
 * import { makeInstance, makeSslCtx } from "@comm/socket-stream";
 * import { loadOpenssl } from "@comm/socket-stream/ffi";
 *
 * const ctx = makeSslCtx({ sslSide: "server" });
 * const { libssl } = loadOpenssl();
 * libssl.SSL_CTX_use_certificate_chain_file(ctx.pointer, new TextEncoder().encode("cert.pem\0"));
 * libssl.SSL_CTX_use_PrivateKey_file(ctx.pointer, new TextEncoder().encode("key.pem\0"), 1);
 * for await (const socket of Deno.listen({ port: 8443 })) {
 *   const stream = await makeInstance("socket-stream", { socket, sslCtx: ctx });
 *   console.log(stream.protocol);
 *   stream.close();
 * }
 * ```
 */
export async function makeInstance<T extends SocketStream = SocketStream>(
  cls: "socket-stream" | (new (options: SocketStreamOptions) => T),
  initargs: SocketStreamInit,
): Promise<T> {
  let Class: new (options: SocketStreamOptions) => T;
  if (cls === "socket-stream") {
    Class = SocketStream as unknown as new (options: SocketStreamOptions) => T;
  } else if (typeof cls === "function" && (cls === SocketStream || cls.prototype instanceof SocketStream)) {
    Class = cls;
  } else {
    throw new TypeError(
      `makeInstance: cls must be "socket-stream" or SocketStream (or a subclass), got ${String(cls)}`,
    );
  }
  if (typeof initargs !== "object" || initargs === null) {
    throw new TypeError("makeInstance needs initargs with a socket");
  }
  const { socket, readTimeout, writeTimeout, sslCtx, ...ssl } = initargs;
  const stream = new Class({ socket, readTimeout, writeTimeout });
  try {
    // After the stream is made, so that a wrong option closes the connection as a failed handshake does: the
    // caller handed it over with the call (and may hold no other reference to close it by).
    checkInitargs("makeInstance", initargs as unknown as Record<string, unknown>);
    if (sslCtx !== null && sslCtx !== undefined) await attachSsl(stream, { ...ssl, sslCtx });
  } catch (error) {
    // The stream owns the connection: a failed makeInstance closes it.
    stream.close();
    await stream.closed;
    throw error;
  }
  return stream;
}
