// Every entry point refuses an options bag that is not an object, a name it does not know (a misspelt
// option would otherwise be dropped without a word) and a value of the wrong type, before it does anything:
// no connect, no listener, no socket taken, no SSL made.
import assert from "node:assert/strict";
import {
  attachSsl,
  createSslClientContext,
  createSslServerContext,
  createSslSocketStream,
  destroySsl,
  detachSsl,
  listenSsl,
  makeInstance,
  makeSslCtx,
  openTcpStream,
  SocketStream,
  type SocketStreamOptions,
  sslNew,
  startUpServer,
} from "../mod.ts";
import { fixtureText, FreeWatcher, listenLoopback, loopbackPair, rejection, within } from "./_helpers.ts";

// Every call must be refused, as a TypeError whose message matches.
async function assertRefused(calls: [string, () => unknown, RegExp][]): Promise<void> {
  for (const [what, call, message] of calls) {
    const error = await rejection(Promise.resolve().then(call), 5000, what);
    assert.ok(error instanceof TypeError, `${what}: ${error.constructor.name}: ${error.message}`);
    assert.match(error.message, message, what);
  }
}

// A loopback listener that counts (and closes) what it accepts: a refused call must not have connected.
function acceptCounter(): { port: number; readonly accepted: number; close(): Promise<number> } {
  const { listener, port } = listenLoopback();
  let accepted = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      accepted++;
      conn.close();
    }
  })();
  return {
    port,
    get accepted() {
      return accepted;
    },
    async close() {
      listener.close();
      await accepting;
      return accepted;
    },
  };
}

Deno.test("openTcpStream refuses wrong and unknown options before it connects", async () => {
  using objects = new FreeWatcher();
  const counter = acceptCounter();
  const { port } = counter;
  const open = (options: unknown) => () => openTcpStream("127.0.0.1", port, options as never);
  await assertRefused([
    ["null options", open(null), /openTcpStream's options must be an object, got null/],
    ["a string as options", open("tls"), /openTcpStream's options must be an object, got "tls"/],
    ["a misspelt option", open({ nodelai: true }), /openTcpStream: unknown option "nodelai"/],
    ["an option of a context", open({ sslCtx: true, verifyMode: "none" }), /unknown option "verifyMode"/],
    // "no" is truthy: taken as it was, it would have turned Nagle's algorithm off, the opposite of what it says.
    ["nodelay as a string", open({ nodelay: "no" }), /nodelay must be a boolean, got "no"/],
    ["keepalive as a number", open({ keepalive: 1 }), /keepalive must be a boolean, got number/],
    ["a signal that is not one", open({ signal: {} }), /signal must be an AbortSignal, got object/],
    [
      "timeout as a string",
      open({ timeout: "5" }),
      /timeout must be a number of milliseconds or null, got "5"/,
    ],
    ["readTimeout as a string", open({ readTimeout: "5" }), /readTimeout must be a number/],
    ["a TLS option of the wrong type", open({ sslCtx: true, tlsextHostName: 5 }), /tlsextHostName must be/],
    ["a callback that is not one", open({ sslCtx: true, sslConfigureCallback: "f" }), /must be a function/],
  ]);
  // A stray sslSide is ignored, as the contract says: openTcpStream is always the client.
  const stream = await within(
    openTcpStream("127.0.0.1", port, { sslSide: "server" } as never),
    5000,
    "a connect with a stray sslSide",
  );
  stream.close();
  await within(stream.closed, 5000, "the stream's close");
  await within(
    (async () => {
      while (counter.accepted < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    5000,
    "the one connect that was not refused",
  );
  assert.equal(await counter.close(), 1, "no refused call connected");
  objects.assertAllFreed();
});

Deno.test("makeInstance and createSslSocketStream refuse wrong options and close the socket handed to them", async () => {
  using objects = new FreeWatcher();
  const server = createSslServerContext({ cert: fixtureText("server.pem"), key: fixtureText("server.key") });
  const refusals: [string, (socket: Deno.Conn) => Promise<unknown>, RegExp][] = [
    [
      "makeInstance, a misspelt option",
      (socket) => makeInstance("socket-stream", { socket, readTimeot: 5 } as never),
      /makeInstance: unknown option "readTimeot"/,
    ],
    [
      "makeInstance, a misspelt option on a plain stream",
      (socket) => makeInstance("socket-stream", { socket, sslCtx: null, sslctx: server } as never),
      /makeInstance: unknown option "sslctx"/,
    ],
    [
      "makeInstance, a signal that is not one",
      (socket) => makeInstance("socket-stream", { socket, sslCtx: server, signal: {} as never }),
      /signal must be an AbortSignal/,
    ],
    [
      "createSslSocketStream, a misspelt option",
      (socket) => createSslSocketStream(socket, server, { errorP: true } as never),
      /createSslSocketStream: unknown option "errorP"/,
    ],
    [
      "createSslSocketStream, sslCtx twice",
      (socket) => createSslSocketStream(socket, server, { sslCtx: true } as never),
      /unknown option "sslCtx"/,
    ],
    [
      "createSslSocketStream, errorp not a boolean",
      (socket) => createSslSocketStream(socket, server, { errorp: "yes" } as never),
      /errorp must be a boolean, got "yes"/,
    ],
    [
      "createSslSocketStream, options not an object",
      (socket) => createSslSocketStream(socket, server, 5 as never),
      /options must be an object/,
    ],
  ];
  for (const [what, call, message] of refusals) {
    const [near, far] = await loopbackPair();
    const error = await rejection(call(near), 5000, what);
    assert.ok(error instanceof TypeError, `${what}: ${error.constructor.name}: ${error.message}`);
    assert.match(error.message, message, what);
    // The socket was handed over with the call: refused, it is closed, not left open with nobody to close it.
    assert.equal(
      await within(far.read(new Uint8Array(1)), 5000, `${what}: the end of the stream`),
      null,
      what,
    );
    far.close();
  }
  server.close();
  objects.assertAllFreed();
});

Deno.test("attachSsl and detachSsl refuse wrong and unknown options and change nothing", async () => {
  using objects = new FreeWatcher();
  const [a, b] = await loopbackPair();
  const stream = new SocketStream({ socket: a });
  await assertRefused([
    [
      "attachSsl, a misspelt option",
      () => attachSsl(stream, { handshakeTimout: 5 } as never),
      /attachSsl: unknown option "handshakeTimout"/,
    ],
    [
      "attachSsl, a signal that is not one",
      () => attachSsl(stream, { signal: {} as never }),
      /signal must be an AbortSignal/,
    ],
    [
      "attachSsl, options not an object",
      () => attachSsl(stream, "client" as never),
      /attachSsl's options must be an object/,
    ],
    [
      "detachSsl, retryCount as a string",
      () => detachSsl(stream, { retryCount: "5" as never }),
      /retryCount must be a number or null, got "5"/,
    ],
    [
      "detachSsl, a misspelt option",
      () => detachSsl(stream, { retrycount: 5 } as never),
      /detachSsl: unknown option "retrycount"/,
    ],
    [
      "detachSsl, retryTimeout as a string",
      () => detachSsl(stream, { retryTimeout: "100" as never }),
      /retryTimeout must be a number/,
    ],
  ]);
  assert.equal(stream.ssl, null, "still plain");
  await stream.write(new TextEncoder().encode("plain"));
  const got = new Uint8Array(5);
  let count = 0;
  while (count < got.length) {
    count += (await within(b.read(got.subarray(count)), 5000, "the bytes")) ?? got.length;
  }
  assert.equal(new TextDecoder().decode(got), "plain");
  b.close();
  await stream[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("listenSsl checks what each connection will be made with before it listens", async () => {
  using objects = new FreeWatcher();
  const server = createSslServerContext({ cert: fixtureText("server.pem"), key: fixtureText("server.key") });
  const client = createSslClientContext();
  const ssl = sslNew(server.ctx);
  const port = 0;
  await assertRefused([
    [
      "a protocol that does not exist",
      () => listenSsl({ port, sslCtx: "tls-v9" as never }),
      /sslCtx must be/,
    ],
    [
      "a misspelt option",
      () => listenSsl({ port, sslCtx: server, onerror: () => {} } as never),
      /listenSsl: unknown option "onerror"/,
    ],
    [
      "readTimeout as a string",
      () => listenSsl({ port, sslCtx: server, readTimeout: "5" as never }),
      /readTimeout must be a number/,
    ],
    [
      "a wrong TLS option",
      () => listenSsl({ port, sslCtx: server, tlsextHostName: 5 as never }),
      /tlsextHostName must be/,
    ],
    [
      "a signal that is not one",
      () => listenSsl({ port, sslCtx: server, signal: {} as never }),
      /signal must be an AbortSignal/,
    ],
    ["one connection's SSL", () => listenSsl({ port, sslCtx: ssl }), /not an SslPointer/],
    ["a client context", () => listenSsl({ port, sslCtx: client }), /needs a server context/],
    ["options not an object", () => listenSsl(null as never), /listenSsl's options must be an object/],
  ]);
  // The right options still make a listener.
  await using listener = listenSsl({ port, sslCtx: server });
  assert.ok(listener.addr.port > 0);
  listener.close();
  destroySsl(ssl);
  server.close();
  client.close();
  await listener[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("startUpServer and new SocketStream refuse unknown options; a subclass may take options of its own", async () => {
  await assertRefused([
    [
      "startUpServer, a misspelt option",
      () => startUpServer({ function: () => {}, service: 0, servise: 1 } as never),
      /startUpServer: unknown option "servise"/,
    ],
    [
      "startUpServer, a signal that is not one",
      () => startUpServer({ function: () => {}, service: 0, signal: {} as never }),
      /signal must be an AbortSignal/,
    ],
  ]);
  const [a, b] = await loopbackPair();
  assert.throws(
    () => new SocketStream({ socket: a, readtimeout: 5 } as never),
    /SocketStream: unknown option "readtimeout"/,
  );
  class Tagged extends SocketStream {
    readonly tag: string;
    constructor(options: SocketStreamOptions & { tag: string }) {
      super(options);
      this.tag = options.tag;
    }
  }
  const tagged = new Tagged({ socket: a, tag: "mine" });
  assert.equal(tagged.tag, "mine");
  b.close();
  await tagged[Symbol.asyncDispose]();
});

Deno.test("options are taken once, as own properties: an inherited or hidden one is refused, a getter is read once", async () => {
  using objects = new FreeWatcher();
  const counter = acceptCounter();
  const { port } = counter;
  // Each asks for TLS in a way a copy of the options would drop: taken as it was, the call made a plain
  // connection and read the server's bytes in the clear.
  class WithGetter {
    get sslCtx() {
      return true;
    }
  }
  const hidden = {};
  Object.defineProperty(hidden, "sslCtx", { value: true, enumerable: false });
  await assertRefused([
    [
      "sslCtx from a prototype",
      () => openTcpStream("127.0.0.1", port, Object.create({ sslCtx: true })),
      /the option sslCtx must be an own enumerable property/,
    ],
    [
      "sslCtx from a class's getter",
      () => openTcpStream("127.0.0.1", port, new WithGetter() as never),
      /the option sslCtx must be an own enumerable property/,
    ],
    [
      "sslCtx not enumerable",
      () => openTcpStream("127.0.0.1", port, hidden),
      /the option sslCtx must be an own enumerable property/,
    ],
    // Pins from a prototype: taken as they were, the context pinned nothing and connected to any server.
    [
      "pins from a prototype",
      () => createSslClientContext(Object.create({ pins: ["sha256/AAAA"] })),
      /the option pins must be an own enumerable property/,
    ],
    [
      "cert and key from a prototype",
      () => createSslServerContext(Object.create({ cert: "x", key: "y" })),
      /must be an own enumerable property/,
    ],
  ]);
  // A getter answers once: the value checked is the value used.
  let reads = 0;
  const [a, b] = await loopbackPair();
  const stream = new SocketStream({ socket: a });
  const options = {
    sslSide: "client" as const,
    tlsextHostName: "localhost",
    get handshakeTimeout() {
      return reads++ === 0 ? 50 : -1;
    },
  };
  const error = await rejection(attachSsl(stream, options), 5000, "a handshake nobody answers");
  assert.equal(error.constructor.name, "SslHandshakeTimeout", error.message);
  assert.equal(reads, 1, "the getter was read once");
  b.close();
  await within(stream.closed, 5000, "the stream's close");
  assert.equal(await counter.close(), 0, "no refused call connected");
  objects.assertAllFreed();
});

Deno.test("listenSsl without sslCtx yields TLS streams only, never a plain one", async () => {
  const errors: unknown[] = [];
  await using listener = listenSsl({
    port: 0,
    hostname: "127.0.0.1",
    onError: (error) => errors.push(error),
    handshakeTimeout: 2000,
  });
  const yielded = (async () => {
    for await (const stream of listener) {
      stream.close();
      return stream;
    }
    return null;
  })();
  // A client that speaks plain HTTP: taken as plaintext, it was yielded as a stream with no SSL.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
  await within(
    (async () => {
      while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    5000,
    "the handshake failure reported to onError",
  );
  conn.close();
  listener.close();
  assert.equal(await within(yielded, 5000, "the listener's end"), null, "no stream was yielded");
});

Deno.test("makeInstance closes the connection it was handed on any refusal; a connection a stream owns is refused", async () => {
  const refusals: [string, (socket: Deno.Conn) => Promise<unknown>][] = [
    [
      "readTimeout as a string",
      (socket) => makeInstance("socket-stream", { socket, readTimeout: "5" as never }),
    ],
    ["a negative writeTimeout", (socket) => makeInstance("socket-stream", { socket, writeTimeout: -1 })],
    ["an unknown class", (socket) => makeInstance("bogus" as never, { socket })],
    [
      "createSslSocketStream, readTimeout as a string",
      (socket) => createSslSocketStream(socket, true, { readTimeout: "5" as never }),
    ],
  ];
  for (const [what, call] of refusals) {
    const [near, far] = await loopbackPair();
    const error = await rejection(call(near), 5000, what);
    assert.ok(error instanceof TypeError || error instanceof RangeError, `${what}: ${error}`);
    assert.equal(
      await within(far.read(new Uint8Array(1)), 5000, `${what}: the end of the stream`),
      null,
      what,
    );
    far.close();
  }
  // Two streams reading one connection would each get part of its bytes.
  const [near, far] = await loopbackPair();
  const first = new SocketStream({ socket: near });
  assert.throws(() => new SocketStream({ socket: near }), /already belongs to a SocketStream/);
  await assert.rejects(makeInstance("socket-stream", { socket: near, readTimeout: -1 }), RangeError);
  // The refusal left the owning stream's connection alone.
  await first.write(new TextEncoder().encode("ok"));
  const got = new Uint8Array(2);
  assert.equal(await within(far.read(got), 5000, "the owner's bytes"), 2);
  far.close();
  await first[Symbol.asyncDispose]();
});

Deno.test("a value whose class cannot be read is still refused with a TypeError naming the option", async () => {
  const sly = {
    get constructor(): never {
      throw new Error("boom");
    },
  };
  await assert.rejects(
    openTcpStream("127.0.0.1", 1, { nodelay: sly as never }),
    /nodelay must be a boolean, got object/,
  );
  await assert.rejects(
    openTcpStream("127.0.0.1", 1, { timeout: "x".repeat(10_000) as never }),
    (error: Error) => error instanceof TypeError && error.message.length < 300,
  );
});

Deno.test("a stream's methods that take options refuse unknown, inherited and wrongly typed ones first", async () => {
  const [a, b] = await loopbackPair();
  const stream = new SocketStream({ socket: a });
  await assertRefused([
    [
      "keyUpdate, a misspelt option",
      () => stream.keyUpdate({ requestpeer: true } as never),
      /keyUpdate\(\): unknown option "requestpeer"/,
    ],
    [
      "keyUpdate, requestPeer as a string",
      () => stream.keyUpdate({ requestPeer: "yes" as never }),
      /requestPeer must be a boolean/,
    ],
    [
      "renegotiate, timeout for timeoutMs",
      () => stream.renegotiate({ timeout: 5 } as never),
      /renegotiate\(\): unknown option "timeout"/,
    ],
    [
      "requestClientCertificate, an inherited timeoutMs",
      () => stream.requestClientCertificate(Object.create({ timeoutMs: 5 })),
      /the option timeoutMs must be an own enumerable property/,
    ],
    [
      "readLine, maxLength as a string",
      () => stream.readLine({ maxLength: "80" as never }),
      /maxLength must be a number, got "80"/,
    ],
    [
      "readLine, a misspelt option",
      () => stream.readLine({ maxlength: 80 } as never),
      /readLine\(\): unknown option "maxlength"/,
    ],
  ]);
  // Still a working plain stream.
  await b.write(new TextEncoder().encode("line\n"));
  assert.equal(await within(stream.readLine(), 5000, "the line"), "line");
  b.close();
  await stream[Symbol.asyncDispose]();
});

Deno.test("second review: makeSslCtx, Proxies, inherited misspellings and wrong types are refused", async () => {
  using objects = new FreeWatcher();
  const counter = acceptCounter();
  const { port } = counter;
  // A Proxy that answers only `get` (a lazy configuration object): a copy of it holds nothing.
  const lazy = new Proxy({}, { get: (_target, key) => key === "sslCtx" ? true : undefined });
  // One whose traps lie: `has` and the descriptor say sslCtx is there, its keys say nothing is.
  const liar = new Proxy({}, {
    get: (_target, key) => key === "sslCtx" ? true : undefined,
    has: (_target, key) => key === "sslCtx",
    ownKeys: () => [],
    getOwnPropertyDescriptor: (_target, key) =>
      key === "sslCtx" ? { value: true, enumerable: true, configurable: true } : undefined,
  });
  await assertRefused([
    [
      "makeSslCtx, a misspelt side",
      () => makeSslCtx({ sslside: "client" } as never),
      /makeSslCtx: unknown option "sslside"/,
    ],
    [
      "makeSslCtx, a callback it never runs",
      () => makeSslCtx({ sslSide: "client", ctxConfigureCallback: () => {} } as never),
      /unknown option "ctxConfigureCallback"/,
    ],
    [
      "makeSslCtx, a string as options",
      () => makeSslCtx("client" as never),
      /makeSslCtx's options must be an object/,
    ],
    [
      "makeSslCtx, an inherited side",
      () => makeSslCtx(Object.create({ sslSide: "client" })),
      /the option sslSide must be an own enumerable property/,
    ],
    [
      "openTcpStream, sslCtx from a Proxy's get",
      () => openTcpStream("127.0.0.1", port, lazy),
      /the option sslCtx must be an own enumerable property/,
    ],
    [
      "openTcpStream, a Proxy whose traps lie",
      () => openTcpStream("127.0.0.1", port, liar),
      /the option sslCtx must be an own enumerable property/,
    ],
    [
      "openTcpStream, an inherited misspelling",
      () => openTcpStream("127.0.0.1", port, Object.create({ sslctx: true })),
      /unknown option "sslctx"/,
    ],
    [
      "openTcpStream, a port in a string",
      () => openTcpStream("127.0.0.1", String(port) as never),
      /port must be a port number from 0 to 65535, got "\d+"/,
    ],
    [
      "openTcpStream, a stray sslSide that is no side",
      () => openTcpStream("127.0.0.1", port, { sslSide: 42 } as never),
      /sslSide must be "client", "server" or "both"/,
    ],
    ["listenSsl, a port in a string", () => listenSsl({ port: "0" as never }), /port must be a port number/],
    [
      "listenSsl, a hostname with a NUL",
      () => listenSsl({ port: 0, hostname: "127.0.0.1\0.evil" }),
      /listenSsl's hostname contains a NUL/,
    ],
    [
      "startUpServer, an address with a NUL",
      () => startUpServer({ function: () => {}, service: 0, address: "127.0.0.1\0x" }),
      /startUpServer's address contains a NUL/,
    ],
    [
      "startUpServer, a service in a string",
      () => startUpServer({ function: () => {}, service: "0" as never }),
      /service must be a port number/,
    ],
  ]);
  assert.equal(await counter.close(), 0, "no refused call connected");
  objects.assertAllFreed();
});

Deno.test("second review: makeInstance closes the socket behind a getter, a function or a prototype too", async () => {
  const refusals: [string, (socket: Deno.Conn) => unknown][] = [
    ["a getter for the socket and a misspelt option", (socket) => ({
      get socket() {
        return socket;
      },
      bogus: 1,
    })],
    ["initargs that are a function", (socket) => Object.assign(function () {}, { socket })],
    ["an inherited socket", (socket) => Object.create({ socket })],
  ];
  for (const [what, initargs] of refusals) {
    const [near, far] = await loopbackPair();
    const error = await rejection(makeInstance("socket-stream", initargs(near) as never), 5000, what);
    assert.ok(error instanceof TypeError, `${what}: ${error}`);
    assert.equal(
      await within(far.read(new Uint8Array(1)), 5000, `${what}: the end of the stream`),
      null,
      what,
    );
    far.close();
  }
});

Deno.test("second review: attachSsl from the connection's own configure callback is refused; nothing leaks", async () => {
  using objects = new FreeWatcher();
  const [a, b] = await loopbackPair();
  const stream = new SocketStream({ socket: a });
  let nested: Promise<unknown> | undefined;
  const outer = attachSsl(stream, {
    sslSide: "client",
    tlsextHostName: "localhost",
    handshakeTimeout: 300,
    sslConfigureCallback: () => {
      nested = attachSsl(stream, { sslSide: "client", tlsextHostName: "localhost" });
      nested.catch(() => {});
    },
  });
  // Nobody answers: the outer handshake times out, and the stream closes.
  const failure = await rejection(outer, 5000, "the outer handshake");
  assert.equal(failure.constructor.name, "SslHandshakeTimeout", failure.message);
  const refusal = await rejection(nested!, 5000, "the nested attachSsl");
  assert.match(refusal.message, /an attachSsl on this stream is under way/);
  // One ClientHello reached the peer, not two: the bytes it got are one handshake record.
  const got = new Uint8Array(4096);
  let count = 0;
  for (;;) {
    const n = await within(b.read(got.subarray(count)), 5000, "the client's bytes");
    if (n === null) break;
    count += n;
  }
  assert.equal(got[0], 22, "a handshake record");
  const length = (got[3] << 8) | got[4];
  assert.equal(count, 5 + length, "one ClientHello and nothing after it");
  b.close();
  await within(stream.closed, 5000, "the stream's close");
  objects.assertAllFreed();
});

Deno.test("second review: listenSsl and setContext refuse what cannot serve, and stream methods check options first", async () => {
  using objects = new FreeWatcher();
  const clientCtx = makeSslCtx({ sslSide: "client" });
  await assertRefused([
    [
      "listenSsl as a client",
      () => listenSsl({ port: 0, sslSide: "client" }),
      /its sslSide cannot be "client"/,
    ],
    [
      "listenSsl over a client SSL_CTX",
      () => listenSsl({ port: 0, sslCtx: clientCtx }),
      /SslCtxPointer made for sslSide "client"/,
    ],
  ]);
  const server = createSslServerContext({ cert: fixtureText("server.pem"), key: fixtureText("server.key") });
  const listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: server });
  assert.throws(() => listener.setContext(clientCtx), /SslCtxPointer made for sslSide "client"/);
  listener.close();
  await listener[Symbol.asyncDispose]();
  const [a, b] = await loopbackPair();
  const stream = new SocketStream({ socket: a });
  // A plain stream: the wrong value is named before the stream's state is.
  await assert.rejects(stream.keyUpdate({ timeoutMs: "5" as never }), TypeError);
  await assert.rejects(stream.renegotiate({ timeoutMs: -1 }), RangeError);
  await assert.rejects(stream.requestClientCertificate({ timeoutMs: Number.NaN }), RangeError);
  assert.throws(() => stream.exportKeyingMaterial("32" as never, "label"), TypeError);
  b.close();
  await stream[Symbol.asyncDispose]();
  clientCtx.destroy();
  server.close();
  objects.assertAllFreed();
});

Deno.test("a refusal closes only a connection: a listener or a context passed in its place is left alone", async () => {
  using objects = new FreeWatcher();
  const { listener, port } = listenLoopback();
  await assert.rejects(makeInstance("socket-stream", { socket: listener as never }), TypeError);
  // Arguments swapped: the context where the socket goes, the connection where the context goes.
  const server = createSslServerContext({ cert: fixtureText("server.pem"), key: fixtureText("server.key") });
  const [near, far] = await loopbackPair();
  await assert.rejects(createSslSocketStream(server as never, near as never), TypeError);
  assert.equal(server.closed, false, "the context was not closed");
  // The listener still accepts.
  const [accepted, conn] = await Promise.all([
    within(listener.accept(), 5000, "an accept after the refusal"),
    Deno.connect({ hostname: "127.0.0.1", port }),
  ]);
  accepted.close();
  conn.close();
  listener.close();
  near.close();
  far.close();
  server.close();
  objects.assertAllFreed();
});

Deno.test("a subclass whose constructor throws after super() does not leave its connection open", async () => {
  class Picky extends SocketStream {
    constructor(options: SocketStreamOptions) {
      super(options);
      throw new TypeError("Picky refuses");
    }
  }
  const [near, far] = await loopbackPair();
  await assert.rejects(makeInstance(Picky, { socket: near }), /Picky refuses/);
  assert.equal(await within(far.read(new Uint8Array(1)), 5000, "the end of the stream"), null);
  far.close();
});
