// SocketStream as a Deno.Conn: the Web Streams view, close and closeWrite,
// timeouts, and what happens after close.
import assert from "node:assert/strict";
import { SocketError, SocketStream } from "../mod.ts";
import {
  assertSameBytes,
  decoder,
  encoder,
  FreeWatcher,
  loopbackPair,
  patternBytes,
  readAll,
  readBytes,
  rejection,
  tlsPair,
  within,
  wrapConn,
} from "./_helpers.ts";

Deno.test("readable and writable carry TLS data, and closing the writable half-closes", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const writer = client.writable.getWriter();
  await writer.write(encoder.encode("through "));
  await writer.write(encoder.encode("web streams"));
  await writer.close();
  let text = "";
  for await (const chunk of server.readable) text += decoder.decode(chunk);
  assert.equal(text, "through web streams");
  // The client can still read after its half-close.
  await server.write(encoder.encode("reply"));
  assert.equal(decoder.decode(await readBytes(client, 5)), "reply");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("a readable piped into a writable echoes, with backpressure", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const echo = server.readable.pipeTo(server.writable);
  const data = new Uint8Array(1024 * 1024).fill(7);
  const [, echoed] = await Promise.all([
    client.write(data).then(() => client.closeWrite()),
    readAll(client),
  ]);
  await echo;
  assert.equal(echoed.length, data.length);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("readable serves BYOB readers into their own buffer, byte for byte", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const sent = patternBytes(300_000);
  const sending = server.write(sent).then(() => server.closeWrite());
  const reader = client.readable.getReader({ mode: "byob" });
  const received = new Uint8Array(sent.length);
  let filled = 0;
  for (;;) {
    // Odd-sized views: records never line up with them.
    const { value, done } = await reader.read(new Uint8Array(777));
    if (done) break;
    received.set(value, filled);
    filled += value.length;
  }
  await sending;
  assert.equal(filled, sent.length);
  assertSameBytes(received, sent);
  reader.releaseLock();
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("readable chunks never pin a larger buffer than they fill, and stay within 64 KiB", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const reader = client.readable.getReader();
  // A bulk transfer grows the chunks...
  const bulk = patternBytes(1024 * 1024);
  const sending = server.write(bulk);
  let total = 0;
  let largest = 0;
  while (total < bulk.length) {
    const { value } = await reader.read();
    assert.ok(value);
    assert.ok(value.byteLength * 2 >= value.buffer.byteLength, "a chunk fills at least half its buffer");
    largest = Math.max(largest, value.length);
    total += value.length;
  }
  await sending;
  assert.equal(total, bulk.length);
  assert.ok(largest <= 64 * 1024 && largest > 16 * 1024, `largest chunk ${largest}`);
  // ...and a small message afterwards is a copy of its own size, not a view of a 64 KiB buffer.
  await server.write(encoder.encode("small"));
  const { value } = await reader.read();
  assert.equal(decoder.decode(value), "small");
  assert.equal(value!.buffer.byteLength, 5);
  reader.releaseLock();
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("close() is idempotent and returns at once; read, write and handshake then fail", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const result = client.close();
  assert.equal(result, undefined);
  client.close();
  await assert.rejects(client.read(new Uint8Array(1)), Deno.errors.BadResource);
  await assert.rejects(client.write(new Uint8Array(1)), Deno.errors.BadResource);
  await assert.rejects(client.handshake(), Deno.errors.BadResource);
  assert.throws(() => client.peerCertificate(), Deno.errors.BadResource);
  await client.closed;
  assert.equal(client.ssl, null);
  assert.equal(client.protocol, null);
  assert.equal(await server.read(new Uint8Array(1)), null, "the peer got close_notify");
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("close() while a read is pending settles the read and leaks nothing", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const pending = client.read(new Uint8Array(10));
  await new Promise((resolve) => setTimeout(resolve, 20));
  client.close();
  await assert.rejects(pending, Deno.errors.BadResource);
  await client.closed;
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("readTimeout rejects a read with TimedOut and the stream stays usable", async () => {
  const [client, server] = await tlsPair({ client: { readTimeout: 100 } });
  assert.equal(client.readTimeout, 100);
  const failure = await rejection(client.read(new Uint8Array(10)), 2000, "the 100 ms read timeout");
  assert.ok(failure instanceof Deno.errors.TimedOut, String(failure));
  await server.write(encoder.encode("late"));
  assert.equal(decoder.decode(await within(readBytes(client, 4), 5000, "the late bytes")), "late");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("readTimeout works on a plain stream too, without losing the bytes that come later", async () => {
  const [a, b] = await loopbackPair();
  const stream = new SocketStream({ socket: a, readTimeout: 50 });
  const failure = await rejection(stream.read(new Uint8Array(10)), 2000, "the 50 ms read timeout");
  assert.ok(failure instanceof Deno.errors.TimedOut, String(failure));
  await b.write(encoder.encode("after"));
  assert.equal(decoder.decode(await within(readBytes(stream, 5), 5000, "the later bytes")), "after");
  b.close();
  await stream[Symbol.asyncDispose]();
});

Deno.test("handshake() resolves the negotiated parameters, again at once when done; plain streams refuse it", async () => {
  const [client, server] = await tlsPair();
  const info = await client.handshake();
  assert.equal(info.protocol, "TLSv1.3");
  assert.equal(info.cipher, client.cipher);
  assert.equal(info.alpnProtocol, null);
  assert.deepEqual(await client.handshake(), info);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  const [a, b] = await loopbackPair();
  const plain = new SocketStream({ socket: a });
  await assert.rejects(plain.handshake(), SocketError);
  b.close();
  await plain[Symbol.asyncDispose]();
});

Deno.test("a SocketStream is a drop-in for Deno.Conn: addresses, nodelay, keepalive, ref", async () => {
  const [client, server] = await tlsPair();
  const conn: Deno.Conn = client;
  assert.equal((conn.localAddr as Deno.NetAddr).hostname, "127.0.0.1");
  assert.equal((conn.remoteAddr as Deno.NetAddr).port, (server.localAddr as Deno.NetAddr).port);
  client.setNoDelay(true);
  client.setKeepAlive(true);
  client.unref();
  client.ref();
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("wrong arguments are TypeError or RangeError", async () => {
  assert.throws(() => new SocketStream({ socket: "5" as unknown as Deno.Conn }), TypeError);
  const [a, b] = await loopbackPair();
  assert.throws(() => new SocketStream({ socket: a, readTimeout: -1 }), RangeError);
  a.close();
  b.close();
});

Deno.test("each handshake flight goes out in one socket write", async () => {
  const writes: number[] = [];
  const [client, server] = await tlsPair({
    wrapClient: (conn) =>
      wrapConn(conn, {
        write: (p) => {
          writes.push(p.length);
          return conn.write(p);
        },
      }),
  });
  // TLS 1.3 client: the ClientHello, then the Finished flight.
  assert.equal(writes.length, 2, `writes: ${writes}`);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("a transport that delivers one byte per read still handshakes and carries data", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair({
    wrapServer: (conn) => wrapConn(conn, { read: (p) => conn.read(p.subarray(0, 1)) }),
  });
  await client.write(encoder.encode("drip by drip"));
  assert.equal(decoder.decode(await readBytes(server, 12)), "drip by drip");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("writeTimeout rejects a write the peer does not drain with TimedOut", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair({ client: { writeTimeout: 200 } });
  const big = new Uint8Array(64 * 1024 * 1024);
  const failure = await rejection(client.write(big), 3000, "the 200 ms write timeout");
  assert.ok(failure instanceof Deno.errors.TimedOut, String(failure));
  // The stream is still open; closing it cuts what is queued.
  client.close();
  server.close();
  await Promise.all([client.closed, server.closed]);
  objects.assertAllFreed();
});
