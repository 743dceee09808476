/**
 * `createSslSocketStream`: LispWorks 8's `create-ssl-socket-stream`.
 *
 * @module
 */

import { describe } from "../ffi/pointers.ts";
import type { SslCtxSpec } from "./attach_ssl.ts";
import { closeHandedOver, INITARG_KEYS, makeInstance, type SocketStreamInit } from "./make_instance.ts";
import { checkBoolean, ownOptions } from "../ffi/_option_checks.ts";
import type { SocketStream } from "./socket_stream.ts";
import { SERVER_HANDSHAKE_TIMEOUT_MS, serverHandshakeTimeout } from "./_server_defaults.ts";

// The initargs less the socket and sslCtx (arguments of their own), and errorp.
const CREATE_KEYS: ReadonlySet<string> = new Set([
  ...[...INITARG_KEYS].filter((key) => key !== "socket" && key !== "sslCtx"),
  "errorp",
]);

/** Options of `createSslSocketStream`: the initargs less `socket` and `sslCtx`, and `errorp`. */
export interface CreateSslSocketStreamOptions extends Omit<SocketStreamInit, "socket" | "sslCtx"> {
  /**
   * Throw on failure instead of resolving `[null, condition]`.
   * @default {false}
   */
  errorp?: boolean;
}

/**
 * Makes a TLS stream over an accepted (or connected) socket, LispWorks 8's
 * `create-ssl-socket-stream`: `makeInstance` with the SSL options, owning the
 * socket and closing it on failure. `sslSide` defaults to "server"; an
 * `SslAbstractContext` brings its own side. As a server entry point it cuts a
 * handshake that does not finish: `handshakeTimeout` defaults to the accepting
 * `startUpServer`'s, else 10 s; `null` turns it off.
 *
 * @param socket the connection, owned by the stream from now on.
 * @param sslCtx what SSL to use (not null).
 * @param options the other initargs, and `errorp`.
 * @returns `[stream, null]` or `[null, condition]` (with `errorp: true`, the stream, or a throw).
 * @throws {TypeError} for a null `sslCtx` or wrong options, whatever `errorp` says (the socket is closed, as
 *   on any failure).
 * @example A server loop that drops clients whose handshake fails
 * ```ts
 * import { createSslServerContext, createSslSocketStream } from "@comm/socket-stream";
 *
 * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key" });
 * for await (const socket of Deno.listen({ port: 8443 })) {
 *   const [stream, condition] = await createSslSocketStream(socket, context, { handshakeTimeout: 10_000 });
 *   if (condition) console.error(condition.message);
 *   else stream.close();
 * }
 * ```
 */
export async function createSslSocketStream(
  socket: Deno.Conn,
  sslCtx: SslCtxSpec,
  options: CreateSslSocketStreamOptions & { errorp: true },
): Promise<SocketStream>;
/**
 * Makes a TLS stream over a socket and resolves `[stream, null]`, or
 * `[null, condition]` when the setup or handshake fails (the socket is then
 * closed). See the `errorp: true` form.
 *
 * @param socket the connection, owned by the stream from now on.
 * @param sslCtx what SSL to use (not null).
 * @param options the other initargs.
 * @returns `[stream, null]` or `[null, condition]`.
 * @throws {TypeError} for a null `sslCtx` or wrong options (the socket is closed, as on any failure).
 * @example
 * ```ts
 * import { createSslSocketStream } from "@comm/socket-stream";
 *
 * const socket = await Deno.connect({ hostname: "example.com", port: 443 });
 * const [stream, condition] = await createSslSocketStream(socket, true, { sslSide: "client" });
 * console.log(stream?.protocol ?? condition?.message);
 * ```
 */
export async function createSslSocketStream(
  socket: Deno.Conn,
  sslCtx: SslCtxSpec,
  options?: CreateSslSocketStreamOptions,
): Promise<[SocketStream, null] | [null, Error]>;
export async function createSslSocketStream(
  socket: Deno.Conn,
  sslCtx: SslCtxSpec,
  options: CreateSslSocketStreamOptions = {},
): Promise<SocketStream | [SocketStream, null] | [null, Error]> {
  // The socket is handed over with the call: a wrong argument closes it, as any other failure does.
  let given: CreateSslSocketStreamOptions;
  try {
    if (sslCtx === null || sslCtx === undefined) {
      throw new TypeError(`createSslSocketStream needs an sslCtx, got ${describe(sslCtx)}`);
    }
    given = ownOptions("createSslSocketStream", options, CREATE_KEYS);
    checkBoolean("errorp", given.errorp);
  } catch (error) {
    closeHandedOver(socket);
    throw error;
  }
  const { errorp = false, ...rest } = given;
  // A server entry point: a handshake that never finishes is cut, by default after the accepting server's
  // timeout, else 10 s.
  const accepted = typeof socket === "object" && socket !== null ? serverHandshakeTimeout(socket) : undefined;
  const init = {
    ...rest,
    handshakeTimeout: rest.handshakeTimeout !== undefined
      ? rest.handshakeTimeout
      : accepted !== undefined
      ? accepted
      : SERVER_HANDSHAKE_TIMEOUT_MS,
  };
  if (errorp) return await makeInstance("socket-stream", { ...init, socket, sslCtx });
  try {
    return [await makeInstance("socket-stream", { ...init, socket, sslCtx }), null];
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    return [null, error as Error];
  }
}
