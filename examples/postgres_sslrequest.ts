/**
 * PostgreSQL's SSLRequest: the client asks for TLS in plaintext (an 8-byte message), the server answers with
 * one byte ('S' yes, 'N' no), and on 'S' the same connection carries TLS from the next byte on. Here the
 * client then sends its StartupMessage over TLS and prints the server's first answer.
 *
 *     deno run --allow-ffi --allow-net --allow-read examples/postgres_sslrequest.ts [HOST PORT USER DATABASE [CA]]
 *
 * With the arguments it talks to that server (a real PostgreSQL answers with an authentication request).
 * Without them it starts a local stand-in that speaks just these first bytes of the protocol.
 *
 * @module
 */

import { attachSsl, createSslClientContext, createSslServerContext, SocketStream } from "../mod.ts";
import { fixture } from "./_http_stand_in.ts";

const [host, portText, user = "postgres", database = "postgres", caFile] = Deno.args;
const SSL_REQUEST_CODE = 80877103;

async function readExactly(stream: SocketStream, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let filled = 0; filled < length;) {
    const count = await stream.read(out.subarray(filled));
    if (count === null) throw new Error(`the connection ended after ${filled} of ${length} bytes`);
    filled += count;
  }
  return out;
}

// A StartupMessage: length, protocol 3.0, then name/value pairs, each NUL-terminated, and a final NUL.
function startupMessage(parameters: Record<string, string>): Uint8Array {
  const pairs = Object.entries(parameters).flatMap(([key, value]) => [key, value]).join("\0") + "\0\0";
  const body = new TextEncoder().encode(pairs);
  const message = new Uint8Array(8 + body.length);
  const view = new DataView(message.buffer);
  view.setInt32(0, message.length);
  view.setInt32(4, 196608); // 3.0
  message.set(body, 8);
  return message;
}

// The stand-in: 'S' to the SSLRequest, TLS, then "authentication OK" and ReadyForQuery to the StartupMessage.
async function standIn(listener: Deno.Listener): Promise<void> {
  using context = createSslServerContext({ certFile: fixture("server.pem"), keyFile: fixture("server.key") });
  const stream = new SocketStream({ socket: await listener.accept() });
  const request = new DataView((await readExactly(stream, 8)).buffer);
  if (request.getInt32(0) !== 8 || request.getInt32(4) !== SSL_REQUEST_CODE) {
    throw new Error("not an SSLRequest");
  }
  await stream.write(new TextEncoder().encode("S"));
  await attachSsl(stream, { sslCtx: context });
  const length = new DataView((await readExactly(stream, 4)).buffer).getInt32(0);
  await readExactly(stream, length - 4);
  // AuthenticationOk ('R', 8, 0) and ReadyForQuery ('Z', 5, 'I').
  await stream.write(new Uint8Array([82, 0, 0, 0, 8, 0, 0, 0, 0, 90, 0, 0, 0, 5, 73]));
  await stream.close();
}

const listener = host === undefined ? Deno.listen({ hostname: "127.0.0.1", port: 0 }) : undefined;
const serving = listener ? standIn(listener) : undefined;
const socket = await Deno.connect({
  hostname: host ?? "127.0.0.1",
  port: portText === undefined ? listener!.addr.port : Number(portText),
});
const stream = new SocketStream({ socket });
const sslRequest = new Uint8Array(8);
new DataView(sslRequest.buffer).setInt32(0, 8);
new DataView(sslRequest.buffer).setInt32(4, SSL_REQUEST_CODE);
await stream.write(sslRequest);
const answer = String.fromCharCode((await readExactly(stream, 1))[0]);
console.log(`SSLRequest answered: ${answer}`);
if (answer !== "S") throw new Error("the server does not do TLS");
using context = createSslClientContext({
  ...(caFile ?? host === undefined ? { ca: await Deno.readTextFile(caFile ?? fixture("ca.pem")) } : {}),
});
await attachSsl(stream, { sslCtx: context, tlsextHostName: host ?? "localhost", handshakeTimeout: 10_000 });
console.log(`TLS: ${stream.protocol}, ${stream.cipher}, server ${stream.peerCertificate()?.subject}`);
await stream.write(startupMessage({ user, database }));
const type = String.fromCharCode((await readExactly(stream, 1))[0]);
const length = new DataView((await readExactly(stream, 4)).buffer).getInt32(0);
const body = await readExactly(stream, length - 4);
const code = new DataView(body.buffer).getInt32(0);
console.log(
  type === "R"
    ? `first answer: authentication request ${code} (${code === 0 ? "OK" : "the server wants a password"})`
    : `first answer: message '${type}'`,
);
await stream.close();
await serving;
listener?.close();
