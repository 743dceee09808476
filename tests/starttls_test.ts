// STARTTLS: plaintext, then attachSsl at both ends, encrypted lines, then
// detachSsl and plaintext again, with no byte lost or repeated, and the
// middle part really encrypted on the wire.
import assert from "node:assert/strict";
import { attachSsl, detachSsl, SocketStream } from "../mod.ts";
import {
  assertNoLiveObjects,
  decoder,
  encoder,
  loopbackPair,
  readBytes,
  trustTestCa,
  useCertificate,
  wrapConn,
} from "./_helpers.ts";

/** Wraps a connection so that every byte read from it is recorded. */
function recording(conn: Deno.TcpConn): { conn: Deno.Conn; seen: () => string } {
  const chunks: Uint8Array[] = [];
  const recorder = wrapConn(conn, {
    read: async (p) => {
      const count = await conn.read(p);
      if (count !== null) chunks.push(p.slice(0, count));
      return count;
    },
  });
  return { conn: recorder, seen: () => chunks.map((chunk) => decoder.decode(chunk)).join("") };
}

async function expectText(stream: SocketStream, text: string): Promise<void> {
  assert.equal(decoder.decode(await readBytes(stream, encoder.encode(text).length)), text);
}

Deno.test("STARTTLS: plain, then TLS, then plain again, every byte once and in order", async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const wire = recording(serverConn);
  const client = new SocketStream({ socket: clientConn });
  const server = new SocketStream({ socket: wire.conn });

  await server.write(encoder.encode("220 ready\r\n"));
  await expectText(client, "220 ready\r\n");
  await client.write(encoder.encode("STARTTLS\r\n"));
  await expectText(server, "STARTTLS\r\n");
  await server.write(encoder.encode("220 go ahead\r\n"));
  await expectText(client, "220 go ahead\r\n");

  await Promise.all([
    attachSsl(client, { sslSide: "client", tlsextHostName: "localhost", ctxConfigureCallback: trustTestCa }),
    attachSsl(server, { ctxConfigureCallback: (ctx) => useCertificate(ctx) }),
  ]);
  assert.equal(client.protocol, "TLSv1.3");
  await client.write(encoder.encode("secret one\r\n"));
  await expectText(server, "secret one\r\n");
  await server.write(encoder.encode("secret two\r\n"));
  await expectText(client, "secret two\r\n");

  // The client goes plain and talks at once; the server's detach keeps those bytes.
  const serverDetached = detachSsl(server);
  await detachSsl(client);
  await client.write(encoder.encode("plain again\r\n"));
  await serverDetached;
  assert.equal(client.ssl, null);
  assert.equal(server.ssl, null);
  assertNoLiveObjects();
  await expectText(server, "plain again\r\n");
  await server.write(encoder.encode("bye\r\n"));
  await expectText(client, "bye\r\n");

  const seen = wire.seen();
  assert.ok(seen.startsWith("STARTTLS\r\n"));
  assert.ok(!seen.includes("secret one"), "the TLS part is encrypted on the wire");
  assert.ok(seen.endsWith("plain again\r\n"));
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("STARTTLS: a ClientHello that arrived with the command in one read is not lost", async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const client = new SocketStream({ socket: clientConn });
  const server = new SocketStream({ socket: serverConn });
  await client.write(encoder.encode("STARTTLS\r\n"));
  const clientAttached = attachSsl(client, {
    sslSide: "client",
    tlsextHostName: "localhost",
    ctxConfigureCallback: trustTestCa,
  });
  // Let the ClientHello land behind the command before the server reads anything.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const command = new Uint8Array(10);
  assert.equal(await server.read(command), 10, "one transport read took the command and the ClientHello");
  assert.equal(decoder.decode(command), "STARTTLS\r\n");
  await attachSsl(server, { ctxConfigureCallback: (ctx) => useCertificate(ctx) });
  await clientAttached;
  await client.write(encoder.encode("over tls"));
  await expectText(server, "over tls");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("detachSsl on a plain stream returns at once; a peer that never answers close_notify fails it", async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const client = new SocketStream({ socket: clientConn });
  await detachSsl(client);
  const server = new SocketStream({ socket: serverConn });
  await Promise.all([
    attachSsl(client, { sslSide: "client", tlsextHostName: "localhost", ctxConfigureCallback: trustTestCa }),
    attachSsl(server, { ctxConfigureCallback: (ctx) => useCertificate(ctx) }),
  ]);
  // The server never reads, so the client's wait runs out: 2 retries 20 ms apart.
  await assert.rejects(detachSsl(client, { retryCount: 2, retryTimeout: 20 }), /did not answer close_notify/);
  await assert.rejects(client.write(encoder.encode("x")), Deno.errors.BadResource, "the stream is closed");
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});
