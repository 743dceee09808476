/**
 * The certificates, contexts and connections every benchmark uses
 * (certificates from tests/fixtures).
 *
 * @module
 */

import {
  createSslClientContext,
  createSslServerContext,
  makeInstance,
  openTcpStream,
  type SocketStream,
  type SslAbstractContext,
} from "../mod.ts";

/** The path of a test fixture. */
export const fixture = (name: string): string =>
  new URL(`../tests/fixtures/${name}`, import.meta.url).pathname;

/** The server's certificate and key and the CA, as PEM text. */
export const pem = {
  cert: Deno.readTextFileSync(fixture("server.pem")),
  key: Deno.readTextFileSync(fixture("server.key")),
  ca: Deno.readTextFileSync(fixture("ca.pem")),
};

/** One server and one client context, shared by every connection of a run. */
export function benchContexts(): { server: SslAbstractContext; client: SslAbstractContext } {
  return {
    server: createSslServerContext({ cert: pem.cert, key: pem.key }),
    client: createSslClientContext({ ca: pem.ca }),
  };
}

/** The two TLS stacks that run inside a Deno process: this module, and Deno's own. */
export type DenoStack = "module" | "deno";

/** A TLS connection of either stack, handshake done. */
export type StackConnection = SocketStream | Deno.TlsConn;

/** A loopback listener for `stack`: plain TCP for the module (TLS goes on after accept), TLS for Deno. */
export function listenOn(stack: DenoStack): Deno.Listener {
  return stack === "module"
    ? Deno.listen({ hostname: "127.0.0.1", port: 0 })
    : Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: pem.cert, key: pem.key });
}

/** Runs the server side of the handshake on a socket `listenOn(stack)` accepted. */
export async function secureAccepted(
  stack: DenoStack,
  socket: Deno.Conn,
  server: SslAbstractContext,
): Promise<StackConnection> {
  if (stack === "module") return await makeInstance("socket-stream", { socket, sslCtx: server });
  const conn = socket as Deno.TlsConn;
  await conn.handshake();
  return conn;
}

/** Connects to `port` on loopback with `stack`, handshake done, verifying the test CA. */
export async function connectWith(
  stack: DenoStack,
  port: number,
  client: SslAbstractContext,
): Promise<StackConnection> {
  if (stack === "module") return await openTcpStream("localhost", port, { sslCtx: client });
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [pem.ca] });
  await conn.handshake();
  return conn;
}
