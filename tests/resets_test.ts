// Resets on both sides, during the handshake and mid-stream: each ends in a
// typed error (a module condition or Deno's ConnectionReset), never a hang,
// and nothing is left allocated.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  SocketError,
  SslUnexpectedEof,
} from "../mod.ts";
import {
  assertSameBytes,
  fixtureText,
  FreeWatcher,
  identity,
  listenLoopback,
  patternBytes,
  readBytes,
  serveOnce,
  tlsPair,
  wrapConn,
} from "./_helpers.ts";

function isTyped(error: unknown): boolean {
  return error instanceof SocketError || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe;
}

/** Closing a socket with unread bytes in its receive buffer makes the kernel send a reset. */
async function resetWithUnreadBytes(conn: Deno.Conn): Promise<void> {
  // Wait until the peer's bytes have arrived, unread.
  await new Promise((resolve) => setTimeout(resolve, 50));
  conn.close();
}

Deno.test("a server that resets during the handshake: the client gets a typed error", async () => {
  using objects = new FreeWatcher();
  const { listener, port } = listenLoopback();
  const resetting = listener.accept().then((conn) => resetWithUnreadBytes(conn));
  {
    using context = createSslClientContext({ ca: fixtureText("ca.pem") });
    await assert.rejects(
      openTcpStream("localhost", port, { sslCtx: context, handshakeTimeout: 5000 }),
      (error: unknown) => {
        assert.ok(isTyped(error), String(error));
        return true;
      },
    );
  }
  await resetting;
  listener.close();
  objects.assertAllFreed();
});

Deno.test("a client that resets during the handshake: the server gets a typed error", async () => {
  using context = createSslServerContext(identity("server"));
  await using server = serveOnce(context, { handshakeTimeout: 5000 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  // A ClientHello that is only the start of one; then the server's answer (if any) goes unread.
  await conn.write(new Uint8Array([0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03, 0x03]));
  await resetWithUnreadBytes(conn);
  const served = await server.served;
  assert.ok(served instanceof Error && isTyped(served), String(served));
});

for (const side of ["client", "server"] as const) {
  Deno.test(`a ${side} whose peer resets mid-stream gets a typed error on its next read or write`, async () => {
    using objects = new FreeWatcher();
    let raw: Deno.TcpConn | undefined;
    const [client, server] = await tlsPair(
      side === "client" ? { wrapServer: (conn) => raw = conn } : { wrapClient: (conn) => raw = conn },
    );
    const [victim, peer] = side === "client" ? [client, server] : [server, client];
    // The victim sends bytes its peer never reads; the peer's socket then closes with them unread.
    await victim.write(patternBytes(64 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 50));
    raw!.close();
    const outcome = await (async () => {
      try {
        for (let i = 0; i < 100; i++) {
          await victim.write(patternBytes(16 * 1024, i + 1));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await victim.read(new Uint8Array(16));
        return "no error";
      } catch (error) {
        return error;
      }
    })();
    assert.ok(isTyped(outcome), String(outcome));
    await victim[Symbol.asyncDispose]();
    await peer[Symbol.asyncDispose]();
    objects.assertAllFreed();
  });
}

Deno.test("records of the largest legal size (16 KiB of plaintext) and one byte over go through intact", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  for (const size of [16 * 1024, 16 * 1024 + 1, 4 * 16 * 1024]) {
    const payload = patternBytes(size, size);
    const received = new Uint8Array(size);
    const reading = (async () => {
      for (let filled = 0; filled < size;) filled += (await server.read(received.subarray(filled)))!;
    })();
    await client.write(payload);
    await reading;
    assertSameBytes(received, payload);
  }
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

for (const side of ["client", "server"] as const) {
  Deno.test(`a ${side} whose peer closes TCP without close_notify mid-stream gets SslUnexpectedEof after the data`, async () => {
    using objects = new FreeWatcher();
    let raw: Deno.TcpConn | undefined;
    const [client, server] = await tlsPair(
      side === "client" ? { wrapServer: (conn) => raw = conn } : { wrapClient: (conn) => raw = conn },
    );
    const [victim, peer] = side === "client" ? [client, server] : [server, client];
    await peer.write(new TextEncoder().encode("partial"));
    raw!.close();
    const buffer = new Uint8Array(64);
    assert.equal(await victim.read(buffer), 7);
    await assert.rejects(victim.read(buffer), SslUnexpectedEof);
    await victim[Symbol.asyncDispose]();
    await peer[Symbol.asyncDispose]();
    objects.assertAllFreed();
  });

  Deno.test(`a ${side} that receives one byte per transport read still handshakes and reads intact data`, async () => {
    using objects = new FreeWatcher();
    const trickle = (conn: Deno.TcpConn) => wrapConn(conn, { read: (p) => conn.read(p.subarray(0, 1)) });
    const [client, server] = await tlsPair(
      side === "client" ? { wrapClient: trickle } : { wrapServer: trickle },
    );
    const [victim, peer] = side === "client" ? [client, server] : [server, client];
    const payload = patternBytes(3000, 7);
    await peer.write(payload);
    assertSameBytes(await readBytes(victim, payload.length), payload);
    await victim[Symbol.asyncDispose]();
    await peer[Symbol.asyncDispose]();
    objects.assertAllFreed();
  });
}
