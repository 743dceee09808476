// After the handshake: TLS 1.3 key updates both ways and post-handshake client authentication, TLS 1.2
// renegotiation by a server (and a client's refusal unless allowRenegotiation), channel bindings checked
// against what openssl s_client, openssl x509 and Node's tls derive, and the message callback and trace.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  SocketError,
  SocketStream,
  SslCondition,
  SslVerificationFailure,
} from "../mod.ts";
import {
  decoder,
  echoOnce,
  encoder,
  fixture,
  identity,
  Peer,
  rejection,
  runSClient,
  serveOnce,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";
import { loadOpenssl } from "../ffi/mod.ts";
import { sslMessageWatchers } from "../ffi/_messages.ts";

/** A module client and server connected over loopback, with the server's end. */
async function pair(
  clientOptions: Parameters<typeof createSslClientContext>[0],
  serverOptions: Parameters<typeof createSslServerContext>[0],
): Promise<{ client: SocketStream; server: SocketStream } & AsyncDisposable> {
  const serverContext = createSslServerContext(serverOptions);
  const clientContext = createSslClientContext(clientOptions);
  const listening = serveOnce(serverContext);
  try {
    const client = await within(
      openTcpStream("localhost", listening.port, { sslCtx: clientContext }),
      5000,
      "connect",
    );
    const server = await within(listening.served, 5000, "the server's handshake");
    if (server instanceof Error) throw server;
    return {
      client,
      server,
      async [Symbol.asyncDispose]() {
        await client[Symbol.asyncDispose]();
        await listening[Symbol.asyncDispose]();
        serverContext.close();
        clientContext.close();
      },
    };
  } catch (error) {
    await listening[Symbol.asyncDispose]();
    serverContext.close();
    clientContext.close();
    throw error;
  }
}

/** Writes `text` on `from` and checks `to` reads it. */
async function flows(from: SocketStream, to: SocketStream, text: string): Promise<void> {
  await from.write(encoder.encode(text));
  const buffer = new Uint8Array(text.length);
  let filled = 0;
  while (filled < text.length) {
    const count = await within(to.read(buffer.subarray(filled)), 5000, `reading ${JSON.stringify(text)}`);
    assert.notEqual(count, null, "the stream ended");
    filled += count!;
  }
  assert.equal(decoder.decode(buffer), text);
}

// openssl s_client to the module's server on `port`, trusting the test CA, with `extra` arguments.
function sClient(port: number, ...extra: string[]): Peer {
  return new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-CAfile",
    fixture("ca.pem"),
    ...extra,
  ]);
}

Deno.test("keyUpdate: s_server sees the KeyUpdate; with requestPeer it answers with its own; data flows on", async () => {
  const { peer, port } = await startOpensslServer(["-msg"]);
  await using _peer = peer;
  using context = createSslClientContext(trustCa);
  await using stream = await within(openTcpStream("localhost", port, { sslCtx: context }), 5000, "connect");
  await stream.keyUpdate();
  await peer.waitFor(/<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate/);
  await stream.write(encoder.encode("after update\n"));
  await peer.waitFor(/after update/);
  await stream.keyUpdate({ requestPeer: true });
  await stream.write(encoder.encode("again\n"));
  await peer.waitFor(/again/);
  // Asked to, s_server updates its own keys before the next data it sends.
  await peer.send("from the server\n");
  await peer.waitFor(/>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate/);
  const buffer = new Uint8Array(64);
  const count = await within(stream.read(buffer), 5000, "the server's data after its key update");
  assert.match(decoder.decode(buffer.subarray(0, count ?? 0)), /from the server/);
});

Deno.test("a peer's key update (s_server's k and K commands) is followed, and answered when asked", async () => {
  const { peer, port } = await startOpensslServer(["-msg"]);
  await using _peer = peer;
  using context = createSslClientContext(trustCa);
  await using stream = await within(openTcpStream("localhost", port, { sslCtx: context }), 5000, "connect");
  for (const [round, command] of ["k", "K"].entries()) {
    await peer.send(`${command}\n`);
    // The command alone on its line, or s_server sends it as data: wait until it has sent its KeyUpdate.
    await peer.waitFor(
      new RegExp(`(>>> TLS 1\\.3, Handshake \\[length 0005\\], KeyUpdate[\\s\\S]*){${round + 1}}`),
    );
    await peer.send(`data after ${command}\n`);
    const buffer = new Uint8Array(64);
    const count = await within(stream.read(buffer), 5000, `data after ${command}`);
    assert.match(decoder.decode(buffer.subarray(0, count ?? 0)), new RegExp(`data after ${command}`));
  }
  // Asked to (K), the module's client sent a KeyUpdate of its own, seen by s_server when it reads.
  await stream.write(encoder.encode("ping\n"));
  await peer.waitFor(/<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate/);
});

Deno.test("keyUpdate between two module ends keeps every byte, and is refused at TLS 1.2", async () => {
  {
    await using both = await pair(trustCa, identity("server"));
    for (let round = 0; round < 3; round++) {
      await both.client.keyUpdate({ requestPeer: round % 2 === 0 });
      await flows(both.client, both.server, `client round ${round}`);
      await both.server.keyUpdate({ requestPeer: true });
      await flows(both.server, both.client, `server round ${round}`);
    }
  }
  await using old = await pair({ ...trustCa, maxProtocolVersion: "tls-v1-2" }, identity("server"));
  await assert.rejects(
    old.client.keyUpdate(),
    (error: Error) => error instanceof SocketError && /TLS 1\.3/.test(error.message),
  );
  await assert.rejects(old.client.keyUpdate({ requestPeer: "yes" as never }), TypeError);
});

Deno.test("renegotiate: s_client goes through it (a second ClientHello), a pending read keeps its data", async () => {
  using context = createSslServerContext({ ...identity("server"), maxProtocolVersion: "tls-v1-2" });
  await using server = serveOnce(context);
  const client = sClient(server.port, "-msg");
  await using _client = client;
  const stream = await within(server.served, 5000, "the server's handshake");
  assert.ok(stream instanceof SocketStream, String(stream));
  const buffer = new Uint8Array(64);
  const reading = stream.read(buffer).catch((error) => error as Error);
  await within(stream.renegotiate({ timeoutMs: 5000 }), 6000, "the renegotiation");
  // The first ClientHello is labelled TLS 1.3 (the version it offers), the second TLS 1.2.
  const hellos = await client.waitFor(
    /(>>> TLS 1\.[23], Handshake \[length [0-9a-f]+\], ClientHello[\s\S]*){2}/,
  );
  assert.ok(hellos);
  await client.send("after renegotiation\n");
  const count = await within(reading, 5000, "the pending read");
  assert.equal(typeof count, "number", String(count));
  assert.match(decoder.decode(buffer.subarray(0, count as number)), /after renegotiation/);
});

Deno.test("a module client refuses renegotiation unless allowRenegotiation; renegotiate is for TLS 1.2 servers", async () => {
  const server = { ...identity("server"), maxProtocolVersion: "tls-v1-2" as const };
  {
    await using both = await pair({ ...trustCa, allowRenegotiation: true }, server);
    const reading = both.client.read(new Uint8Array(16));
    await within(both.server.renegotiate(), 5000, "the renegotiation");
    await both.server.write(encoder.encode("ok"));
    assert.equal(await within(reading, 5000, "the client's read"), 2);
  }
  {
    await using both = await pair(trustCa, server);
    const reading = both.client.read(new Uint8Array(16)).then(() => null, (error) => error as Error);
    const refused = await within(
      both.server.renegotiate().then(() => null, (error) => error as Error),
      5000,
      "refusal",
    );
    assert.ok(
      refused instanceof SslCondition && /refused \(by the peer\)/.test(refused.message),
      String(refused),
    );
    const clientSide = await within(reading, 5000, "the client's read");
    assert.ok(
      clientSide instanceof SslCondition && /allowRenegotiation: true/.test(clientSide.message),
      String(clientSide),
    );
  }
  await using both = await pair(trustCa, identity("server"));
  await assert.rejects(
    both.server.renegotiate(),
    (error: Error) => error instanceof SocketError && /TLS 1\.2/.test(error.message),
  );
  await assert.rejects(
    both.client.renegotiate(),
    (error: Error) => error instanceof SocketError && /server/.test(error.message),
  );
});

Deno.test("requestClientCertificate: s_client -enable_pha answers with its certificate; without it, a clear refusal", async () => {
  using context = createSslServerContext({ ...identity("server"), ...trustCa });
  for (const pha of [true, false]) {
    await using server = serveOnce(context);
    const client = sClient(
      server.port,
      "-cert",
      fixture("client.pem"),
      "-key",
      fixture("client.key"),
      ...(pha ? ["-enable_pha"] : []),
    );
    await using _client = client;
    const stream = await within(server.served, 5000, "the server's handshake");
    assert.ok(stream instanceof SocketStream, String(stream));
    assert.equal(stream.peerCertificate(), null, "no certificate in the handshake");
    const asking = stream.requestClientCertificate({ timeoutMs: 5000 });
    if (pha) {
      // s_client answers when it reads: give it something to read.
      await stream.write(encoder.encode("hello\n"));
      const certificate = await within(asking, 6000, "the client's certificate");
      assert.equal(certificate.subject, "CN=test client");
      assert.equal(stream.peerCertificate()?.subject, "CN=test client");
    } else {
      await assert.rejects(asking, /did not offer post-handshake authentication/);
    }
  }
});

Deno.test("requestClientCertificate between module ends: no certificate, an untrusted one, a pending read, wrong uses", async () => {
  const server = { ...identity("server"), ...trustCa };
  {
    // No certificate to give: refused, and the connection goes on.
    await using both = await pair({ ...trustCa, postHandshakeAuth: true }, server);
    const reading = both.client.read(new Uint8Array(16));
    await assert.rejects(
      within(both.server.requestClientCertificate(), 5000, "the answer"),
      /answered without a certificate/,
    );
    await both.server.write(encoder.encode("still"));
    assert.equal(await within(reading, 5000, "the client's read"), 5);
    await flows(both.client, both.server, "and back");
  }
  {
    // A certificate the server does not trust fails the connection.
    await using both = await pair(
      { ...trustCa, ...identity("untrusted-client"), postHandshakeAuth: true },
      server,
    );
    const reading = both.client.read(new Uint8Array(16)).catch((error) => error);
    await assert.rejects(
      within(both.server.requestClientCertificate(), 5000, "the answer"),
      SslVerificationFailure,
    );
    assert.ok((await within(reading, 5000, "the client's read")) instanceof SslCondition);
  }
  {
    // The server's own pending read drives the exchange and keeps the client's data.
    await using both = await pair({ ...trustCa, ...identity("client"), postHandshakeAuth: true }, server);
    const serverBuffer = new Uint8Array(32);
    const serverReading = both.server.read(serverBuffer);
    const clientReading = both.client.read(new Uint8Array(16));
    const asking = both.server.requestClientCertificate({ timeoutMs: 5000 });
    const certificate = await within(asking, 6000, "the client's certificate");
    assert.equal(certificate.subject, "CN=test client");
    await both.client.write(encoder.encode("data after"));
    const count = await within(serverReading, 5000, "the server's pending read");
    assert.equal(decoder.decode(serverBuffer.subarray(0, count ?? 0)), "data after");
    await both.server.write(encoder.encode("x"));
    await within(clientReading, 5000, "the client's read");
  }
  {
    await using both = await pair({ ...trustCa, postHandshakeAuth: true }, identity("server"));
    await assert.rejects(
      both.server.requestClientCertificate(),
      (error: Error) => error instanceof TypeError && /needs ca/.test(error.message),
    );
    await assert.rejects(both.client.requestClientCertificate(), SocketError);
  }
  await using old = await pair({ ...trustCa, maxProtocolVersion: "tls-v1-2" }, server);
  await assert.rejects(
    old.server.requestClientCertificate(),
    (error: Error) => error instanceof SocketError && /TLS 1\.3/.test(error.message),
  );
});

Deno.test("requestClientCertificate leaves no message watcher behind; the context's onMessage goes on", async () => {
  const seen: string[] = [];
  const server = {
    ...identity("server"),
    ...trustCa,
    onMessage: (direction: string, contentType: number) => seen.push(`${direction} ${contentType}`),
  };
  await using both = await pair({ ...trustCa, ...identity("client"), postHandshakeAuth: true }, server);
  const clientReading = both.client.read(new Uint8Array(16));
  const certificate = await within(both.server.requestClientCertificate(), 5000, "the client's certificate");
  assert.equal(certificate.subject, "CN=test client");
  assert.equal(sslMessageWatchers(), 0, "the SSL's own watcher was taken off");
  // Messages after the request still reach the context's observer (the SSL went back to its callback).
  seen.length = 0;
  await within(both.server.keyUpdate(), 5000, "the key update");
  await both.server.write(encoder.encode("x"));
  await within(clientReading, 5000, "the client's read");
  assert.ok(seen.includes("sent 22"), `the server's KeyUpdate in ${seen.join(", ")}`);
});

Deno.test("requestClientCertificate completes though the context's onMessage throws on the client's answer", async () => {
  const server = {
    ...identity("server"),
    ...trustCa,
    onMessage: (_direction: string, _type: number, handshakeType: number | null) => {
      if (handshakeType === 20) throw new Error("a buggy observer");
    },
  };
  await using both = await pair({ ...trustCa, ...identity("client"), postHandshakeAuth: true }, server);
  const clientReading = both.client.read(new Uint8Array(16));
  const certificate = await within(both.server.requestClientCertificate(), 5000, "the client's certificate");
  assert.equal(certificate.subject, "CN=test client");
  await both.server.write(encoder.encode("x"));
  assert.equal(await within(clientReading, 5000, "the client's read"), 1);
});

Deno.test("a second requestClientCertificate while one waits is refused with a clear error", async () => {
  const server = { ...identity("server"), ...trustCa };
  await using both = await pair({ ...trustCa, ...identity("client"), postHandshakeAuth: true }, server);
  const clientReading = both.client.read(new Uint8Array(16));
  const first = both.server.requestClientCertificate();
  const second = await rejection(both.server.requestClientCertificate(), 5000, "the second request");
  assert.ok(second instanceof SocketError && /already waiting/.test(second.message), String(second));
  assert.equal((await within(first, 5000, "the first request")).subject, "CN=test client");
  await both.server.write(encoder.encode("x"));
  await within(clientReading, 5000, "the client's read");
});

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

Deno.test("channelBinding tls-exporter matches s_client -keymatexport; tls-server-end-point matches openssl x509", async () => {
  for (const [cert, version] of [["server", "-tls1_3"], ["rsa-server", "-tls1_2"]]) {
    using context = createSslServerContext(identity(cert));
    await using server = serveOnce(context);
    const serving = server.served.then(async (stream) => {
      if (stream instanceof Error) throw stream;
      const bindings = {
        exporter: hex(stream.channelBinding("tls-exporter")),
        endPoint: hex(stream.channelBinding("tls-server-end-point")),
      };
      await echoOnce(stream);
      await stream.close();
      return bindings;
    });
    const { code, output } = await runSClient(server.port, [
      "-servername",
      "localhost",
      version,
      "-keymatexport",
      "EXPORTER-Channel-Binding",
      "-keymatexportlen",
      "32",
      "-ign_eof",
    ], "x\n");
    assert.equal(code, 0, output);
    const bindings = await within(serving, 5000, "the server's bindings");
    const exported = output.match(/Keying material: ([0-9A-F]+)/)?.[1]?.toLowerCase();
    assert.equal(bindings.exporter, exported, `${cert}: tls-exporter`);
    const fingerprint = new Deno.Command("openssl", {
      args: ["x509", "-in", fixture(`${cert}.pem`), "-noout", "-fingerprint", "-sha256"],
      stdout: "piped",
    }).outputSync();
    const expected = decoder.decode(fingerprint.stdout).split("=")[1].trim().replaceAll(":", "")
      .toLowerCase();
    assert.equal(bindings.endPoint, expected, `${cert}: tls-server-end-point`);
  }
});

Deno.test("channelBinding tls-unique matches Node's getPeerFinished at TLS 1.2, and is refused at TLS 1.3", async () => {
  const script = `
    const tls = require("node:tls");
    const fs = require("node:fs");
    const server = tls.createServer({
      cert: fs.readFileSync(${JSON.stringify(fixture("server.pem"))}),
      key: fs.readFileSync(${JSON.stringify(fixture("server.key"))}),
      maxVersion: "TLSv1.2",
    }, (socket) => {
      console.log("unique " + socket.getPeerFinished().toString("hex"));
      socket.end();
      server.close();
    });
    server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
  `;
  const node = new Peer("node", ["-e", script]);
  await using _node = node;
  const [, port] = await node.waitFor(/port (\d+)/);
  using context = createSslClientContext(trustCa);
  const stream = await within(openTcpStream("localhost", Number(port), { sslCtx: context }), 5000, "connect");
  const unique = hex(stream.channelBinding("tls-unique"));
  const [, nodeUnique] = await node.waitFor(/unique ([0-9a-f]+)/);
  assert.equal(unique, nodeUnique);
  assert.equal(unique.length, 24, "12 bytes of Finished");
  await stream.close();
  await using tls13 = await pair(trustCa, identity("server"));
  assert.throws(() => tls13.client.channelBinding("tls-unique"), /not defined for TLS 1\.3/);
  assert.equal(
    hex(tls13.client.channelBinding("tls-exporter")),
    hex(tls13.server.channelBinding("tls-exporter")),
  );
  assert.throws(() => tls13.client.channelBinding("tls-something" as never), TypeError);
});

Deno.test("onMessage sees the handshake both ways; trace prints it to stderr; a throwing observer changes nothing", async () => {
  const messages: string[] = [];
  {
    await using both = await pair(
      {
        ...trustCa,
        onMessage: (direction, contentType, handshakeType) => {
          messages.push(`${direction} ${contentType} ${handshakeType}`);
          throw new Error("a buggy observer");
        },
      },
      identity("server"),
    );
    await flows(both.client, both.server, "observed");
  }
  for (
    const expected of [
      "sent 22 1",
      "received 22 2",
      "received 22 8",
      "received 22 11",
      "received 22 20",
      "sent 22 20",
    ]
  ) {
    assert.ok(messages.includes(expected), `${expected} in ${messages.join(", ")}`);
  }
  const script = `
    import { createSslClientContext, createSslServerContext, openTcpStream } from ${
    JSON.stringify(new URL("../mod.ts", import.meta.url).href)
  };
    import { identity, serveOnce, fixtureText } from ${
    JSON.stringify(new URL("./_helpers.ts", import.meta.url).href)
  };
    const server = serveOnce(createSslServerContext(identity("server")));
    const stream = await openTcpStream("localhost", server.port, { sslCtx: createSslClientContext({ ca: fixtureText("ca.pem"), trace: true }) });
    await stream.close();
    await server[Symbol.asyncDispose]();
    Deno.exit(0);
  `;
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = decoder.decode(child.stderr);
  assert.equal(child.code, 0, stderr);
  assert.match(stderr, /\[tls [0-9a-f]+\] -> Handshake ClientHello \(\d+ bytes\)/);
  assert.match(stderr, /<- Handshake Certificate \(\d+ bytes\)/);
  assert.match(stderr, /-> Handshake Finished/);
});

Deno.test("review: tls-server-end-point is refused by a server on a resumed or PSK session, never a wrong hash", async () => {
  using server = createSslServerContext(identity("server"));
  using client = createSslClientContext(trustCa);
  await using listening = serveOnce(server);
  const first = await within(openTcpStream("localhost", listening.port, { sslCtx: client }), 5000, "connect");
  const served = await within(listening.served, 5000, "the server");
  assert.ok(served instanceof SocketStream, String(served));
  assert.equal(
    hex(first.channelBinding("tls-server-end-point")),
    hex(served.channelBinding("tls-server-end-point")),
  );
  await flows(served, first, "ticket");
  const session = first.session() ?? undefined;
  await first.close();
  await using again = serveOnce(server);
  const second = await within(
    openTcpStream("localhost", again.port, { sslCtx: client, session }),
    5000,
    "reconnect",
  );
  const resumed = await within(again.served, 5000, "the server again");
  assert.ok(resumed instanceof SocketStream && second.isSessionReused(), "resumed");
  // The client knows the certificate (it is in the session); the server cannot tell which one it sent then.
  assert.equal(second.channelBinding("tls-server-end-point").length, 32);
  assert.throws(() => resumed.channelBinding("tls-server-end-point"), /sent no certificate in this session/);
  await second.close();
});

Deno.test("review: clients from protocol symbols refuse renegotiation too", async () => {
  using server = createSslServerContext({ ...identity("server"), maxProtocolVersion: "tls-v1-2" });
  await using listening = serveOnce(server);
  const stream = await within(
    openTcpStream("localhost", listening.port, {
      sslCtx: true,
      ctxConfigureCallback: (ctx) => {
        const { libssl } = loadOpenssl();
        libssl.SSL_CTX_load_verify_locations(
          ctx.pointer,
          new TextEncoder().encode(`${fixture("ca.pem")}\0`),
          null,
        );
      },
    }),
    5000,
    "connect",
  );
  const served = await within(listening.served, 5000, "the server");
  assert.ok(served instanceof SocketStream, String(served));
  const reading = stream.read(new Uint8Array(4)).then(() => null, (error) => error as Error);
  await assert.rejects(
    within(served.renegotiate(), 5000, "the refused renegotiation"),
    /refused \(by the peer\)/,
  );
  assert.ok((await within(reading, 5000, "the client's read")) instanceof SslCondition);
  await stream.close();
});

Deno.test("review: renegotiate settles after a read that timed out, and two at once both settle", async () => {
  const server = { ...identity("server"), maxProtocolVersion: "tls-v1-2" as const };
  {
    await using both = await pair({ ...trustCa, allowRenegotiation: true }, server);
    // The server's read times out; the client's answer then arrives with no read pending.
    both.server.readTimeout = 100;
    await assert.rejects(both.server.read(new Uint8Array(4)), Deno.errors.TimedOut);
    const clientReading = both.client.read(new Uint8Array(4));
    await within(both.server.renegotiate(), 5000, "the renegotiation after a timed-out read");
    await both.server.write(encoder.encode("x"));
    assert.equal(await within(clientReading, 5000, "the client's read"), 1);
  }
  await using both = await pair({ ...trustCa, allowRenegotiation: true }, server);
  const clientReading = both.client.read(new Uint8Array(4));
  await within(
    Promise.all([both.server.renegotiate(), both.server.renegotiate()]),
    5000,
    "two renegotiations",
  );
  await both.server.write(encoder.encode("y"));
  assert.equal(await within(clientReading, 5000, "the client's read"), 1);
});

Deno.test("review: while a request waits, the peer's data is read ahead only so far (backpressure holds)", async () => {
  await using both = await pair(
    { ...trustCa, allowRenegotiation: true },
    { ...identity("server"), maxProtocolVersion: "tls-v1-2" },
  );
  // The client never reads, so never answers, and writes as fast as it can.
  const asking = both.server.renegotiate({ timeoutMs: 4000 }).catch((error) => error as Error);
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  for (; sent < 64; sent++) {
    const written = await Promise.race([
      both.client.write(chunk).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000)),
    ]);
    if (!written) break;
  }
  assert.ok(sent < 16, `the client could write ${sent} MiB that nobody read`);
  assert.ok((await within(asking, 6000, "the renegotiation's timeout")) instanceof Deno.errors.TimedOut);
  both.client.close();
});

Deno.test("review: after the session failed, inspection says so rather than 'needs a finished handshake'", async () => {
  await using both = await pair(trustCa, { ...identity("server"), maxProtocolVersion: "tls-v1-2" });
  const reading = both.client.read(new Uint8Array(4)).then(() => null, (error) => error as Error);
  await assert.rejects(within(both.server.renegotiate(), 5000, "the refusal"), SslCondition);
  await within(reading, 5000, "the client's failure");
  for (const inspect of [() => both.client.channelBinding("tls-exporter"), () => both.client.session()]) {
    assert.throws(inspect, /the TLS session had already failed \(.*renegotiat/);
  }
});

Deno.test("review: a server that refuses a client's renegotiation says so, not that the client refused one", async () => {
  using context = createSslServerContext({ ...identity("server"), maxProtocolVersion: "tls-v1-2" });
  await using server = serveOnce(context);
  const client = sClient(server.port);
  await using _client = client;
  const stream = await within(server.served, 5000, "the server's handshake");
  assert.ok(stream instanceof SocketStream, String(stream));
  const reading = stream.read(new Uint8Array(64)).then(() => null, (error) => error as Error);
  await client.send("R\n");
  const error = await within(reading, 5000, "the read that sees the refused renegotiation");
  assert.ok(error instanceof Error, "the connection should have ended with an error");
  assert.match(error.message, /asked to renegotiate itself, which servers refuse/);
});
