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
import { SocketStream, type SocketStreamOptions, streamOwning } from "./socket_stream.ts";
import { checkSignal, ownOptions } from "../ffi/_option_checks.ts";
import { describe } from "../ffi/pointers.ts";
import { checkTimeout } from "./_deadline.ts";

/** The names `makeInstance` takes: the stream's and the SSL options. */
export const INITARG_KEYS: ReadonlySet<string> = new Set([
  ...SSL_OPTION_KEYS,
  "socket",
  "readTimeout",
  "writeTimeout",
]);

/**
 * Checks the values of initargs already taken (`ownOptions`), all but the socket (the stream's constructor
 * checks it): the timeouts, the signal, and the SSL options, also when there is no `sslCtx` and they go unused
 * (a wrong value is a mistake all the same).
 */
export function checkInitargs(initargs: Omit<SocketStreamInit, "socket">): void {
  const { sslCtx, readTimeout, writeTimeout, ...ssl } = initargs;
  checkTimeout("readTimeout", readTimeout);
  checkTimeout("writeTimeout", writeTimeout);
  checkSignal("signal", initargs.signal);
  checkSslOptions({ ...ssl, sslCtx: sslCtx ?? undefined });
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
  // The call hands the connection over: whatever fails closes it, a wrong argument too (the caller may hold no
  // other reference to close it by).
  let given: SocketStreamInit | undefined;
  // Who owned the socket before the constructor ran (null: not asked yet): a subclass constructor that throws
  // after super() leaves a stream that owns it, which nobody else can reach to close.
  let ownerBefore: SocketStream | undefined | null = null;
  let stream: T;
  try {
    if (typeof initargs !== "object" || initargs === null) {
      throw new TypeError(`makeInstance needs initargs with a socket, got ${describe(initargs)}`);
    }
    given = ownOptions("makeInstance", initargs, INITARG_KEYS);
    const Class = classOf(cls);
    checkInitargs(given);
    ownerBefore = isObject(given.socket) ? streamOwning(given.socket) : undefined;
    stream = new Class({
      socket: given.socket,
      readTimeout: given.readTimeout,
      writeTimeout: given.writeTimeout,
    });
  } catch (error) {
    const socket = given ? given.socket : socketIn(initargs);
    const owner = ownerBefore !== null && isObject(socket) ? streamOwning(socket) : undefined;
    if (owner !== undefined && owner !== ownerBefore) owner.close();
    else closeHandedOver(socket);
    throw error;
  }
  const { socket: _socket, readTimeout: _read, writeTimeout: _write, sslCtx, ...ssl } = given;
  if (sslCtx !== null && sslCtx !== undefined) {
    try {
      await attachSsl(stream, { ...ssl, sslCtx });
    } catch (error) {
      stream.close();
      await stream.closed;
      throw error;
    }
  }
  return stream;
}

function classOf<T extends SocketStream>(
  cls: "socket-stream" | (new (options: SocketStreamOptions) => T),
): new (options: SocketStreamOptions) => T {
  if (cls === "socket-stream") return SocketStream as unknown as new (options: SocketStreamOptions) => T;
  if (typeof cls === "function" && (cls === SocketStream || cls.prototype instanceof SocketStream)) {
    return cls;
  }
  throw new TypeError(
    `makeInstance: cls must be "socket-stream" or SocketStream (or a subclass), got ${describe(cls)}`,
  );
}

const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

// The socket in initargs that could not be taken as options (a getter or a Proxy trap may run again, or throw).
function socketIn(initargs: unknown): unknown {
  try {
    return (initargs as { socket?: unknown } | null | undefined)?.socket;
  } catch {
    return undefined;
  }
}

/**
 * Closes a connection handed to an entry point that failed before a stream took it: only what the
 * `SocketStream` constructor would take as one (`read`, `write` and `close`), so that a listener or a context
 * passed by mistake in its place is left alone. A descriptor number is left alone too, as the constructor
 * leaves it, and so is a connection another stream owns.
 */
export function closeHandedOver(socket: unknown): void {
  if (typeof socket !== "object" || socket === null || streamOwning(socket)) return;
  try {
    const { read, write, close } = socket as { read?: unknown; write?: unknown; close?: unknown };
    if (typeof read === "function" && typeof write === "function" && typeof close === "function") {
      close.call(socket);
    }
  } catch {
    // Already closed, or not a connection at all.
  }
}
