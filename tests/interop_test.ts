// The module against real TLS peers on loopback: OpenSSL's s_server and
// s_client, GnuTLS, and Deno's own TLS, in both roles.
import assert from "node:assert/strict";
import { makeInstance, openTcpStream, type SocketStream } from "../mod.ts";
import {
  assertNoLiveObjects,
  decoder,
  encoder,
  fixture,
  listenLoopback,
  Peer,
  readUntil,
  startGnutlsServer,
  startOpensslServer,
  trustTestCa,
  useCertificate,
} from "./_helpers.ts";

const trust = { ctxConfigureCallback: trustTestCa };

async function serveOne(listener: Deno.Listener): Promise<SocketStream> {
  const socket = await listener.accept();
  return await makeInstance("socket-stream", {
    socket,
    sslCtx: true,
    ctxConfigureCallback: (ctx) => useCertificate(ctx),
  });
}

for (const [flag, protocol] of [["-tls1_3", "TLSv1.3"], ["-tls1_2", "TLSv1.2"]] as const) {
  Deno.test(`client against openssl s_server ${flag}: handshake, certificate, data both ways`, async () => {
    const { peer, port } = await startOpensslServer([flag, "-rev"]);
    await using _peer = peer;
    {
      await using stream = await openTcpStream("localhost", port, { sslCtx: true, ...trust });
      assert.equal(stream.protocol, protocol);
      assert.ok(stream.cipher);
      const certificate = stream.peerCertificate()!;
      assert.match(certificate.subject, /CN=localhost/);
      assert.match(certificate.issuer, /CN=comm socket-stream test CA/);
      assert.deepEqual(certificate.subjectAltNames.slice(0, 2), ["DNS:localhost", "IP Address:127.0.0.1"]);
      assert.ok(certificate.validFrom < new Date() && new Date() < certificate.validTo);
      assert.match(certificate.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.match(certificate.pem, /^-----BEGIN CERTIFICATE-----\n/);
      await stream.write(encoder.encode("hello openssl\n"));
      assert.match(await readUntil(stream, "\n"), /lssnepo olleh/);
    }
    assertNoLiveObjects();
  });
}

Deno.test('client "tls-v1" against openssl s_server -tls1 at security level 0', async () => {
  const { peer, port } = await startOpensslServer(["-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-rev"]);
  await using _peer = peer;
  {
    await using stream = await openTcpStream("localhost", port, { sslCtx: "tls-v1", ...trust });
    assert.equal(stream.protocol, "TLSv1");
    await stream.write(encoder.encode("legacy\n"));
    assert.match(await readUntil(stream, "\n"), /ycagel/);
  }
  assertNoLiveObjects();
});

Deno.test("client against gnutls-serv --echo", async () => {
  const { peer, port } = await startGnutlsServer();
  await using _peer = peer;
  {
    await using stream = await openTcpStream("localhost", port, { sslCtx: true, ...trust });
    assert.match(stream.protocol!, /^TLSv1\.[23]$/);
    await stream.write(encoder.encode("hello gnutls\n"));
    assert.match(await readUntil(stream, "hello gnutls"), /hello gnutls/);
  }
  assertNoLiveObjects();
});

Deno.test("client against Deno.listenTls", async () => {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(fixture("server.pem")),
    key: await Deno.readTextFile(fixture("server.key")),
  });
  const serving = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(100);
    const count = await conn.read(buffer);
    await conn.write(encoder.encode(`deno got ${decoder.decode(buffer.subarray(0, count!))}`));
    conn.close();
  })();
  {
    const stream = await openTcpStream("localhost", listener.addr.port, { sslCtx: true, ...trust });
    assert.equal(stream.protocol, "TLSv1.3");
    await stream.write(encoder.encode("hi"));
    assert.equal(await readUntil(stream, "got hi"), "deno got hi");
    await serving;
    await stream[Symbol.asyncDispose]();
  }
  listener.close();
  assertNoLiveObjects();
});

Deno.test("server against openssl s_client: verified, data both ways", async () => {
  const { listener, port } = listenLoopback();
  const serving = serveOne(listener);
  await using client = new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    "localhost",
    "-CAfile",
    fixture("ca.pem"),
    "-verify_return_error",
    "-quiet",
  ]);
  const server = await serving;
  listener.close();
  assert.equal(server.protocol, "TLSv1.3");
  assert.equal(server.peerCertificate(), null, "s_client sent no certificate");
  await client.send("ping from s_client\n");
  assert.match(await readUntil(server, "\n"), /ping from s_client/);
  await server.write(encoder.encode("pong from module\n"));
  await client.waitFor(/pong from module/);
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("server against gnutls-cli", async () => {
  const { listener, port } = listenLoopback();
  const serving = serveOne(listener);
  await using client = new Peer("gnutls-cli", [
    "--x509cafile",
    fixture("ca.pem"),
    "--port",
    String(port),
    "localhost",
  ]);
  const server = await serving;
  listener.close();
  await client.send("ping from gnutls\n");
  assert.match(await readUntil(server, "\n"), /ping from gnutls/);
  await server.write(encoder.encode("pong to gnutls\n"));
  await client.waitFor(/pong to gnutls/);
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("server against Deno.connectTls", async () => {
  const { listener, port } = listenLoopback();
  const serving = serveOne(listener);
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port,
    caCerts: [await Deno.readTextFile(fixture("ca.pem"))],
  });
  const server = await serving;
  listener.close();
  await conn.write(encoder.encode("from deno"));
  assert.equal(await readUntil(server, "from deno"), "from deno");
  await server.write(encoder.encode("to deno"));
  assert.equal(await readUntil(conn, "to deno"), "to deno");
  conn.close();
  assert.equal(await server.read(new Uint8Array(10)), null, "Deno's close_notify is a clean end");
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});
