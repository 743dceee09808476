// Abstract contexts (createSslClientContext / createSslServerContext): mutual
// TLS both ways, ALPN, versions, ciphers, legacy TLS 1.0, encrypted keys,
// sessions, the key log, and the context's lifetime.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  type SocketStream,
  type SslAbstractContext,
  SslCondition,
  type SslCtxPointer,
  SslFailure,
  type SslPointer,
  SslVerificationFailure,
  SslVersionOrCipherMismatch,
} from "../mod.ts";
import {
  addressOf,
  assertNoLiveObjects,
  echoOnce,
  encoder,
  fixture,
  fixtureText,
  FreeWatcher,
  identity,
  Peer,
  readUntil,
  roundTrip,
  serveOnce,
  startGnutlsServer,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";

const serverIdentity = { ...identity("server") };

/**
 * What a client refused by the server gets: with TLS 1.3 its own handshake
 * finishes first and the server's alert arrives on the first read.
 */
async function clientFailure(port: number, sslCtx: SslAbstractContext): Promise<unknown> {
  try {
    await using stream = await within(openTcpStream("localhost", port, { sslCtx }), 5000, "the handshake");
    // A server that let the client in sends nothing: the read would wait forever.
    await within(stream.read(new Uint8Array(1)), 5000, "the server's refusal after the handshake");
    return null;
  } catch (error) {
    return error;
  }
}

Deno.test("mutual TLS between the module's client and server: the server reads the client's certificate", async () => {
  {
    using serverContext = createSslServerContext({ ...serverIdentity, ...trustCa, requireClientCert: true });
    using clientContext = createSslClientContext({
      ...trustCa,
      ...identity("client"),
    });
    await using server = serveOnce(serverContext);
    await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    const served = await server.served as SocketStream;
    assert.match(served.peerCertificate()!.subject, /CN=test client/);
    const echoing = echoOnce(served);
    assert.equal(await roundTrip(client, "mutual"), "mutual");
    await echoing;
  }
  assertNoLiveObjects();
});

Deno.test("a server requiring a client certificate rejects a client without one, with the reason on both ends", async () => {
  using serverContext = createSslServerContext({ ...serverIdentity, ...trustCa, requireClientCert: true });
  using clientContext = createSslClientContext(trustCa);
  await using server = serveOnce(serverContext);
  const failure = await clientFailure(server.port, clientContext);
  assert.ok(failure instanceof SslFailure, String(failure));
  assert.match((failure as Error).message, /requires a client certificate \(certificate_required alert\)/);
  const served = await server.served;
  assert.ok(served instanceof SslCondition);
  assert.match(served.message, /the client sent no certificate, and this server requires one/);
});

Deno.test("a server requiring a client certificate rejects one from another CA", async () => {
  using serverContext = createSslServerContext({ ...serverIdentity, ...trustCa, requireClientCert: true });
  using clientContext = createSslClientContext({
    ...trustCa,
    ...identity("untrusted-client"),
  });
  await using server = serveOnce(serverContext);
  const failure = await clientFailure(server.port, clientContext);
  assert.ok(failure instanceof SslFailure);
  assert.match((failure as Error).message, /unknown ca/);
  const served = await server.served;
  assert.ok(served instanceof SslVerificationFailure);
  assert.equal(served.verifyCode, 20);
});

Deno.test("mutual TLS against openssl s_server -Verify", async () => {
  const { peer, port } = await startOpensslServer(["-Verify", "1", "-CAfile", fixture("ca.pem"), "-rev"]);
  await using _peer = peer;
  using context = createSslClientContext({
    ...trustCa,
    ...identity("client"),
  });
  await using stream = await openTcpStream("localhost", port, { sslCtx: context });
  await stream.write(encoder.encode("mtls\n"));
  assert.match(await readUntil(stream, "\n"), /sltm/);
  await peer.waitFor(/CN\s*=\s*test client/);
});

Deno.test("mutual TLS against gnutls-serv --require-client-cert", async () => {
  const { peer, port } = await startGnutlsServer([
    "--x509cafile",
    fixture("ca.pem"),
    "--require-client-cert",
  ]);
  await using _peer = peer;
  using context = createSslClientContext({
    ...trustCa,
    ...identity("client"),
  });
  await using stream = await openTcpStream("localhost", port, { sslCtx: context });
  await stream.write(encoder.encode("gnutls mtls\n"));
  assert.match(await readUntil(stream, "gnutls mtls"), /gnutls mtls/);
});

Deno.test("openssl s_client with a certificate is read by a module server that requests one", async () => {
  using serverContext = createSslServerContext({ ...serverIdentity, ...trustCa, requestClientCert: true });
  await using server = serveOnce(serverContext);
  await using client = new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${server.port}`,
    "-cert",
    fixture("client.pem"),
    "-key",
    fixture("client.key"),
    "-CAfile",
    fixture("ca.pem"),
    "-quiet",
  ]);
  const served = await server.served as SocketStream;
  assert.match(served.peerCertificate()!.subject, /CN=test client/);
  await client.send("hi\n");
  assert.match(await readUntil(served, "\n"), /hi/);
});

Deno.test("ALPN: the server's first choice that the client offers wins, on both ends", async () => {
  using serverContext = createSslServerContext({ ...serverIdentity, alpnProtocols: ["http/1.1", "h2"] });
  using clientContext = createSslClientContext({ ...trustCa, alpnProtocols: ["h2", "http/1.1"] });
  await using server = serveOnce(serverContext);
  await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
  const served = await server.served as SocketStream;
  assert.equal(client.alpnProtocol, "http/1.1");
  assert.equal(served.alpnProtocol, "http/1.1");
  assert.equal((await client.handshake()).alpnProtocol, "http/1.1");
});

Deno.test("ALPN against openssl s_server -alpn", async () => {
  const { peer, port } = await startOpensslServer(["-alpn", "h2"]);
  await using _peer = peer;
  using context = createSslClientContext({ ...trustCa, alpnProtocols: ["h2", "http/1.1"] });
  await using stream = await openTcpStream("localhost", port, { sslCtx: context });
  assert.equal(stream.alpnProtocol, "h2");
});

Deno.test("ALPN with no protocol in common fails both ends, naming ALPN", async () => {
  using serverContext = createSslServerContext({ ...serverIdentity, alpnProtocols: ["imap"] });
  using clientContext = createSslClientContext({ ...trustCa, alpnProtocols: ["h2"] });
  await using server = serveOnce(serverContext);
  await assert.rejects(
    openTcpStream("localhost", server.port, { sslCtx: clientContext }),
    (error: unknown) => {
      assert.ok(error instanceof SslFailure);
      assert.match(error.message, /ALPN/);
      return true;
    },
  );
  const served = await server.served;
  assert.ok(served instanceof SslFailure);
  assert.match(served.message, /ALPN/);
});

for (
  const [flag, minimum, maximum, expected] of [
    ["-tls1_2", undefined, "tls-v1-2", "TLSv1.2"],
    ["-tls1_3", "tls-v1-3", undefined, "TLSv1.3"],
  ] as const
) {
  Deno.test(`version pinning: ${minimum ?? "-"}..${maximum ?? "-"} against openssl s_server ${flag}`, async () => {
    const { peer, port } = await startOpensslServer([flag]);
    await using _peer = peer;
    using context = createSslClientContext({
      ...trustCa,
      protocolVersion: minimum,
      maxProtocolVersion: maximum,
    });
    await using stream = await openTcpStream("localhost", port, { sslCtx: context });
    assert.equal(stream.protocol, expected);
  });
}

Deno.test("a client that wants TLS 1.3 only is refused by a TLS 1.2 server with SslVersionOrCipherMismatch", async () => {
  const { peer, port } = await startOpensslServer(["-tls1_2"]);
  await using _peer = peer;
  using context = createSslClientContext({ ...trustCa, protocolVersion: "tls-v1-3" });
  await assert.rejects(openTcpStream("localhost", port, { sslCtx: context }), SslVersionOrCipherMismatch);
});

Deno.test("cipher restrictions show in the negotiated cipher (TLS 1.3 suites and TLS 1.2 ciphers)", async () => {
  using serverContext = createSslServerContext(serverIdentity);
  {
    using clientContext = createSslClientContext({
      ...trustCa,
      ciphersuites: "TLS_CHACHA20_POLY1305_SHA256",
    });
    await using server = serveOnce(serverContext);
    await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    assert.equal(client.cipher, "TLS_CHACHA20_POLY1305_SHA256");
  }
  {
    using clientContext = createSslClientContext({
      ...trustCa,
      maxProtocolVersion: "tls-v1-2",
      ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
    });
    await using server = serveOnce(serverContext);
    await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    assert.equal(client.protocol, "TLSv1.2");
    assert.equal(client.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
  }
});

Deno.test('protocolVersion "tls-v1" talks to a legacy TLS 1.0 server (openssl s_server -tls1)', async () => {
  const { peer, port } = await startOpensslServer(["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
  await using _peer = peer;
  using context = createSslClientContext({
    ...trustCa,
    protocolVersion: "tls-v1",
    maxProtocolVersion: "tls-v1",
  });
  await using stream = await openTcpStream("localhost", port, { sslCtx: context });
  assert.equal(stream.protocol, "TLSv1");
});

Deno.test("the default client context refuses a TLS 1.0 server: nothing weakens unless asked", async () => {
  const { peer, port } = await startOpensslServer(["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
  await using _peer = peer;
  using context = createSslClientContext(trustCa);
  await assert.rejects(openTcpStream("localhost", port, { sslCtx: context }), SslVersionOrCipherMismatch);
});

Deno.test("an encrypted private key opens with the password, from a file or from PEM text", async () => {
  const asked: boolean[] = [];
  for (
    const identity of [
      {
        certFile: fixture("client.pem"),
        keyFile: fixture("client-encrypted.key"),
        password: "correct horse",
      },
      {
        cert: fixtureText("client.pem"),
        key: fixtureText("client-encrypted.key"),
        passwordCallback: ({ forEncryption }: { forEncryption: boolean }) => {
          asked.push(forEncryption);
          return "correct horse";
        },
      },
    ]
  ) {
    using serverContext = createSslServerContext({ ...serverIdentity, ...trustCa, requireClientCert: true });
    using clientContext = createSslClientContext({ ...trustCa, ...identity });
    await using server = serveOnce(serverContext);
    await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    const served = await server.served as SocketStream;
    assert.match(served.peerCertificate()!.subject, /test client/);
    assert.ok(client.protocol);
  }
  assert.deepEqual(asked, [false]);
});

Deno.test("a wrong password for an encrypted key is an SslCondition", () => {
  assert.throws(
    () =>
      createSslClientContext({
        certFile: fixture("client.pem"),
        keyFile: fixture("client-encrypted.key"),
        password: "wrong",
      }),
    SslCondition,
  );
  assert.throws(
    () =>
      createSslClientContext({ cert: fixtureText("client.pem"), key: fixtureText("client-encrypted.key") }),
    /encrypted keys need a password/,
  );
  assertNoLiveObjects();
});

Deno.test("a session from the first connection is resumed by the second", async () => {
  using serverContext = createSslServerContext(serverIdentity);
  using clientContext = createSslClientContext(trustCa);
  let saved: Uint8Array | null;
  {
    await using server = serveOnce(serverContext);
    await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    const served = await server.served as SocketStream;
    const echoing = echoOnce(served);
    // TLS 1.3 tickets come after the handshake: a round trip brings them in.
    assert.equal(await roundTrip(client, "first"), "first");
    await echoing;
    assert.equal(client.isSessionReused(), false);
    saved = client.session();
    assert.ok(saved && saved.length > 0);
  }
  {
    await using server = serveOnce(serverContext);
    await using client = await openTcpStream("localhost", server.port, {
      sslCtx: clientContext,
      session: saved!,
    });
    const served = await server.served as SocketStream;
    assert.equal(client.isSessionReused(), true);
    assert.equal(served.isSessionReused(), true);
  }
});

Deno.test("the key log gets NSS lines for both ends, to a callback and to a file", async () => {
  const lines: string[] = [];
  const file = await Deno.makeTempFile();
  try {
    using serverContext = createSslServerContext({ ...serverIdentity, keylogFile: file });
    using clientContext = createSslClientContext({ ...trustCa, keylog: (line) => lines.push(line) });
    await using server = serveOnce(serverContext);
    await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    await server.served;
    const nss =
      /^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,}$/;
    assert.equal(lines.length, 5);
    for (const line of lines) assert.match(line, nss);
    const written = (await Deno.readTextFile(file)).trim().split("\n");
    assert.equal(written.length, 5);
    // Both ends log the same secrets for the same connection.
    assert.deepEqual([...written].sort(), [...lines].sort());
    assert.ok(client.protocol);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("exported keying material is the same at both ends", async () => {
  using serverContext = createSslServerContext(serverIdentity);
  using clientContext = createSslClientContext(trustCa);
  await using server = serveOnce(serverContext);
  await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
  const served = await server.served as SocketStream;
  const a = client.exportKeyingMaterial(32, "EXPERIMENTAL test", new Uint8Array([1, 2, 3]));
  const b = served.exportKeyingMaterial(32, "EXPERIMENTAL test", new Uint8Array([1, 2, 3]));
  assert.equal(a.length, 32);
  assert.deepEqual(a, b);
  assert.notDeepEqual(client.exportKeyingMaterial(32, "EXPERIMENTAL other"), a);
  assert.throws(() => client.exportKeyingMaterial(0, "x"), RangeError);
});

Deno.test("a closed context is freed only when its last connection is gone", async () => {
  using watcher = new FreeWatcher();
  using serverContext = createSslServerContext(serverIdentity);
  const clientContext = createSslClientContext(trustCa);
  const ctxAddress = addressOf(clientContext.ctx);
  await using server = serveOnce(serverContext);
  const client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
  clientContext.close();
  assert.throws(() => clientContext.ctx, TypeError);
  await assert.rejects(openTcpStream("localhost", server.port, { sslCtx: clientContext }), TypeError);
  assert.equal(watcher.sawFreed(ctxAddress, "ctx"), false, "still in use by the open connection");
  assert.ok(client.ctx, "the connection still has its context");
  await client[Symbol.asyncDispose]();
  assert.equal(watcher.sawFreed(ctxAddress, "ctx"), true);
});

Deno.test("wrong options are TypeError or RangeError naming the option", () => {
  assert.throws(() => createSslClientContext({ protocolVersion: "tls-v9" as never }), /protocolVersion/);
  assert.throws(() => createSslClientContext({ colour: "red" } as never), /unknown option "colour"/);
  assert.throws(() => createSslClientContext({ alpnProtocols: [] }), /alpnProtocols/);
  assert.throws(() => createSslClientContext({ certFile: "x.pem" }), /certFile and keyFile go together/);
  assert.throws(() => createSslClientContext({ verify: "yes" as never }), /verify must be a boolean/);
  assert.throws(() => createSslServerContext({}), /needs certFile and keyFile/);
  assert.throws(() => createSslServerContext({ ...serverIdentity, requireClientCert: true }), /need ca/);
  assert.throws(() => createSslClientContext({ keylog: "file" as never }), /keylog must be a function/);
  assertNoLiveObjects();
});

Deno.test("trust from opensslTrustedFile or a hashed opensslTrustedDirectory instead of the system store", async () => {
  using serverContext = createSslServerContext(serverIdentity);
  const directory = await Deno.makeTempDir();
  try {
    await Deno.copyFile(fixture("ca.pem"), `${directory}/ca.pem`);
    const { success } = await new Deno.Command("openssl", { args: ["rehash", directory] }).output();
    assert.ok(success);
    for (const trust of [{ opensslTrustedFile: fixture("ca.pem") }, { opensslTrustedDirectory: directory }]) {
      using clientContext = createSslClientContext(trust);
      await using server = serveOnce(serverContext);
      await using client = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
      assert.ok(client.protocol);
    }
    // The system store alone does not know the test CA.
    using untrusting = createSslClientContext({ opensslTrustedFile: fixture("untrusted-ca.pem") });
    await using server = serveOnce(serverContext);
    await assert.rejects(
      openTcpStream("localhost", server.port, { sslCtx: untrusting }),
      SslVerificationFailure,
    );
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("a context's own tlsextHostName, session and configure callbacks are used for its connections", async () => {
  using serverContext = createSslServerContext({
    cert: fixtureText("wildcard.pem"),
    key: fixtureText("wildcard.key"),
  });
  const seen: string[] = [];
  const callbacks = {
    opensslCtxConfigureCallback: (ctx: SslCtxPointer) => void seen.push(`ctx ${ctx.constructor.name}`),
    opensslSslConfigureCallback: (ssl: SslPointer) => void seen.push(`ssl ${ssl.constructor.name}`),
  };
  const first = createSslClientContext({ ...trustCa, tlsextHostName: "www.test.example", ...callbacks });
  let session: Uint8Array | null;
  {
    await using server = serveOnce(serverContext);
    // Connect by IP: the name verified and sent is the context's.
    await using client = await openTcpStream("127.0.0.1", server.port, { sslCtx: first });
    const echoing = echoOnce(await server.served as SocketStream);
    assert.equal(await roundTrip(client, "one"), "one");
    await echoing;
    session = client.session();
  }
  first.close();
  assert.deepEqual(seen, ["ctx SslCtxPointer", "ssl SslPointer"]);
  // A context configured the same way (the same callbacks) offers the session; one configured otherwise does
  // not (see security_test.ts).
  using second = createSslClientContext({
    ...trustCa,
    tlsextHostName: "www.test.example",
    session: session!,
    ...callbacks,
  });
  await using server = serveOnce(serverContext);
  await using client = await openTcpStream("127.0.0.1", server.port, { sslCtx: second });
  assert.equal(client.isSessionReused(), true);
});

Deno.test("cert may hold a chain: every certificate in it is sent", async () => {
  const chain = fixtureText("server.pem") + fixtureText("ca.pem");
  using serverContext = createSslServerContext({ cert: chain, key: fixtureText("server.key") });
  await using server = serveOnce(serverContext);
  await using client = new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${server.port}`,
    "-showcerts",
    "-CAfile",
    fixture("ca.pem"),
  ]);
  await client.waitFor(/Verify return code: 0/);
  const sent = client.output.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  assert.equal(sent.length, 2);
});
