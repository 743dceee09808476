// Raw socket descriptors, as LispWorks' :socket takes them: TLS over a
// socketpair and over a socket accepted with libc, with the event loop free
// while the bytes wait.
import assert from "node:assert/strict";
import { makeInstance, makeSslCtx, openTcpStream } from "../mod.ts";
import {
  assertNoLiveObjects,
  decoder,
  encoder,
  fixture,
  readBytes,
  rejection,
  trustTestCa,
  useCertificate,
} from "./_helpers.ts";

const libc = Deno.dlopen("libc.so.6", {
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  accept: { parameters: ["i32", "pointer", "pointer"], result: "i32", nonblocking: true },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
}).symbols;

const AF_UNIX = 1;
const AF_INET = 2;
const SOCK_STREAM = 1;
const F_GETFL = 3;

function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc.socketpair(AF_UNIX, SOCK_STREAM, 0, new Uint8Array(fds.buffer)), 0);
  return [fds[0], fds[1]];
}

function isOpen(fd: number): boolean {
  return libc.fcntl(fd, F_GETFL, 0) >= 0;
}

Deno.test("TLS over a socketpair: both ends given as descriptors", async () => {
  const [serverFd, clientFd] = socketPair();
  const serverCtx = makeSslCtx({ sslSide: "server" });
  useCertificate(serverCtx);
  {
    const [server, client] = await Promise.all([
      makeInstance("socket-stream", { socket: serverFd, sslCtx: serverCtx }),
      makeInstance("socket-stream", {
        socket: clientFd,
        sslCtx: true,
        sslSide: "client",
        tlsextHostName: "localhost",
        ctxConfigureCallback: trustTestCa,
      }),
    ]);
    assert.equal(client.protocol, "TLSv1.3");
    assert.equal((client.localAddr as Deno.UnixAddr).transport, "unix");
    await client.write(encoder.encode("over a descriptor"));
    assert.equal(decoder.decode(await readBytes(server, 17)), "over a descriptor");
    // More than a socketpair buffers: the write goes on while the other end reads.
    const [, received] = await Promise.all([
      server.write(new Uint8Array(1024 * 1024).fill(9)),
      readBytes(client, 1024 * 1024),
    ]);
    assert.equal(received.length, 1024 * 1024);
    await client[Symbol.asyncDispose]();
    assert.equal(await server.read(new Uint8Array(1)), null, "a clean close_notify");
    await server[Symbol.asyncDispose]();
  }
  serverCtx.destroy();
  assert.equal(isOpen(serverFd), false, "the stream closed its descriptor");
  assert.equal(isOpen(clientFd), false);
  assertNoLiveObjects();
});

Deno.test("the event loop keeps running timers while a descriptor's handshake waits for a slow peer", async () => {
  const [serverFd, clientFd] = socketPair();
  const serverCtx = makeSslCtx({ sslSide: "server" });
  useCertificate(serverCtx);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    const serving = makeInstance("socket-stream", {
      socket: serverFd,
      sslCtx: serverCtx,
      handshakeTimeout: 5000,
    });
    // The client starts only after 300 ms; the server's read waits off the main thread.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ticksWhileWaiting = ticks;
    const client = await makeInstance("socket-stream", {
      socket: clientFd,
      sslCtx: true,
      sslSide: "client",
      tlsextHostName: "localhost",
      ctxConfigureCallback: trustTestCa,
    });
    const server = await serving;
    assert.ok(ticksWhileWaiting >= 15, `only ${ticksWhileWaiting} timer ticks in 300 ms`);
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  } finally {
    clearInterval(timer);
    serverCtx.destroy();
  }
  assertNoLiveObjects();
});

Deno.test("TLS over a socket accepted with libc, to Deno.connectTls", async () => {
  const listening = libc.socket(AF_INET, SOCK_STREAM, 0);
  assert.ok(listening >= 0);
  // struct sockaddr_in { sa_family_t family; in_port_t port; struct in_addr addr; char zero[8]; } for 127.0.0.1:0
  const address = new Uint8Array(16);
  new DataView(address.buffer).setUint16(0, AF_INET, true);
  address.set([127, 0, 0, 1], 4);
  assert.equal(libc.bind(listening, address, 16), 0);
  assert.equal(libc.listen(listening, 4), 0);
  const bound = new Uint8Array(16);
  assert.equal(libc.getsockname(listening, bound, new Uint8Array(new Uint32Array([16]).buffer)), 0);
  const port = new DataView(bound.buffer).getUint16(2, false);

  const serverCtx = makeSslCtx({ sslSide: "server" });
  useCertificate(serverCtx);
  const accepting = libc.accept(listening, null, null);
  const connecting = Deno.connectTls({
    hostname: "localhost",
    port,
    caCerts: [await Deno.readTextFile(fixture("ca.pem"))],
  });
  const fd = await accepting;
  assert.ok(fd >= 0);
  const [server, client] = await Promise.all([
    makeInstance("socket-stream", { socket: fd, sslCtx: serverCtx }),
    connecting,
  ]);
  assert.equal((server.localAddr as Deno.NetAddr).port, port);
  assert.equal((server.remoteAddr as Deno.NetAddr).hostname, "127.0.0.1");
  await client.write(encoder.encode("to a libc socket"));
  assert.equal(decoder.decode(await readBytes(server, 16)), "to a libc socket");
  await server.write(encoder.encode("from a libc socket"));
  assert.equal(decoder.decode(await readBytes(client, 18)), "from a libc socket");
  client.close();
  await server[Symbol.asyncDispose]();
  libc.close(listening);
  serverCtx.destroy();
  assertNoLiveObjects();
});

Deno.test("a descriptor that is not an open stream socket is a TypeError, and is left alone", async () => {
  await assert.rejects(makeInstance("socket-stream", { socket: 987654 }), /not an open descriptor/);
  await assert.rejects(makeInstance("socket-stream", { socket: -1 }), RangeError);
  await assert.rejects(makeInstance("socket-stream", { socket: 2 ** 32 + 3 }), /from 0 to 2147483647/);
  await assert.rejects(makeInstance("socket-stream", { socket: 1.5 }), TypeError);
  // Standard input is a terminal, a file or nothing here: never a stream socket to take over.
  await assert.rejects(
    makeInstance("socket-stream", { socket: 0 }),
    /not a stream socket|not an open descriptor/,
  );
});

Deno.test("a connect that hangs (a full backlog) is cut by timeout with TimedOut and by abort with the reason", async () => {
  // A libc listener with a backlog of 0 that never accepts: once its queue is full, SYNs are dropped.
  const listening = libc.socket(AF_INET, SOCK_STREAM, 0);
  const address = new Uint8Array(16);
  new DataView(address.buffer).setUint16(0, AF_INET, true);
  address.set([127, 0, 0, 1], 4);
  assert.equal(libc.bind(listening, address, 16), 0);
  assert.equal(libc.listen(listening, 0), 0);
  const bound = new Uint8Array(16);
  libc.getsockname(listening, bound, new Uint8Array(new Uint32Array([16]).buffer));
  const port = new DataView(bound.buffer).getUint16(2, false);
  const fillers: Deno.TcpConn[] = [];
  try {
    // Fill the queue until a connect no longer completes at once.
    for (let i = 0; i < 8; i++) {
      const attempt = Deno.connect({ hostname: "127.0.0.1", port });
      const settled = await Promise.race([
        attempt.then((conn) => conn),
        new Promise<null>((r) => setTimeout(() => r(null), 200)),
      ]);
      if (settled === null) {
        attempt.then((conn) => conn.close(), () => {});
        break;
      }
      fillers.push(settled);
    }
    const started = performance.now();
    const timedOut = await rejection(
      openTcpStream("127.0.0.1", port, { sslCtx: true, timeout: 150 }),
      2000,
      "the 150 ms connect timeout",
    );
    assert.ok(timedOut instanceof Deno.errors.TimedOut, String(timedOut));
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 140 && elapsed < 600, `cut after ${elapsed} ms, not 150`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("gave up connecting")), 100);
    const aborted = await rejection(
      openTcpStream("127.0.0.1", port, { sslCtx: true, signal: controller.signal }),
      2000,
      "the connect's abort at 100 ms",
    );
    assert.match(aborted.message, /gave up connecting/);
  } finally {
    for (const conn of fillers) conn.close();
    libc.close(listening);
  }
  assertNoLiveObjects();
});
