// Ends that are not clean: truncation, a silent peer, aborts, a refused
// connect, EOF mid-handshake. Each is a typed error, in time, and nothing leaks.
import assert from "node:assert/strict";
import { makeInstance, openTcpStream, SslHandshakeTimeout, SslUnexpectedEof } from "../mod.ts";
import {
  encoder,
  freePort,
  FreeWatcher,
  listenLoopback,
  readBytes,
  readUntil,
  rejection,
  startOpensslServer,
  tlsPair,
  trustTestCa,
  useCertificate,
} from "./_helpers.ts";

const trust = { ctxConfigureCallback: trustTestCa };

Deno.test("a peer that closes TCP without close_notify mid-stream gives SslUnexpectedEof", async () => {
  using objects = new FreeWatcher();
  let serverConn: Deno.TcpConn | undefined;
  const [client, server] = await tlsPair({ wrapServer: (conn) => serverConn = conn });
  await server.write(encoder.encode("half a messa"));
  // Cut the transport under the TLS stream: no close_notify goes out.
  serverConn!.close();
  assert.equal((await readBytes(client, 12)).length, 12, "what arrived is delivered");
  await assert.rejects(client.read(new Uint8Array(10)), (error: unknown) => {
    assert.ok(error instanceof SslUnexpectedEof);
    assert.match(error.message, /without sending close_notify/);
    return true;
  });
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("openssl s_server killed mid-stream gives SslUnexpectedEof", async () => {
  using objects = new FreeWatcher();
  const { peer, port } = await startOpensslServer(["-rev"]);
  await using _peer = peer;
  {
    await using stream = await openTcpStream("localhost", port, { sslCtx: true, ...trust });
    // A round trip first, so s_server has read everything and its death is a FIN, not a reset.
    await stream.write(encoder.encode("abc\n"));
    assert.match(await readUntil(stream, "\n"), /cba/);
    peer.process.kill("SIGKILL");
    await assert.rejects(stream.read(new Uint8Array(10)), SslUnexpectedEof);
  }
  objects.assertAllFreed();
});

Deno.test("a clean close_notify is end of stream: read resolves null", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  await server.write(encoder.encode("the end"));
  server.close();
  assert.equal((await readBytes(client, 7)).length, 7);
  assert.equal(await client.read(new Uint8Array(10)), null);
  await server.closed;
  await client[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("a peer that never answers gives SslHandshakeTimeout in time, and nothing leaks", async () => {
  using objects = new FreeWatcher();
  const { listener, port } = listenLoopback();
  const silent = listener.accept();
  const started = performance.now();
  const failure = await rejection(
    openTcpStream("localhost", port, { sslCtx: true, handshakeTimeout: 300 }),
    2000,
    "the 300 ms handshake timeout",
  );
  assert.ok(failure instanceof SslHandshakeTimeout, String(failure));
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 290 && elapsed < 800, `timed out after ${elapsed} ms, not 300`);
  objects.assertAllFreed();
  const conn = await silent;
  // The client closed its socket: the silent server sees the ClientHello, then the end.
  const got = await readBytes(conn, 100_000);
  assert.equal(got[0], 0x16, "a TLS handshake record arrived");
  conn.close();
  listener.close();
});

Deno.test("aborting the signal cancels the handshake with the signal's reason", async () => {
  using objects = new FreeWatcher();
  const { listener, port } = listenLoopback();
  const silent = listener.accept();
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("user gave up")), 100);
  const failure = await rejection(
    openTcpStream("localhost", port, { sslCtx: true, signal: controller.signal }),
    2000,
    "the abort at 100 ms",
  );
  assert.match(failure.message, /user gave up/);
  objects.assertAllFreed();
  (await silent).close();
  listener.close();
});

Deno.test("an already aborted signal rejects before connecting", async () => {
  const controller = new AbortController();
  controller.abort(new Error("too late"));
  await assert.rejects(
    openTcpStream("localhost", freePort(), { sslCtx: true, signal: controller.signal }),
    /too late/,
  );
});

Deno.test("a refused connect rejects with Deno.errors.ConnectionRefused", async () => {
  using objects = new FreeWatcher();
  await assert.rejects(
    openTcpStream("127.0.0.1", freePort(), { sslCtx: true }),
    Deno.errors.ConnectionRefused,
  );
  objects.assertAllFreed();
});

Deno.test("a server whose client sends its ClientHello and hangs up gets SslUnexpectedEof", async () => {
  using objects = new FreeWatcher();
  const { listener, port } = listenLoopback();
  const serving = listener.accept().then((socket) =>
    makeInstance("socket-stream", {
      socket,
      sslCtx: true,
      ctxConfigureCallback: (ctx) => useCertificate(ctx),
    })
  );
  const clientConn = await Deno.connect({ hostname: "127.0.0.1", port });
  // A real ClientHello, from the module's own engine, then the end.
  const hello = await captureClientHello();
  await clientConn.write(hello);
  await clientConn.closeWrite();
  await assert.rejects(serving, SslUnexpectedEof);
  clientConn.close();
  listener.close();
  objects.assertAllFreed();
});

async function captureClientHello(): Promise<Uint8Array> {
  const { listener, port } = listenLoopback();
  const accepted = listener.accept();
  const attempt = openTcpStream("localhost", port, { sslCtx: true, handshakeTimeout: 2000 }).catch(() =>
    null
  );
  const conn = await accepted;
  const buffer = new Uint8Array(4096);
  const count = await conn.read(buffer);
  conn.close();
  await attempt;
  listener.close();
  return buffer.slice(0, count!);
}
