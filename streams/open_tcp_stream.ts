/**
 * `openTcpStream`: LispWorks' `open-tcp-stream`, always the client.
 *
 * @module
 */

import { SslAbstractContext } from "./abstract_context.ts";
import { checkHostName } from "./_host_name.ts";
import { checkTimeout, Deadline } from "./_deadline.ts";
import { checkInitargs, INITARG_KEYS, makeInstance, type SocketStreamInit } from "./make_instance.ts";
import type { SocketStream } from "./socket_stream.ts";
import { checkBoolean, checkPort, ownOptions } from "../ffi/_option_checks.ts";
import { checkSide } from "../ffi/ssl_ctx.ts";

// The initargs less the socket, plus the TCP options; a stray sslSide (a valid side) is ignored: openTcpStream
// is a client.
const OPEN_TCP_STREAM_KEYS: ReadonlySet<string> = new Set([
  ...[...INITARG_KEYS].filter((key) => key !== "socket"),
  "timeout",
  "nodelay",
  "keepalive",
]);

/** Options of `openTcpStream`: the initargs less `socket` and `sslSide`, plus TCP options. */
export interface OpenTcpStreamOptions extends Omit<SocketStreamInit, "socket" | "sslSide"> {
  /** Milliseconds the TCP connect may take; on expiry `Deno.errors.TimedOut`. */
  timeout?: number;
  /** Sets `TCP_NODELAY` (Deno's default is on). */
  nodelay?: boolean;
  /** Sets `SO_KEEPALIVE`. */
  keepalive?: boolean;
}

/**
 * Connects to `hostname:port` and returns a socket stream, LispWorks'
 * `open-tcp-stream`. With `sslCtx` it is a TLS client (there is no `sslSide`;
 * a stray one is ignored once it is a valid side), handshaken before this resolves: a context made
 * from a symbol verifies the server against the system trust store
 * (`SSL_CERT_FILE` is honoured), and the name checked and sent as SNI is
 * `tlsextHostName`, else the `SslAbstractContext`'s own, else `hostname` (an
 * IP literal is checked as an IP and not sent as SNI).
 *
 * @param hostname the host name or IP address.
 * @param port the TCP port.
 * @param opts TLS and TCP options.
 * @returns the connected stream.
 * @throws {Deno.errors.ConnectionRefused} when nothing listens there.
 * @throws {Deno.errors.TimedOut} when the connect takes longer than `timeout`.
 * @throws {SslCondition} when the TLS setup or handshake fails (`SslVerificationFailure` ...).
 * @example Fetch a page over TLS
 * ```ts
 * import { openTcpStream } from "@comm/socket-stream";
 *
 * await using stream = await openTcpStream("example.com", 443, { sslCtx: true, handshakeTimeout: 10_000 });
 * console.log(stream.protocol, stream.cipher, stream.peerCertificate()?.subject);
 * await stream.write(new TextEncoder().encode("HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n"));
 * ```
 */
export async function openTcpStream(
  hostname: string,
  port: number,
  opts: OpenTcpStreamOptions = {},
): Promise<SocketStream> {
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError("openTcpStream: hostname must be a non-empty string");
  }
  checkHostName(hostname, "openTcpStream's hostname");
  // Taken once and checked before the connect: a wrong option must not cost a connection to the peer.
  const given = ownOptions("openTcpStream", opts, OPEN_TCP_STREAM_KEYS);
  if (given.sslCtx instanceof SslAbstractContext && given.sslCtx.side !== "client") {
    throw new TypeError("openTcpStream is a client: its sslCtx cannot be a server SslAbstractContext");
  }
  checkPort("openTcpStream", "port", port);
  // A stray sslSide is ignored (openTcpStream is the client), once it is a side at all.
  const { timeout, nodelay, keepalive, sslSide: stray, ...rest } = given as typeof given & {
    sslSide?: unknown;
  };
  if (stray !== undefined) checkSide("sslSide", stray);
  const timeoutMs = checkTimeout("timeout", timeout);
  checkBoolean("nodelay", nodelay);
  checkBoolean("keepalive", keepalive);
  checkInitargs({ ...rest, sslSide: "client" });
  const { signal } = rest;
  signal?.throwIfAborted();
  // The connect itself is cancelled on timeout or abort, so no SYN retries go on in the background.
  const cancel = new AbortController();
  const connecting = Deno.connect({ hostname, port, signal: cancel.signal });
  let conn: Deno.TcpConn;
  {
    using deadline = new Deadline({
      timeoutMs,
      signal,
      onTimeout: () =>
        new Deno.errors.TimedOut(`Connecting to ${hostname}:${port} timed out after ${timeoutMs} ms`),
    });
    try {
      conn = await deadline.race(connecting);
    } catch (error) {
      cancel.abort(error);
      // A connect that lost the race anyway must not leak its socket.
      connecting.then((late) => late.close(), () => {});
      throw error;
    }
  }
  if (nodelay !== undefined) conn.setNoDelay(nodelay);
  if (keepalive !== undefined) conn.setKeepAlive(keepalive);
  return await makeInstance("socket-stream", {
    ...rest,
    socket: conn,
    sslSide: "client",
    // The name to send and verify: the option, else the context's own, else the host connected to.
    tlsextHostName: rest.tlsextHostName ??
      (rest.sslCtx instanceof SslAbstractContext && rest.sslCtx.tlsextHostName !== undefined
        ? undefined
        : hostname),
  });
}
