// Servers: startUpServer and listenSsl serving curl, openssl s_client,
// gnutls-cli and Deno.connectTls, each with the certificate for the name it
// asked for (SNI); bad clients dropped while good ones are served; graceful
// shutdown; SMTP-style STARTTLS with the ClientHello pipelined.
import assert from "node:assert/strict";
import {
  attachSsl,
  createSslClientContext,
  createSslServerContext,
  createSslSocketStream,
  listenSsl,
  makeInstance,
  openTcpStream,
  type SocketStream,
  type SslAbstractContext,
  SslCondition,
  SslHandshakeTimeout,
  startUpServer,
} from "../mod.ts";
import { hostMatches } from "../streams/_sni_routing.ts";
import {
  assertNoLiveObjects,
  decoder,
  encoder,
  fixture,
  identity,
  loopbackPair,
  Peer,
  readUntil,
  trustTestCa,
  within,
  wrapConn,
} from "./_helpers.ts";

function sniServerContext(): { context: SslAbstractContext; [Symbol.dispose](): void } {
  const wildcard = createSslServerContext(identity("wildcard"));
  const other = createSslServerContext(identity("wrong-host"));
  const context = createSslServerContext({
    ...identity("server"),
    sni: { "*.test.example": wildcard, "wrong.example": other },
  });
  return {
    context,
    [Symbol.dispose]() {
      context.close();
      wildcard.close();
      other.close();
    },
  };
}

/** An HTTP/1.0 answer naming the certificate the client got, over TLS. */
async function answerHttp(stream: SocketStream): Promise<void> {
  await readUntil(stream, "\r\n\r\n");
  const over = stream.ssl ? "tls" : "plain";
  await stream.write(
    encoder.encode(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nserved over ${over}\n`),
  );
  await stream.closeWrite();
}

Deno.test("hostMatches: exact names, and wildcards for exactly one label", () => {
  assert.ok(hostMatches("www.example.com", "WWW.Example.com"));
  assert.ok(hostMatches("*.example.com", "a.example.com"));
  assert.ok(!hostMatches("*.example.com", "example.com"));
  assert.ok(!hostMatches("*.example.com", "a.b.example.com"));
  assert.ok(!hostMatches("*.example.com", "aexample.com"));
});

/** Serves each connection an HTTP answer over TLS with the SNI contexts. */
async function serveHttp(stream: SocketStream): Promise<void> {
  try {
    await answerHttp(stream);
    await stream.read(new Uint8Array(1)).catch(() => null);
  } finally {
    await stream[Symbol.asyncDispose]();
  }
}

/** curl, s_client, gnutls-cli and Deno.connectTls, each asking for a name and checking the certificate it got. */
async function everyClient(port: number): Promise<void> {
  // curl asks for www.test.example and must get the wildcard certificate to verify it.
  const curl = await new Deno.Command("curl", {
    args: [
      "--silent",
      "--show-error",
      "--cacert",
      fixture("ca.pem"),
      "--resolve",
      `www.test.example:${port}:127.0.0.1`,
      `https://www.test.example:${port}/`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(curl.success, true, decoder.decode(curl.stderr));
  assert.match(decoder.decode(curl.stdout), /served over tls/);

  // s_client asking for wrong.example gets that certificate.
  {
    await using client = new Peer("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "wrong.example",
      "-CAfile",
      fixture("ca.pem"),
    ]);
    await client.waitFor(/subject=CN ?= ?wrong\.example/);
    await client.send("GET / HTTP/1.0\r\n\r\n");
    await client.waitFor(/served over tls/);
  }

  // gnutls-cli asking for api.test.example verifies the wildcard certificate.
  {
    await using client = new Peer("gnutls-cli", [
      "--x509cafile",
      fixture("ca.pem"),
      "--port",
      String(port),
      "--sni-hostname",
      "api.test.example",
      "--verify-hostname",
      "api.test.example",
      "127.0.0.1",
    ]);
    await client.waitFor(/Handshake was completed/);
    await client.send("GET / HTTP/1.0\r\n\r\n");
    await client.waitFor(/served over tls/);
  }

  // Deno asks for localhost and gets the default certificate.
  {
    const conn = await Deno.connectTls({
      hostname: "localhost",
      port,
      caCerts: [await Deno.readTextFile(fixture("ca.pem"))],
    });
    await conn.write(encoder.encode("GET / HTTP/1.0\r\n\r\n"));
    assert.match(await readUntil(conn, "served over"), /served over tls/);
    conn.close();
  }
}

Deno.test("startUpServer serves curl, s_client, gnutls-cli and Deno.connectTls, each with the certificate for its name", async () => {
  {
    using sni = sniServerContext();
    const stop = new AbortController();
    let announced: Deno.NetAddr | undefined;
    const listening = Promise.withResolvers<number>();
    const server = startUpServer({
      service: 0,
      address: "127.0.0.1",
      signal: stop.signal,
      announce: (addr) => {
        announced = addr;
        listening.resolve(addr.port);
      },
      function: async (conn) =>
        await serveHttp(
          await createSslSocketStream(conn, sni.context, { errorp: true, handshakeTimeout: 5000 }),
        ),
    });
    await everyClient(await listening.promise);
    assert.equal(announced?.hostname, "127.0.0.1");
    stop.abort();
    assert.deepEqual(await server, { served: 4, cut: 0 });
  }
  assertNoLiveObjects();
});

Deno.test("listenSsl serves curl, s_client, gnutls-cli and Deno.connectTls, each with the certificate for its name", async () => {
  {
    using sni = sniServerContext();
    const stop = new AbortController();
    const listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: sni.context, signal: stop.signal });
    const serving = (async () => {
      const handlers: Promise<void>[] = [];
      for await (const stream of listener) handlers.push(serveHttp(stream));
      await Promise.all(handlers);
    })();
    await everyClient(listener.addr.port);
    stop.abort();
    await serving;
    await listener[Symbol.asyncDispose]();
  }
  assertNoLiveObjects();
});

Deno.test("listenSsl serves 100 good clients in parallel while a garbage client, a stalled one and a reset one are dropped with typed errors", async () => {
  {
    using context = createSslServerContext(identity("server"));
    const errors: unknown[] = [];
    const listener = listenSsl({
      port: 0,
      hostname: "127.0.0.1",
      sslCtx: context,
      handshakeTimeout: 2000,
      onError: (error) => errors.push(error),
    });
    const serving = (async () => {
      const echoes: Promise<void>[] = [];
      for await (const stream of listener) {
        echoes.push((async () => {
          try {
            const line = await stream.readLine();
            await stream.write(encoder.encode(`echo ${line}\n`));
          } finally {
            await stream[Symbol.asyncDispose]();
          }
        })());
      }
      await Promise.all(echoes);
    })();
    const port = listener.addr.port;

    // The bad ones.
    const garbage = await Deno.connect({ hostname: "127.0.0.1", port });
    await garbage.write(encoder.encode("GET / HTTP/1.1\r\nHost: nope\r\n\r\n"));
    const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
    await stalled.write(new Uint8Array([0x16, 0x03, 0x01, 0x00]));
    const reset = await Deno.connect({ hostname: "127.0.0.1", port });
    await reset.write(new Uint8Array([0x16, 0x03, 0x01]));
    reset.close();

    // The good ones, sharing one client context (a symbol would load the trust store 100 times).
    using clientContext = createSslClientContext({ ca: await Deno.readTextFile(fixture("ca.pem")) });
    const clients = Array.from({ length: 100 }, async (_, i) => {
      await using stream = await openTcpStream("localhost", port, { sslCtx: clientContext });
      await stream.write(encoder.encode(`client ${i}\n`));
      return await stream.readLine();
    });
    const answers = await Promise.all(clients);
    assert.deepEqual(answers, Array.from({ length: 100 }, (_, i) => `echo client ${i}`));

    // The stalled one times out.
    for (let waited = 0; errors.length < 3 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(errors.length, 3, errors.map(String).join("\n"));
    assert.ok(errors.every((error) => error instanceof SslCondition), errors.map(String).join("\n"));
    assert.ok(errors.some((error) => error instanceof SslHandshakeTimeout));
    garbage.close();
    stalled.close();
    await listener[Symbol.asyncDispose]();
    await serving;
  }
  assertNoLiveObjects();
});

Deno.test("abort stops startUpServer; connections still open after the grace period are cut with close_notify", async () => {
  {
    using context = createSslServerContext(identity("server"));
    const stop = new AbortController();
    const listening = Promise.withResolvers<number>();
    const server = startUpServer({
      service: 0,
      address: "127.0.0.1",
      signal: stop.signal,
      gracePeriod: 200,
      announce: (addr) => listening.resolve(addr.port),
      function: async (conn) => {
        await using stream = await createSslSocketStream(conn, context, { errorp: true });
        // Waits for the client to finish, however long that takes.
        await stream.read(new Uint8Array(1)).catch(() => null);
      },
    });
    const port = await listening.promise;
    const lingering = await openTcpStream("localhost", port, {
      sslCtx: true,
      ctxConfigureCallback: trustTestCa,
    });
    const quick = await openTcpStream("localhost", port, { sslCtx: true, ctxConfigureCallback: trustTestCa });
    await quick.write(encoder.encode("x"));
    await quick[Symbol.asyncDispose]();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = performance.now();
    stop.abort();
    const summary = await within(server, 10_000, "the server to stop");
    const elapsed = performance.now() - stopped;
    assert.deepEqual(summary, { served: 2, cut: 1 });
    // Cut after the grace period: not at once, and not after the default 5 s.
    assert.ok(
      elapsed >= 190 && elapsed < 2500,
      `cut ${elapsed} ms after the abort, with a grace period of 200`,
    );
    // The cut client sees a clean close_notify, not a truncation.
    assert.equal(await lingering.read(new Uint8Array(1)), null);
    await lingering[Symbol.asyncDispose]();
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }), Deno.errors.ConnectionRefused);
  }
  assertNoLiveObjects();
});

Deno.test("createSslSocketStream resolves [null, condition] on failure and closes the socket; errorp throws", async () => {
  {
    using context = createSslServerContext(identity("server"));
    {
      const [client, server] = await loopbackPair();
      await client.write(encoder.encode("not TLS at all\r\n\r\n"));
      const [stream, condition] = await createSslSocketStream(server, context);
      assert.equal(stream, null);
      assert.ok(condition instanceof SslCondition);
      assert.equal(await client.read(new Uint8Array(100)).catch(() => null), null, "the socket was closed");
      client.close();
    }
    {
      const [client, server] = await loopbackPair();
      client.close();
      await assert.rejects(createSslSocketStream(server, context, { errorp: true }), SslCondition);
    }
    // A wrong argument closes the socket too: it was handed over with the call.
    const [a, b] = await loopbackPair();
    await assert.rejects(createSslSocketStream(a, null as never), TypeError);
    assert.equal(await within(b.read(new Uint8Array(1)), 5000, "the end of the stream"), null);
    b.close();
  }
  assertNoLiveObjects();
});

Deno.test("SMTP-style STARTTLS: the client's STARTTLS line and ClientHello in one write lose nothing", async () => {
  {
    using context = createSslServerContext(identity("server"));
    const [clientConn, serverConn] = await loopbackPair();

    // The client's transport sends "STARTTLS\r\n" together with the ClientHello that follows it,
    // and takes the server's plaintext "220" reply off the wire before TLS sees the bytes.
    let holdNext = false;
    let expectReply = false;
    let held: Uint8Array | null = null;
    let combined: Uint8Array | null = null;
    let reply: string | null = null;
    const pipelining = wrapConn(clientConn, {
      write: async (p) => {
        if (holdNext) {
          holdNext = false;
          expectReply = true;
          held = p.slice();
          return p.length;
        }
        if (held) {
          combined = new Uint8Array([...held, ...p]);
          held = null;
          for (let offset = 0; offset < combined.length;) {
            offset += await clientConn.write(combined.subarray(offset));
          }
          return p.length;
        }
        return await clientConn.write(p);
      },
      read: async (p) => {
        // The reply can be read before the combined write has gone out: the read is already waiting.
        if (expectReply && reply === null) {
          let seen = new Uint8Array(0);
          while (!decoder.decode(seen).includes("\r\n")) {
            const chunk = new Uint8Array(4096);
            const count = await clientConn.read(chunk);
            if (count === null) return null;
            seen = new Uint8Array([...seen, ...chunk.subarray(0, count)]);
          }
          const end = seen.indexOf(0x0a) + 1;
          reply = decoder.decode(seen.subarray(0, end - 2));
          const rest = seen.subarray(end);
          if (rest.length > 0) {
            p.set(rest);
            return rest.length;
          }
        }
        return await clientConn.read(p);
      },
    });

    const server = await makeInstance("socket-stream", { socket: serverConn });
    const serving = (async () => {
      await server.write(encoder.encode("220 ready\r\n"));
      assert.equal(await server.readLine(), "EHLO client");
      await server.write(encoder.encode("250 STARTTLS\r\n"));
      assert.equal(await server.readLine(), "STARTTLS");
      await server.write(encoder.encode("220 go ahead\r\n"));
      await attachSsl(server, { sslCtx: context });
      assert.equal(await server.readLine(), "EHLO again");
      await server.write(encoder.encode("250 secure\r\n"));
    })();

    const client = await makeInstance("socket-stream", { socket: pipelining });
    assert.equal(await client.readLine(), "220 ready");
    await client.write(encoder.encode("EHLO client\r\n"));
    assert.equal(await client.readLine(), "250 STARTTLS");
    holdNext = true;
    await client.write(encoder.encode("STARTTLS\r\n"));
    await attachSsl(client, {
      sslSide: "client",
      tlsextHostName: "localhost",
      ctxConfigureCallback: trustTestCa,
    });
    assert.equal(reply, "220 go ahead");
    const sent = combined as Uint8Array | null;
    assert.ok(sent, "STARTTLS and the ClientHello went out in one write");
    assert.equal(decoder.decode(sent.subarray(0, 10)), "STARTTLS\r\n");
    assert.equal(sent[10], 0x16, "a TLS handshake record follows in the same write");
    await client.write(encoder.encode("EHLO again\r\n"));
    assert.equal(await client.readLine(), "250 secure");
    await serving;
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  }
  assertNoLiveObjects();
});

Deno.test("readLine splits \\n and \\r\\n lines, returns the rest at the end, then null", async () => {
  const [a, b] = await loopbackPair();
  const stream = await makeInstance("socket-stream", { socket: a });
  await b.write(encoder.encode("one\r\ntwo\nthr"));
  await b.write(encoder.encode("ee\nlast"));
  b.close();
  assert.equal(await stream.readLine(), "one");
  assert.equal(await stream.readLine(), "two");
  assert.equal(await stream.readLine(), "three");
  assert.equal(await stream.readLine(), "last");
  assert.equal(await stream.readLine(), null);
  await stream[Symbol.asyncDispose]();
});

Deno.test("readLine with a maxLength refuses an endless line without losing it", async () => {
  const [a, b] = await loopbackPair();
  const stream = await makeInstance("socket-stream", { socket: a });
  await b.write(new Uint8Array(100).fill(0x41));
  await assert.rejects(stream.readLine({ maxLength: 10 }), /no line end within 10 bytes/);
  const kept = new Uint8Array(100);
  assert.equal(await stream.read(kept), 100);
  b.close();
  await stream[Symbol.asyncDispose]();
});
