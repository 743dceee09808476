// Every row of the seed's table (LispWorks User Guide 22.4): for each kind of
// sslCtx and each sslSide, what is made, which callbacks run with what, the
// state set, and what OpenSSL frees when the stream closes.
import assert from "node:assert/strict";
import {
  attachSsl,
  makeInstance,
  makeSslCtx,
  openTcpStream,
  SocketError,
  SocketStream,
  SslCondition,
  SslCtxPointer,
  sslNew,
  SslPointer,
} from "../mod.ts";
import { liveNativeObjects, loadOpenssl } from "../ffi/mod.ts";
import {
  addressOf,
  assertNoLiveObjects,
  decoder,
  echoOnce,
  encoder,
  FreeWatcher,
  listenLoopback,
  loopbackPair,
  readBytes,
  roundTrip,
  trustTestCa,
  useCertificate,
  within,
} from "./_helpers.ts";

const { libssl } = loadOpenssl();

/** A server stream made by makeInstance from a symbol, on the far end of `conn`. */
function serveOn(conn: Deno.TcpConn): Promise<SocketStream> {
  return makeInstance("socket-stream", {
    socket: conn,
    sslCtx: true,
    ctxConfigureCallback: (ctx) => useCertificate(ctx),
  });
}

Deno.test("sslCtx absent or null: makeInstance makes a plain stream and calls no callback", async () => {
  for (const sslCtx of [undefined, null]) {
    const [a, b] = await loopbackPair();
    let called = 0;
    const stream = await makeInstance("socket-stream", {
      socket: a,
      sslCtx,
      ctxConfigureCallback: () => called++,
      sslConfigureCallback: () => called++,
    });
    assert.equal(stream.ssl, null);
    assert.equal(stream.ctx, null);
    assert.equal(stream.protocol, null);
    assert.equal(called, 0);
    await stream.write(encoder.encode("plain"));
    assert.equal(decoder.decode(await readBytes(b, 5)), "plain");
    b.close();
    await stream[Symbol.asyncDispose]();
  }
  assertNoLiveObjects();
});

Deno.test("sslCtx absent: openTcpStream makes a plain stream", async () => {
  const { listener, port } = listenLoopback();
  const accepted = listener.accept();
  const stream = await openTcpStream("127.0.0.1", port);
  const far = await accepted;
  assert.equal(stream.ssl, null);
  await far.write(encoder.encode("hi"));
  assert.equal(decoder.decode(await readBytes(stream, 2)), "hi");
  far.close();
  listener.close();
  await stream[Symbol.asyncDispose]();
});

for (const symbol of [true, "default", "v23", "tls-v1-2", "tls-v1-3"] as const) {
  Deno.test(`sslCtx ${JSON.stringify(symbol)}: a new SSL_CTX and SSL, both callbacks in order, both freed at close`, async () => {
    using watcher = new FreeWatcher();
    const [clientConn, serverConn] = await loopbackPair();
    const calls: string[] = [];
    let ctxSeen: SslCtxPointer | undefined;
    let sslSeen: SslPointer | undefined;
    let ctxOfSslSeen: bigint | undefined;
    const serving = makeInstance("socket-stream", {
      socket: serverConn,
      sslCtx: symbol,
      ctxConfigureCallback: (ctx) => {
        calls.push("ctx");
        assert.ok(ctx instanceof SslCtxPointer);
        useCertificate(ctx);
      },
    });
    const client = await makeInstance("socket-stream", {
      socket: clientConn,
      sslCtx: symbol,
      sslSide: "client",
      tlsextHostName: "localhost",
      ctxConfigureCallback: (ctx) => {
        calls.push("ctx");
        assert.ok(ctx instanceof SslCtxPointer);
        ctxSeen = ctx;
        trustTestCa(ctx);
      },
      sslConfigureCallback: (ssl) => {
        calls.push("ssl");
        assert.ok(ssl instanceof SslPointer);
        sslSeen = ssl;
        ctxOfSslSeen = Deno.UnsafePointer.value(libssl.SSL_get_SSL_CTX(ssl.pointer));
      },
    });
    const server = await serving;
    assert.deepEqual(calls, ["ctx", "ctx", "ssl"]);
    assert.equal(client.ssl, sslSeen, "the stream uses the SSL given to the callback");
    assert.equal(client.ctx, ctxSeen, "the stream uses the SSL_CTX given to the callback");
    assert.equal(ctxOfSslSeen, addressOf(ctxSeen!), "the SSL was made from that SSL_CTX");
    assert.equal(libssl.SSL_is_server(client.ssl!.pointer), 0, "client: connect state");
    assert.equal(libssl.SSL_is_server(server.ssl!.pointer), 1, "server (the default side): accept state");
    assert.equal(client.protocol, symbol === "tls-v1-2" ? "TLSv1.2" : "TLSv1.3");
    const echoing = echoOnce(server);
    assert.equal(await roundTrip(client, "ping"), "ping");
    await echoing;

    const sslAddress = addressOf(client.ssl!);
    const ctxAddress = addressOf(client.ctx!);
    assert.deepEqual(liveNativeObjects(), { sslCtx: 2, ssl: 2 });
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
    assert.ok(watcher.sawFreed(sslAddress, "ssl"), "OpenSSL freed the SSL");
    assert.ok(watcher.sawFreed(ctxAddress, "ctx"), "OpenSSL freed the SSL_CTX");
    assert.equal(sslSeen!.freed, true);
    assert.throws(() => sslSeen!.pointer, TypeError);
    assert.equal(client.ssl, null);
    assertNoLiveObjects();
  });
}

Deno.test("sslCtx an SslCtxPointer: a new SSL only, ctxConfigureCallback ignored, the SSL_CTX never freed", async () => {
  using watcher = new FreeWatcher();
  const ctx = makeSslCtx({ sslSide: "client" });
  trustTestCa(ctx);
  const ctxAddress = addressOf(ctx);
  for (let round = 0; round < 2; round++) {
    const [clientConn, serverConn] = await loopbackPair();
    const serving = serveOn(serverConn);
    let ctxCalls = 0;
    let sslSeen: SslPointer | undefined;
    const client = await makeInstance("socket-stream", {
      socket: clientConn,
      sslCtx: ctx,
      sslSide: "client",
      tlsextHostName: "localhost",
      ctxConfigureCallback: () => ctxCalls++,
      sslConfigureCallback: (ssl) => {
        sslSeen = ssl;
        assert.equal(Deno.UnsafePointer.value(libssl.SSL_get_SSL_CTX(ssl.pointer)), ctxAddress);
      },
    });
    const server = await serving;
    assert.equal(ctxCalls, 0, "ctxConfigureCallback is ignored");
    assert.equal(client.ssl, sslSeen, "sslConfigureCallback got the stream's SSL");
    assert.equal(client.ctx, ctx);
    assert.equal(libssl.SSL_is_server(client.ssl!.pointer), 0);
    const echoing = echoOnce(server);
    assert.equal(await roundTrip(client, `round ${round}`), `round ${round}`);
    await echoing;
    const sslAddress = addressOf(client.ssl!);
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
    assert.ok(watcher.sawFreed(sslAddress, "ssl"), "the SSL the stream made is freed");
    assert.ok(!watcher.sawFreed(ctxAddress, "ctx"), "the caller's SSL_CTX is not freed");
    assert.equal(ctx.freed, false);
  }
  // Still the caller's, still usable after both streams closed.
  const ssl = sslNew(ctx);
  ssl.destroy();
  ctx.destroy();
  assert.ok(watcher.sawFreed(ctxAddress, "ctx"));
  assertNoLiveObjects();
});

Deno.test("sslCtx an SslPointer: nothing made, no callback, no state set, sslSide ignored, nothing freed", async () => {
  using watcher = new FreeWatcher();
  const ctx = makeSslCtx({ sslSide: "client" });
  trustTestCa(ctx);
  const ssl = sslNew(ctx);
  const sslAddress = addressOf(ssl);
  const [clientConn, serverConn] = await loopbackPair();
  const serving = serveOn(serverConn);
  let calls = 0;
  const before = liveNativeObjects();
  const client = await makeInstance("socket-stream", {
    socket: clientConn,
    sslCtx: ssl,
    sslSide: "server", // ignored: the caller decides the state
    ctxConfigureCallback: () => calls++,
    sslConfigureCallback: () => calls++,
  });
  assert.equal(calls, 0, "neither callback runs");
  assert.deepEqual(liveNativeObjects(), before, "nothing is made");
  assert.equal(client.ssl, ssl);
  assert.equal(client.ctx, ctx, "ctx is the SSL's own SSL_CTX");
  assert.equal(client.protocol, null, "no state was set, so no handshake ran");
  // The caller sets the state; the handshake then runs on demand.
  libssl.SSL_set_connect_state(ssl.pointer);
  const info = await client.handshake();
  assert.equal(info.protocol, "TLSv1.3");
  const server = await serving;
  const echoing = echoOnce(server);
  assert.equal(await roundTrip(client, "mine"), "mine");
  await echoing;
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assert.ok(!watcher.sawFreed(sslAddress, "ssl"), "the caller's SSL is not freed");
  assert.equal(ssl.freed, false);
  ssl.destroy();
  assert.ok(watcher.sawFreed(sslAddress, "ssl"));
  ctx.destroy();
  assertNoLiveObjects();
});

Deno.test("sslCtx an SslPointer made by the caller's own FFI (SslPointer.from) works and is not freed", async () => {
  const ctx = makeSslCtx({ sslSide: "client" });
  trustTestCa(ctx);
  const raw = libssl.SSL_new(ctx.pointer);
  const ssl = SslPointer.from(raw);
  libssl.SSL_set_connect_state(raw);
  const [clientConn, serverConn] = await loopbackPair();
  const serving = serveOn(serverConn);
  const client = await makeInstance("socket-stream", { socket: clientConn, sslCtx: ssl });
  await client.handshake();
  const server = await serving;
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assert.equal(ssl.freed, false);
  libssl.SSL_free(raw);
  ctx.destroy();
  assertNoLiveObjects();
});

Deno.test('sslSide "both": TLS_method, no state set, so attachSsl does not handshake', async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const serving = serveOn(serverConn);
  let method: Deno.PointerValue = null;
  const client = await makeInstance("socket-stream", {
    socket: clientConn,
    sslCtx: true,
    sslSide: "both",
    tlsextHostName: "localhost", // applied once the SSL turns out to be a client
    ctxConfigureCallback: (ctx) => {
      method = libssl.SSL_CTX_get_ssl_method(ctx.pointer);
      trustTestCa(ctx);
    },
  });
  assert.equal(Deno.UnsafePointer.value(method), Deno.UnsafePointer.value(libssl.TLS_method()));
  assert.equal(client.protocol, null);
  libssl.SSL_set_connect_state(client.ssl!.pointer);
  // The first write runs the handshake.
  await client.write(encoder.encode("x"));
  assert.equal(client.protocol, "TLSv1.3");
  const server = await serving;
  assert.equal(decoder.decode(await readBytes(server, 1)), "x");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("openTcpStream ignores a stray sslSide and is always the client", async () => {
  const { listener, port } = listenLoopback();
  const serving = listener.accept().then(serveOn);
  const client = await openTcpStream(
    "localhost",
    port,
    {
      sslCtx: true,
      sslSide: "server",
      ctxConfigureCallback: (ctx) => trustTestCa(ctx),
    } as Parameters<typeof openTcpStream>[2],
  );
  assert.equal(libssl.SSL_is_server(client.ssl!.pointer), 0);
  assert.equal(client.protocol, "TLSv1.3");
  const server = await serving;
  listener.close();
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("a throwing ctxConfigureCallback frees what was made and closes the stream", async () => {
  const [clientConn, serverConn] = await loopbackPair();
  await assert.rejects(
    makeInstance("socket-stream", {
      socket: clientConn,
      sslCtx: true,
      sslSide: "client",
      ctxConfigureCallback: () => {
        throw new Error("configuration failed");
      },
    }),
    /configuration failed/,
  );
  assertNoLiveObjects();
  // The stream owned the connection and closed it: the far end sees the end.
  assert.equal(await serverConn.read(new Uint8Array(1)), null);
  serverConn.close();
});

Deno.test("attachSsl on a stream that has SSL throws SocketError and changes nothing", async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const serving = serveOn(serverConn);
  const client = await makeInstance("socket-stream", {
    socket: clientConn,
    sslCtx: true,
    sslSide: "client",
    tlsextHostName: "localhost",
    ctxConfigureCallback: trustTestCa,
  });
  const server = await serving;
  const ssl = client.ssl;
  await assert.rejects(attachSsl(client, { sslSide: "client" }), SocketError);
  assert.equal(client.ssl, ssl);
  const echoing = echoOnce(server);
  assert.equal(await roundTrip(client, "still fine"), "still fine");
  await echoing;
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test('attachSsl with "v2" or "v3" throws SslCondition before allocating, and the stream stays usable', async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const stream = new SocketStream({ socket: clientConn });
  for (const protocol of ["v2", "v3"] as const) {
    let called = false;
    await assert.rejects(
      attachSsl(stream, { sslCtx: protocol, ctxConfigureCallback: () => called = true }),
      (error: unknown) => {
        assert.ok(error instanceof SslCondition);
        assert.match(error.message, protocol === "v2" ? /SSLv2/ : /SSLv3/);
        assert.match(error.message, /OpenSSL 3\./);
        return true;
      },
    );
    assert.equal(called, false);
    assertNoLiveObjects();
  }
  await stream.write(encoder.encode("ok"));
  assert.equal(decoder.decode(await readBytes(serverConn, 2)), "ok");
  serverConn.close();
  await stream[Symbol.asyncDispose]();
});

Deno.test("a freed SslCtxPointer passed as sslCtx is a TypeError and never reaches OpenSSL", async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const stream = new SocketStream({ socket: clientConn });
  const ctx = makeSslCtx();
  ctx.destroy();
  await assert.rejects(attachSsl(stream, { sslCtx: ctx }), TypeError);
  const otherCtx = makeSslCtx();
  const ssl = sslNew(otherCtx);
  ssl.destroy();
  otherCtx.destroy();
  await assert.rejects(attachSsl(stream, { sslCtx: ssl }), TypeError);
  assert.equal(stream.ssl, null);
  serverConn.close();
  await stream[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("makeInstance takes SocketStream or a subclass as the class, and rejects anything else", async () => {
  class Tagged extends SocketStream {
    tag = "mine";
  }
  const [a, b] = await loopbackPair();
  const stream = await makeInstance(Tagged, { socket: a });
  assert.ok(stream instanceof Tagged);
  assert.equal(stream.tag, "mine");
  // Refused, makeInstance still closes the connection it was handed: the stream over the other end sees the end.
  await assert.rejects(makeInstance("tcp-stream" as "socket-stream", { socket: b }), TypeError);
  assert.equal(await within(stream.read(new Uint8Array(1)), 5000, "the end of the stream"), null);
  await assert.rejects(makeInstance("socket-stream", { socket: {} as unknown as Deno.Conn }), TypeError);
  await stream[Symbol.asyncDispose]();
});

Deno.test("one SslPointer cannot drive two open streams", async () => {
  const ctx = makeSslCtx({ sslSide: "client" });
  const ssl = sslNew(ctx);
  const [a, b] = await loopbackPair();
  const [c, d] = await loopbackPair();
  const first = await makeInstance("socket-stream", { socket: a, sslCtx: ssl });
  await assert.rejects(makeInstance("socket-stream", { socket: c, sslCtx: ssl }), TypeError);
  await first[Symbol.asyncDispose]();
  b.close();
  d.close();
  ssl.destroy();
  ctx.destroy();
  assertNoLiveObjects();
});

Deno.test("a caller who frees their SslPointer under an open stream gets TypeError, never a crash", async () => {
  const ctx = makeSslCtx({ sslSide: "client" });
  trustTestCa(ctx);
  const ssl = sslNew(ctx);
  libssl.SSL_set_connect_state(ssl.pointer);
  const [clientConn, serverConn] = await loopbackPair();
  const serving = serveOn(serverConn);
  const client = await makeInstance("socket-stream", { socket: clientConn, sslCtx: ssl });
  await client.handshake();
  const server = await serving;
  assert.throws(() => ssl.destroy(), TypeError, "an SSL an open stream drives cannot be freed");
  assert.throws(() => ssl[Symbol.dispose](), TypeError);
  assert.equal(ssl.freed, false);
  const echoing = echoOnce(server);
  assert.equal(await roundTrip(client, "alive"), "alive", "the stream still works");
  await echoing;
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  ssl.destroy();
  ctx.destroy();
  assertNoLiveObjects();
});

Deno.test("write after closeWrite is BrokenPipe, and reading goes on", async () => {
  const [clientConn, serverConn] = await loopbackPair();
  const serving = serveOn(serverConn);
  const client = await makeInstance("socket-stream", {
    socket: clientConn,
    sslCtx: true,
    sslSide: "client",
    tlsextHostName: "localhost",
    ctxConfigureCallback: trustTestCa,
  });
  const server = await serving;
  await client.closeWrite();
  await assert.rejects(client.write(encoder.encode("late")), Deno.errors.BrokenPipe);
  assert.equal(await server.read(new Uint8Array(1)), null);
  await server.write(encoder.encode("still here"));
  assert.equal(decoder.decode(await readBytes(client, 10)), "still here");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});
