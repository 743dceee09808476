// Data integrity and resources: nothing lost, reordered or stalled when closeWrite, detachSsl, readLine, reads,
// timeouts and raw descriptors meet at the wrong moment. Each case was seen failing on the code before its fix.
import assert from "node:assert/strict";
import {
  attachSsl,
  createSslServerContext,
  createSslSocketStream,
  detachSsl,
  listenSsl,
  makeInstance,
  openTcpStream,
  SocketError,
  SocketStream,
  SslCondition,
} from "../mod.ts";
import { liveNativeObjects } from "../ffi/mod.ts";
import {
  decoder,
  encoder,
  fixtureText,
  identity,
  listenLoopback,
  loopbackPair,
  readAll,
  readBytes,
  rejection,
  tlsPair,
  trustTestCa,
  within,
  wrapConn,
} from "./_helpers.ts";
import { runChild } from "./_child.ts";

/** A module client and server over loopback, handshaken (bounded). */
function pair(options?: Parameters<typeof tlsPair>[0]): Promise<[SocketStream, SocketStream]> {
  return within(tlsPair(options), 5000, "the loopback handshake");
}

/** Resolves after `ms`. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("1 closeWrite() while a write is in flight: the write finishes, then close_notify; reading goes on", async () => {
  // Deno's own TLS server counts what arrives before the close_notify, then answers.
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: fixtureText("server.pem"),
    key: fixtureText("server.key"),
  });
  const serving = (async () => {
    const conn = await listener.accept();
    const received = await readAll(conn);
    await conn.write(encoder.encode(`got ${received.length}`));
    conn.close();
    return received;
  })();
  const client = await within(
    openTcpStream("127.0.0.1", listener.addr.port, {
      sslCtx: true,
      tlsextHostName: "localhost",
      ctxConfigureCallback: trustTestCa,
    }),
    5000,
    "the handshake",
  );
  const data = new Uint8Array(4_000_000).fill(0x61);
  const writing = client.write(data);
  await client.closeWrite();
  assert.equal(await within(writing, 10_000, "the write in flight"), data.length);
  const received = await within(serving, 10_000, "the server's count");
  assert.equal(received.length, data.length, "every byte before the close_notify");
  assert.equal(
    decoder.decode(await within(readAll(client), 5000, "the answer after closeWrite")),
    "got 4000000",
  );
  await client[Symbol.asyncDispose]();
  listener.close();
});

Deno.test("1 detachSsl() while a write is in flight: the write finishes first, and the stream goes on in plaintext", async () => {
  const [client, server] = await pair();
  const data = new Uint8Array(4_000_000).fill(0x62);
  const writing = client.write(data);
  const detaching = detachSsl(client);
  // The server reads to the client's close_notify, then detaches too and answers in plaintext.
  const received = await within(readAll(server), 10_000, "the server's reads to the close_notify");
  await within(detachSsl(server), 5000, "the server's detach");
  await server.write(encoder.encode("plain now"));
  assert.equal(await within(writing, 10_000, "the write in flight"), data.length);
  await within(detaching, 10_000, "the client's detach");
  assert.equal(received.length, data.length);
  assert.equal(client.ssl, null);
  assert.equal(decoder.decode(await within(readBytes(client, 9), 5000, "plaintext")), "plain now");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("2 readLine holds at most maxLength and a record while it waits, whatever the records' sizes", async () => {
  // The server's transport hands over one 1-byte TLS 1.3 record (23 bytes on the wire) per read, so every
  // record reaches readLine on its own.
  const [client, server] = await pair({
    wrapServer: (conn) => wrapConn(conn, { read: (p) => conn.read(p.subarray(0, Math.min(p.length, 23))) }),
  });
  const before = Deno.memoryUsage().rss;
  const byte = encoder.encode("x");
  const writing = (async () => {
    for (let i = 0; i < 10_000; i++) await client.write(byte);
    await client.write(encoder.encode("\n"));
  })();
  const line = await within(server.readLine(), 60_000, "the long line");
  await writing;
  const grown = Deno.memoryUsage().rss - before;
  assert.equal(line, "x".repeat(10_000));
  // Holding each record's 16 KiB read buffer would take 160 MiB here.
  assert.ok(grown < 32 * 1024 * 1024, `memory grew by ${(grown / 1048576).toFixed(1)} MiB for a 10 KB line`);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("2 maxLength holds also when the whole line is already buffered; its bytes stay for the next read", async () => {
  for (const plain of [false, true]) {
    const [client, server] = plain
      ? (await loopbackPair()).map((socket) => new SocketStream({ socket })) as [SocketStream, SocketStream]
      : await pair();
    const long = "y".repeat(100);
    await client.write(encoder.encode(`${long}\r\nshort\n`));
    // Let it all arrive first.
    assert.equal(decoder.decode(await within(readBytes(server, 1), 5000, "the first byte")), "y");
    const failure = await rejection(
      server.readLine({ maxLength: 10 }),
      5000,
      "a 99-byte line with maxLength 10",
    );
    assert.ok(failure instanceof SocketError, String(failure));
    assert.match(failure.message, /more than maxLength \(10\)|no line end within 10 bytes/);
    assert.equal(await within(server.readLine({ maxLength: 200 }), 5000, "the same line"), long.slice(1));
    assert.equal(await within(server.readLine({ maxLength: 10 }), 5000, "the next line"), "short");
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  }
});

Deno.test("3 thirty-two idle descriptor streams do not stall the process's other blocking work", async () => {
  // A socketpair per stream; the far ends say nothing. Run in a child: a stalled pool would hang it.
  const result = await runChild(
    `
    const libc = Deno.dlopen("libc.so.6", { socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" } }).symbols;
    const pairs = [];
    const streams = [];
    for (let i = 0; i < 40; i++) {
      const fds = new Int32Array(2);
      libc.socketpair(1, 1, 0, new Uint8Array(fds.buffer));
      pairs.push(fds);
      const stream = new mod.SocketStream({ socket: fds[0] });
      stream.read(new Uint8Array(16)).catch(() => {});
      streams.push(stream);
    }
    const started = Date.now();
    await Deno.readTextFile("/etc/hostname");
    const readFile = Date.now() - started;
    // One more, whose peer speaks: it is read at once.
    const fds = new Int32Array(2);
    libc.socketpair(1, 1, 0, new Uint8Array(fds.buffer));
    const talker = new mod.SocketStream({ socket: fds[0] });
    const peer = new mod.SocketStream({ socket: fds[1] });
    await peer.write(new TextEncoder().encode("hello"));
    const got = new Uint8Array(5);
    await talker.read(got);
    for (const stream of [...streams, talker, peer]) stream.close();
    console.log(JSON.stringify({ readFile, got: new TextDecoder().decode(got) }));
  `,
    { timeoutMs: 20_000 },
  );
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  assert.equal(report.got, "hello");
  assert.ok(report.readFile < 2000, `Deno.readTextFile took ${report.readFile} ms`);
});

Deno.test("4 handshakeTimeout: null means no limit, in makeInstance, openTcpStream, listenSsl and createSslSocketStream", async () => {
  using context = createSslServerContext(identity("server"));
  const pending: [string, Promise<unknown>, () => void][] = [];
  // Servers that face a silent client.
  {
    const [near, far] = await loopbackPair();
    pending.push([
      "makeInstance",
      makeInstance("socket-stream", { socket: far, sslCtx: context, handshakeTimeout: null }),
      () => near.close(),
    ]);
  }
  {
    const [near, far] = await loopbackPair();
    pending.push([
      "createSslSocketStream",
      createSslSocketStream(far, context, { handshakeTimeout: null, errorp: true }),
      () => near.close(),
    ]);
  }
  const errors: unknown[] = [];
  const listener = listenSsl({
    port: 0,
    hostname: "127.0.0.1",
    sslCtx: context,
    handshakeTimeout: null,
    onError: (error) => errors.push(error),
  });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  // A client facing a silent server.
  const { listener: quiet, port } = listenLoopback();
  const accepted = quiet.accept();
  pending.push([
    "openTcpStream",
    openTcpStream("127.0.0.1", port, { sslCtx: true, tlsextHostName: "localhost", handshakeTimeout: null }),
    () => accepted.then((conn) => conn.close()),
  ]);
  const settled = new Set<string>();
  for (const [name, promise] of pending) promise.then(() => settled.add(name), () => settled.add(name));
  await sleep(300);
  assert.deepEqual([...settled], [], "nothing timed out at once");
  assert.deepEqual(errors, []);
  for (const [, , end] of pending) end();
  for (const [name, promise] of pending) {
    const failure = await rejection(promise, 5000, `${name} once its peer left`);
    assert.ok(failure instanceof SslCondition, `${name}: ${failure}`);
  }
  silent.close();
  await listener[Symbol.asyncDispose]();
  quiet.close();
});

Deno.test("5 read, readLine and readable see every byte once and in order, on TLS as on plain streams", async () => {
  const [client, server] = await pair();
  const line = server.readLine();
  const buffer = new Uint8Array(64);
  const read = server.read(buffer);
  await client.write(encoder.encode("L1\nL2\n"));
  assert.equal(await within(line, 5000, "the line"), "L1");
  const count = await within(read, 5000, "the read pending while readLine ran (L2 is buffered)");
  assert.equal(decoder.decode(buffer.subarray(0, count!)), "L2\n");
  await client.write(encoder.encode("L3\n"));
  assert.equal(await within(server.readLine(), 5000, "the next line"), "L3");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("6 detachSsl keeps waiting for close_notify while data still arrives, and keeps the data", async () => {
  const [client, server] = await pair();
  const data = new Uint8Array(1 << 20).fill(0x63);
  // The server sends 1 MiB in small pieces, then detaches (its close_notify follows the data).
  const sending = (async () => {
    for (let offset = 0; offset < data.length; offset += 16 * 1024) {
      await server.write(data.subarray(offset, offset + 16 * 1024));
      await sleep(1);
    }
    await detachSsl(server);
    await server.write(encoder.encode("after"));
  })();
  await sleep(5);
  await within(detachSsl(client), 10_000, "the client's detach while data arrives");
  await within(sending, 10_000, "the server's data and detach");
  const received = await within(readBytes(client, data.length + 5), 10_000, "all of it, in plaintext now");
  assert.equal(received.length, data.length + 5);
  assert.ok(received.subarray(0, data.length).every((byte) => byte === 0x63));
  assert.equal(decoder.decode(received.subarray(data.length)), "after");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("7 a writable whose write fails closes its stream: a pipe to a peer that left leaks nothing", async () => {
  const before = liveNativeObjects().ssl;
  const streams: SocketStream[] = [];
  for (let i = 0; i < 5; i++) {
    let serverConn: Deno.TcpConn | undefined;
    const [client, server] = await pair({ wrapServer: (conn) => serverConn = conn });
    streams.push(client);
    // The destination's peer goes away without a word; writes to it fail after a while.
    serverConn!.close();
    await server[Symbol.asyncDispose]().catch(() => {});
    const source = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
    });
    await rejection(source.pipeTo(client.writable), 10_000, "a pipe to a peer that left");
    await within(client.closed, 5000, "the stream to close itself");
  }
  assert.equal(liveNativeObjects().ssl, before, "every SSL freed");
});

Deno.test("8 a raw descriptor is never wrapped twice; a listening one is refused; bad options leave it untouched", async () => {
  const libc = Deno.dlopen("libc.so.6", {
    socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    listen: { parameters: ["i32", "i32"], result: "i32" },
    fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  try {
    const fds = new Int32Array(2);
    assert.equal(libc.symbols.socketpair(1, 1, 0, new Uint8Array(fds.buffer)), 0);
    const first = new SocketStream({ socket: fds[0] });
    assert.throws(() => new SocketStream({ socket: fds[0] }), /already owned by a SocketStream/);
    first.close();
    await first.closed;
    // Its number may now belong to someone else: closing the stream again closes nothing.
    const reused = new Int32Array(2);
    assert.equal(libc.symbols.socketpair(1, 1, 0, new Uint8Array(reused.buffer)), 0);
    first.close();
    assert.ok(libc.symbols.fcntl(reused[0], 3, 0) >= 0, "the reused descriptor is still open");
    // A listening socket.
    const listening = libc.symbols.socket(2, 1, 0);
    const address = new Uint8Array(16);
    new DataView(address.buffer).setUint16(0, 2, true);
    address.set([127, 0, 0, 1], 4);
    assert.equal(libc.symbols.bind(listening, address, 16), 0);
    assert.equal(libc.symbols.listen(listening, 1), 0);
    await assert.rejects(makeInstance("socket-stream", { socket: listening }), /a listening socket/);
    // Wrong options: a RangeError before the descriptor is touched (its O_NONBLOCK stays).
    const flags = libc.symbols.fcntl(fds[1], 3, 0) | 0x800;
    libc.symbols.fcntl(fds[1], 4, flags);
    assert.throws(() => new SocketStream({ socket: fds[1], readTimeout: -1 }), RangeError);
    assert.equal(libc.symbols.fcntl(fds[1], 3, 0), flags, "flags untouched");
    const second = new SocketStream({ socket: fds[1] });
    second.close();
    await second.closed;
    for (const fd of [reused[0], reused[1], listening]) libc.symbols.close(fd);
  } finally {
    libc.close();
  }
});

Deno.test("8 an IPv6 peer's address reads as RFC 5952 writes it: ::1, not :1", async () => {
  const libc = Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    listen: { parameters: ["i32", "i32"], result: "i32" },
    getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    accept: { parameters: ["i32", "pointer", "pointer"], result: "i32", nonblocking: true },
    close: { parameters: ["i32"], result: "i32" },
  });
  // A libc listener on [::1]:0 (struct sockaddr_in6: family, port, flow info, address, scope).
  const listening = libc.symbols.socket(10, 1, 0);
  const address = new Uint8Array(28);
  new DataView(address.buffer).setUint16(0, 10, true);
  address[23] = 1;
  try {
    assert.equal(libc.symbols.bind(listening, address, 28), 0);
    assert.equal(libc.symbols.listen(listening, 1), 0);
    const length = new Uint32Array([28]);
    libc.symbols.getsockname(listening, address, new Uint8Array(length.buffer));
    const port = new DataView(address.buffer).getUint16(2, false);
    const accepting = libc.symbols.accept(listening, null, null);
    const conn = await Deno.connect({ hostname: "::1", port });
    const fd = await within(accepting, 5000, "accept");
    const stream = new SocketStream({ socket: fd });
    assert.equal((stream.localAddr as Deno.NetAddr).hostname, "::1");
    assert.equal((stream.remoteAddr as Deno.NetAddr).hostname, "::1");
    assert.equal((stream.remoteAddr as Deno.NetAddr).port, (conn.localAddr as Deno.NetAddr).port);
    stream.close();
    await stream.closed;
    conn.close();
  } finally {
    libc.symbols.close(listening);
    libc.close();
  }
});

// A second review, of the fixes above.

Deno.test("a write that timed out and goes on is not cut by close(): the peer gets every byte, then close_notify", async () => {
  for (const through of ["write", "writable"] as const) {
    const [client, server] = await pair();
    server.writeTimeout = 200;
    const data = new Uint8Array(8 << 20).fill(0x64);
    const writing = through === "write" ? server.write(data) : (() => {
      const writer = server.writable.getWriter();
      return writer.write(data).finally(() => writer.releaseLock());
    })();
    const failure = await rejection(writing, 5000, `a ${through} the peer does not read yet`);
    assert.match(failure.message, /the write goes on/);
    // The peer starts reading; the sender closes (the writable closed itself when its write failed).
    const reading = readAll(client);
    server.close();
    const received = await within(reading, 10_000, "everything, then the close_notify");
    assert.equal(received.length, data.length, `${through}: all of the write, then a clean end`);
    await server.closed;
    await client[Symbol.asyncDispose]();
  }
});

Deno.test("plain streams: readers take turns in call order, with and without timeouts", async () => {
  const [near, far] = await loopbackPair();
  const stream = new SocketStream({ socket: near });
  const line = stream.readLine();
  const buffer = new Uint8Array(3);
  const read = stream.read(buffer);
  await far.write(encoder.encode("abcdef"));
  await sleep(50);
  await far.write(encoder.encode("gh\nij\n"));
  assert.equal(
    await within(line, 5000, "the line"),
    "abcdefgh",
    "the read called second took nothing from it",
  );
  const count = await within(read, 5000, "the read after the line");
  assert.equal(decoder.decode(buffer.subarray(0, count!)), "ij\n");
  // A read with a timeout, then one without: the first call gets the first bytes.
  stream.readTimeout = 2000;
  const first = new Uint8Array(3);
  const firstRead = stream.read(first);
  stream.readTimeout = undefined;
  const second = new Uint8Array(3);
  const secondRead = stream.read(second);
  await far.write(encoder.encode("one"));
  await sleep(20);
  await far.write(encoder.encode("two"));
  await within(Promise.all([firstRead, secondRead]), 5000, "both reads");
  assert.deepEqual([decoder.decode(first), decoder.decode(second)], ["one", "two"]);
  far.close();
  await stream[Symbol.asyncDispose]();
});

Deno.test("while an SNI server reads the ClientHello, a write waits for TLS instead of going out in the clear", async () => {
  using other = createSslServerContext(identity("server"));
  using router = createSslServerContext({ ...identity("server"), sni: { localhost: other } });
  const [near, far] = await loopbackPair();
  const server = new SocketStream({ socket: near });
  const attaching = attachSsl(server, { sslCtx: router, handshakeTimeout: 5000 });
  const writing = server.write(encoder.encode("SECRET"));
  // The client reads raw bytes for a moment before it starts TLS: nothing may come in the clear.
  const client = new SocketStream({ socket: far, readTimeout: 200 });
  const early = await rejection(client.read(new Uint8Array(100)), 2000, "cleartext before the handshake");
  assert.ok(early instanceof Deno.errors.TimedOut, `cleartext arrived: ${early}`);
  client.readTimeout = undefined;
  await within(
    Promise.all([
      attachSsl(client, {
        sslSide: "client",
        tlsextHostName: "localhost",
        ctxConfigureCallback: trustTestCa,
      }),
      attaching,
    ]),
    5000,
    "both handshakes",
  );
  assert.equal(await within(writing, 5000, "the write"), 6);
  assert.equal(decoder.decode(await within(readBytes(client, 6), 5000, "the secret, over TLS")), "SECRET");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("detachSsl while a readLine waits: the line gets its bytes, then the plain ones follow in order", async () => {
  const [client, server] = await pair();
  await client.write(encoder.encode("abc"));
  const line = server.readLine();
  await sleep(50);
  const detaching = detachSsl(server);
  await client.write(encoder.encode("def\n"));
  await within(detachSsl(client), 5000, "the client's detach");
  await client.write(encoder.encode("PLAIN\n"));
  assert.equal(await within(line, 5000, "the pending line"), "abcdef");
  await within(detaching, 5000, "the server's detach");
  assert.equal(await within(server.readLine(), 5000, "the plain line"), "PLAIN");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("plain writes that time out say what happened: none sent while waiting, all sent once started", async () => {
  const [near, far] = await loopbackPair();
  const stream = new SocketStream({ socket: near, writeTimeout: 200 });
  const big = new Uint8Array(8 << 20).fill(0x41);
  const first = await rejection(stream.write(big), 5000, "a write the peer does not read");
  assert.match(first.message, /the write goes on: all its bytes will still be sent/);
  const second = await rejection(stream.write(encoder.encode("BBBB")), 5000, "a write behind it");
  assert.match(second.message, /none of its bytes was sent/);
  stream.writeTimeout = undefined;
  const reading = readAll(far);
  await within(stream.write(encoder.encode("END")), 10_000, "the last write");
  await stream.closeWrite();
  const received = await within(reading, 10_000, "everything");
  assert.equal(received.length, big.length + 3);
  assert.equal(decoder.decode(received.subarray(big.length)), "END");
  far.close();
  await stream[Symbol.asyncDispose]();
});

Deno.test("detachSsl with retryCount null keeps the plaintext already received", async () => {
  const [client, server] = await pair();
  await client.write(encoder.encode("a\nb\n"));
  assert.equal(await within(server.readLine(), 5000, "the first line"), "a");
  await within(detachSsl(server, { retryCount: null }), 5000, "the detach");
  assert.equal(await within(server.readLine(), 5000, "the buffered line"), "b");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("detachSsl keeps at most 16 MiB from a peer that floods instead of answering close_notify", async () => {
  const [client, server] = await pair();
  const flooding = (async () => {
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 40; i++) await client.write(chunk);
  })().catch(() => {});
  await sleep(20);
  const failure = await rejection(
    detachSsl(server, { retryCount: 5, retryTimeout: 2000 }),
    20_000,
    "the detach",
  );
  assert.match(failure.message, /sent more than 16777216 bytes instead/);
  await within(server.closed, 5000, "the stream to close");
  client.close();
  await flooding;
  await client.closed;
});

Deno.test("detachSsl when the peer already detached, sent more and left: detached, and its bytes are there", async () => {
  const [client, server] = await pair();
  await within(detachSsl(client, { retryCount: null }), 5000, "the client's detach");
  await client.write(encoder.encode("BYE\n"));
  await client[Symbol.asyncDispose]();
  await sleep(50);
  await within(detachSsl(server), 5000, "the server's detach");
  assert.equal(await within(server.readLine(), 5000, "the plain line"), "BYE");
  await server[Symbol.asyncDispose]();
});

Deno.test("detachSsl's retryTimeout null waits without a limit", async () => {
  const [client, server] = await pair();
  const detaching = detachSsl(server, { retryTimeout: null });
  await sleep(700); // longer than the default six waits of 100 ms
  await within(detachSsl(client), 5000, "the client's detach");
  await within(detaching, 5000, "the server's detach");
  assert.equal(server.ssl, null);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("readable is not bound by readTimeout: its reader waits, as a Deno.Conn's does", async () => {
  const [client, server] = await pair();
  server.readTimeout = 100;
  const reader = server.readable.getReader();
  const reading = reader.read();
  await sleep(300);
  await client.write(encoder.encode("later"));
  const { value } = await within(reading, 5000, "the reader's chunk");
  assert.equal(decoder.decode(value), "later");
  reader.releaseLock();
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("readLine keeps a U+FEFF at the start of a line: it is the peer's data", async () => {
  const [client, server] = await pair();
  await client.write(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69, 0x0a]));
  assert.equal(await within(server.readLine(), 5000, "the line"), "\ufeffhi");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("a write cut by close() rejects with BadResource, also when the transport's own write was under way", async () => {
  const [client, server] = await pair();
  const writing = client.write(new Uint8Array(16 << 20));
  await sleep(50);
  client.close();
  const failure = await rejection(writing, 5000, "the write in flight");
  assert.ok(failure instanceof Deno.errors.BadResource, String(failure));
  await client.closed;
  await server[Symbol.asyncDispose]();
});

Deno.test("unref() on a descriptor stream lets the process end while a read waits", async () => {
  const result = await runChild(
    `
    const libc = Deno.dlopen("libc.so.6", { socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" } }).symbols;
    const fds = new Int32Array(2);
    libc.socketpair(1, 1, 0, new Uint8Array(fds.buffer));
    const stream = new mod.SocketStream({ socket: fds[0] });
    stream.read(new Uint8Array(8)).catch(() => {});
    stream.unref();
    console.log("ending");
  `,
    { timeoutMs: 10_000 },
  );
  assert.equal(result.code, 0, `the process did not end: ${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /ending/);
});

// Reads until `marker` has arrived (bounded by the caller), counting the bytes of `fill` before it.
async function countBefore(
  stream: { read(p: Uint8Array): Promise<number | null> },
  fill: number,
  marker: string,
) {
  const buffer = new Uint8Array(1 << 20);
  let filled = 0;
  let rest = "";
  while (!rest.includes(marker)) {
    const count = await stream.read(buffer);
    if (count === null) break;
    for (let i = 0; i < count; i++) buffer[i] === fill ? filled++ : (rest += String.fromCharCode(buffer[i]));
  }
  return { filled, rest };
}

for (const kind of ["TLS", "plain"] as const) {
  Deno.test(`review: a ${kind} write whose buffer is detached while it waits rejects, saying how much went out`, async () => {
    let client: SocketStream, server: SocketStream;
    if (kind === "TLS") {
      [client, server] = await tlsPair();
    } else {
      const [near, far] = await loopbackPair();
      [client, server] = [new SocketStream({ socket: near }), new SocketStream({ socket: far })];
    }
    const size = 8 * 1024 * 1024;
    const data = new Uint8Array(size).fill(0x43);
    const writing = client.write(data);
    data.buffer.transfer();
    const error = await rejection(writing, 5000, "the write whose buffer was detached");
    assert.ok(error instanceof TypeError, `${error}`);
    const sent = Number(error.message.match(/; (\d+) of 8388608 bytes were sent/)?.[1]);
    assert.ok(sent < size, error.message);
    // The stream goes on: what the message says went out is what the peer gets, then the next write.
    await within(client.write(encoder.encode("AFTER")), 5000, "the next write");
    const { filled, rest } = await within(countBefore(server, 0x43, "AFTER"), 5000, "the peer's bytes");
    assert.equal(filled, sent);
    assert.equal(rest, "AFTER");
    client.close();
    server.close();
    await Promise.all([client.closed, server.closed]);
  });
}

Deno.test("review: a TLS write whose buffer is detached after every byte was encrypted resolves with its length", async () => {
  const [client, server] = await tlsPair();
  const data = new Uint8Array(1000).fill(0x44);
  // The first round encrypts all of it before write() returns its promise; then the caller detaches the buffer.
  const writing = client.write(data);
  data.buffer.transfer();
  assert.equal(
    await within(writing, 5000, "the write"),
    1000,
    "it was all sent: a retry would send it twice",
  );
  await within(client.write(encoder.encode("AFTER")), 5000, "the next write");
  const { filled, rest } = await within(countBefore(server, 0x44, "AFTER"), 5000, "the peer's bytes");
  assert.equal(filled, 1000);
  assert.equal(rest, "AFTER");
  client.close();
  server.close();
  await Promise.all([client.closed, server.closed]);
});

Deno.test("detachSsl with retryCount null returns at once while a read waits; the waiting reads go on plain, in order", async () => {
  const [client, server] = await pair();
  const buffer = new Uint8Array(1024);
  const first = server.read(buffer);
  const second = server.readLine();
  await sleep(20);
  await within(detachSsl(server, { retryCount: null }), 2000, "the detach while a read waits");
  assert.equal(server.ssl, null);
  // A read made after the detach comes after the two that waited.
  const third = server.readLine();
  // The peer answers our close_notify with its own, which this end (plain already) reads as plain bytes:
  // the first read gets that record, and nothing else has been sent yet.
  await within(detachSsl(client), 5000, "the client's detach");
  const count = await within(first, 5000, "the read that waited");
  assert.ok(count !== null && count > 0);
  assert.equal(buffer[0], 0x17, "the peer's close_notify, an encrypted TLS record, read as plain bytes");
  await client.write(encoder.encode("one\ntwo\n"));
  assert.equal(await within(second, 5000, "the readLine that waited"), "one");
  assert.equal(await within(third, 5000, "the readLine made after the detach"), "two");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("detachSsl waiting for the peer: a read made meanwhile waits for the detach and reads plain", async () => {
  const [client, server] = await pair();
  const first = server.read(new Uint8Array(1024));
  await sleep(20);
  const detaching = detachSsl(server, { retryCount: 20, retryTimeout: 250 });
  // Made while the detach waits: it reads after the detach, so plain bytes.
  const second = server.readLine();
  await within(detachSsl(client), 5000, "the client's detach");
  await within(detaching, 5000, "the server's detach");
  // The read in progress was TLS's: it saw the peer's close_notify, the end of the TLS bytes.
  assert.equal(await within(first, 5000, "the read in progress"), null);
  await client.write(encoder.encode("plain\n"));
  assert.equal(await within(second, 5000, "the readLine made during the detach"), "plain");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("detachSsl gives up within its retry budget on a write the peer never drains", async () => {
  const [client, server] = await pair();
  // The client never reads: the server's big write stalls on the transport.
  const writing = server.write(new Uint8Array(32 << 20)).catch((error) => error);
  await sleep(100);
  const failure = await rejection(
    detachSsl(server, { retryCount: 1, retryTimeout: 200 }),
    5000,
    "the detach behind a stalled write",
  );
  assert.match(failure.message, /write/);
  await within(server.closed, 5000, "the stream to close");
  await within(writing, 5000, "the stalled write to end");
  await client[Symbol.asyncDispose]();
});

Deno.test("detachSsl: the wait for the read turn running out while writes are stuck is a typed failure, not an unhandled rejection", async () => {
  const [client, server] = await pair();
  // A read in progress holds the turn; a big write the client never reads holds the writes.
  const reading = server.read(new Uint8Array(16)).catch((error) => error);
  const writing = server.write(new Uint8Array(32 << 20)).catch((error) => error);
  await sleep(100);
  const failure = await rejection(
    detachSsl(server, { retryCount: 0, retryTimeout: 150 }),
    5000,
    "the detach behind a stalled write and a pending read",
  );
  assert.ok(failure instanceof SslCondition, String(failure));
  await within(server.closed, 5000, "the stream to close");
  await within(Promise.all([reading, writing]), 5000, "the pending read and write to end");
  await sleep(300); // an unhandled rejection would fail the test file here
  await client[Symbol.asyncDispose]();
});

Deno.test("detachSsl: data that keeps arriving does not use up the waits", async () => {
  const [client, server] = await pair();
  // The peer sends a line every 100 ms for about 900 ms, then answers close_notify: longer than the 2 waits of
  // 300 ms, but no wait passes without data.
  const sending = (async () => {
    for (let i = 0; i < 9; i++) {
      await client.write(encoder.encode(`line ${i}\n`));
      await sleep(100);
    }
    await detachSsl(client);
  })();
  await sleep(20);
  await within(detachSsl(server, { retryCount: 1, retryTimeout: 300 }), 5000, "the detach while data flows");
  await within(sending, 5000, "the peer");
  const lines: string[] = [];
  for (let i = 0; i < 9; i++) lines.push((await within(server.readLine(), 5000, `line ${i}`))!);
  assert.deepEqual(lines, Array.from({ length: 9 }, (_, i) => `line ${i}`));
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("detachSsl: a peer that trickles data and never answers close_notify is given up on after ten budgets", async () => {
  const [client, server] = await pair();
  // A line every 60 ms (within every 100 ms wait) and no close_notify: before, the detach waited for ever.
  let trickling = true;
  const sending = (async () => {
    while (trickling) {
      await client.write(encoder.encode("tick\n"));
      await sleep(60);
    }
  })().catch(() => {});
  await sleep(20);
  const started = Date.now();
  const failure = await rejection(
    detachSsl(server, { retryCount: 0, retryTimeout: 100 }),
    5000,
    "the detach from a trickling peer",
  );
  const took = Date.now() - started;
  trickling = false;
  assert.match(failure.message, /kept sending for 10 times that long/);
  assert.ok(took >= 900 && took < 3000, `gave up after ${took} ms (the budget is 100 ms, ten of them 1000)`);
  await within(server.closed, 5000, "the stream to close");
  client.close();
  await within(sending, 5000, "the trickling writer");
});

Deno.test("detachSsl called twice at once: the second waits for the first and finds the stream plain", async () => {
  for (const first of [{}, { retryCount: null }] as const) {
    const [client, server] = await pair();
    const one = detachSsl(server, first);
    const two = detachSsl(server, { retryCount: 20, retryTimeout: 250 });
    await within(detachSsl(client), 5000, "the client's detach");
    await within(Promise.all([one, two]), 5000, "both detaches");
    assert.equal(server.ssl, null);
    await client.write(encoder.encode("plain\n"));
    // After a detach that did not wait, the peer's close_notify comes first, as plain bytes (any of which may
    // be a line end): read bytes until the plain line has come.
    const received: number[] = [];
    const buffer = new Uint8Array(256);
    while (!decoder.decode(new Uint8Array(received)).endsWith("plain\n")) {
      const count = await within(server.read(buffer), 5000, "the plain line");
      assert.ok(count !== null, `${JSON.stringify(first)}: the stream ended`);
      received.push(...buffer.subarray(0, count));
    }
    if (first.retryCount === undefined) assert.equal(received.length, "plain\n".length);
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  }
});

Deno.test("detachSsl behind a write the peer never reads fails within its budget, not close()'s 2 s more", async () => {
  for (const opts of [{ retryCount: 0, retryTimeout: 50 }, { retryCount: null, retryTimeout: 100 }]) {
    const [client, server] = await pair();
    const writing = server.write(new Uint8Array(32 << 20)).catch((error) => error);
    await sleep(100);
    const started = performance.now();
    await rejection(detachSsl(server, opts), 5000, "the detach");
    const took = performance.now() - started;
    assert.ok(took < 1000, `${JSON.stringify(opts)}: failed after ${took.toFixed(0)} ms`);
    await within(server.closed, 5000, "the stream to close");
    assert.ok((await within(writing, 5000, "the stalled write")) instanceof Error);
    await client[Symbol.asyncDispose]();
  }
});

Deno.test("detachSsl queued behind one that failed and closed the stream rejects instead of reporting a detach", async () => {
  const [client, server] = await pair();
  // The client never answers close_notify (it does not read).
  const first = detachSsl(server, { retryCount: 0, retryTimeout: 80 });
  const second = detachSsl(server, { retryCount: null });
  await rejection(first, 5000, "the first detach");
  const failure = await rejection(second, 5000, "the second detach");
  assert.ok(failure instanceof Deno.errors.BadResource, String(failure));
  assert.match(failure.message, /the detach before this one failed and closed the stream/);
  await client[Symbol.asyncDispose]();
});
