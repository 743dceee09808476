// Hostile use, by class: authentication that must not silently fail to happen, calls that must never crash
// the process (each run in a child process, so a crash fails the test instead of the run), input that must be
// refused or kept whole, and servers under attack. Each case was seen failing on the code before its fix.
import assert from "node:assert/strict";
import {
  attachSsl,
  createSslClientContext,
  createSslServerContext,
  createSslSocketStream,
  getVerificationMode,
  listenSsl,
  makeInstance,
  makeSslCtx,
  opensslVersion,
  openTcpStream,
  readDhparams,
  setCipherList,
  setSslCtxOptions,
  setSslLibraryPath,
  setVerificationMode,
  SocketStream,
  type SslAbstractContext,
  SslCondition,
  SslCtxPointer,
  SslFailure,
  SslHandshakeTimeout,
  sslNew,
  SslPointer,
  SslVerificationFailure,
  SslVersionOrCipherMismatch,
  startUpServer,
} from "../mod.ts";
import { loadOpenssl } from "../ffi/mod.ts";
import {
  assertNoLiveObjects,
  decoder,
  encoder,
  fixture,
  fixtureText,
  identity,
  listenLoopback,
  loopbackPair,
  readAll,
  readBytes,
  rejection,
  roundTrip,
  runSClient,
  serveCertificate,
  serveOnce,
  startOpensslServer,
  tlsPair,
  trustCa,
  trustTestCa,
  useCertificate,
  within,
  withTestCaAsSystemStore,
} from "./_helpers.ts";
import { runChild } from "./_child.ts";

const { libssl } = loadOpenssl();

/** What a client gets when it connects: its stream (after reading one byte, for TLS 1.3 alerts) or its error. */
async function connectOutcome(
  port: number,
  options: Parameters<typeof openTcpStream>[2],
  host = "localhost",
): Promise<SocketStream | Error> {
  try {
    const stream = await within(openTcpStream(host, port, options), 5000, `the handshake with port ${port}`);
    return stream;
  } catch (error) {
    return error as Error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// A. Authentication that silently does not happen
// ---------------------------------------------------------------------------------------------------------

/** A default server context without client authentication, and one for "localhost" that requires it. */
function sniContexts(sni?: (name: string) => SslAbstractContext | undefined) {
  const keylog: string[] = [];
  const verified: string[] = [];
  const secure = createSslServerContext({
    ...identity("server"),
    ...trustCa,
    requireClientCert: true,
    protocolVersion: "tls-v1-3",
    alpnProtocols: ["secure/1"],
    keylog: (line) => keylog.push(line),
    verifyCallback: (ok, info) => {
      verified.push(info.subject);
      return ok;
    },
  });
  const fallback = createSslServerContext({
    ...identity("wrong-host"),
    sni: sni ?? { localhost: secure },
  });
  return { secure, fallback, keylog, verified, [Symbol.dispose]: () => (secure.close(), fallback.close()) };
}

for (const version of ["-tls1_2", "-tls1_3"]) {
  Deno.test(`A1 SNI: a client without a certificate asking for the mutual-TLS context is refused (s_client ${version})`, async () => {
    using contexts = sniContexts();
    await using server = serveOnce(contexts.fallback);
    const { output } = await runSClient(server.port, ["-servername", "localhost", version], "hello\n");
    const served = await within(server.served, 5000, "the server's handshake");
    assert.ok(served instanceof Error, `the server must refuse: s_client printed ${output}`);
    if (version === "-tls1_2") {
      // The context for "localhost" is TLS 1.3 only: its protocol range holds.
      assert.ok(served instanceof SslVersionOrCipherMismatch, String(served));
    } else {
      assert.match(served.message, /the client sent no certificate, and this server requires one/);
    }
    assert.doesNotMatch(output, /CN ?= ?wrong\.example/, "never served by the fallback's certificate");
    assert.deepEqual(contexts.verified, [], "no client certificate came to verify");
  });
}

Deno.test("A1 SNI: every setting of the chosen context holds: client certificate, verify callback, versions, ALPN, key log", async () => {
  using contexts = sniContexts();
  await using server = serveOnce(contexts.fallback);
  using client = createSslClientContext({ ...trustCa, ...identity("client"), alpnProtocols: ["secure/1"] });
  await using stream = await within(
    openTcpStream("localhost", server.port, { sslCtx: client }),
    5000,
    "the mutual-TLS handshake",
  );
  const served = await server.served;
  assert.ok(served instanceof SocketStream, String(served));
  assert.equal(served.ctx, contexts.secure.ctx, "the connection runs on the context for its name");
  assert.equal(served.protocol, "TLSv1.3");
  assert.equal(served.alpnProtocol, "secure/1");
  assert.match(served.peerCertificate()!.subject, /CN=test client/);
  assert.ok(contexts.verified.some((subject) => /CN=test client/.test(subject)), "its verify callback ran");
  assert.ok(contexts.keylog.length > 0, "its key log got the secrets");
  assert.equal(stream.peerCertificate()?.subject.includes("CN=localhost"), true);
});

Deno.test("A1 SNI: another name gets the default context, without client authentication", async () => {
  using contexts = sniContexts();
  await using server = serveOnce(contexts.fallback);
  using client = createSslClientContext(trustCa);
  const stream = await connectOutcome(server.port, { sslCtx: client, tlsextHostName: "wrong.example" });
  assert.ok(stream instanceof SocketStream, String(stream));
  const served = await server.served;
  assert.equal((served as SocketStream).ctx, contexts.fallback.ctx);
  await stream[Symbol.asyncDispose]();
});

Deno.test("A1 SNI: a chooser that throws fails the handshake with an unrecognized_name alert", async () => {
  using contexts = sniContexts(() => {
    throw new Error("no such tenant");
  });
  await using server = serveOnce(contexts.fallback);
  using client = createSslClientContext(trustCa);
  const failure = await connectOutcome(server.port, { sslCtx: client });
  assert.ok(failure instanceof SslFailure, String(failure));
  assert.match(failure.message, /unrecognized_name/);
  const served = await server.served;
  assert.ok(served instanceof SslFailure);
  assert.match(served.message, /no such tenant/);
  assert.equal((served.cause as Error).message, "no such tenant");
});

Deno.test("A1 SNI: a chooser answering with a client or closed context refuses the client", async () => {
  using other = createSslClientContext(trustCa);
  const closed = createSslServerContext(identity("server"));
  closed.close();
  for (const answer of [other, closed, "localhost" as unknown as SslAbstractContext]) {
    using contexts = sniContexts(() => answer);
    await using server = serveOnce(contexts.fallback);
    using client = createSslClientContext(trustCa);
    const failure = await connectOutcome(server.port, { sslCtx: client });
    assert.ok(failure instanceof SslFailure, String(failure));
    assert.match(failure.message, /unrecognized_name/, "refused, not served by the default context");
    const served = await server.served;
    assert.ok(served instanceof SslFailure);
    assert.match(served.message, /choosing the server context for "localhost" failed/);
  }
});

Deno.test("A1 SNI: the raw SSL_CTX of a context with sni refuses a name it would route elsewhere", async () => {
  using contexts = sniContexts();
  // Passing the SSL_CTX itself skips the module's routing: the servername check still holds the line.
  await using server = serveOnce(contexts.fallback.ctx, {
    sslConfigureCallback: (ssl) => libssl.SSL_set_accept_state(ssl.pointer),
  });
  const { output } = await runSClient(server.port, ["-servername", "localhost"], "x\n");
  const served = await server.served;
  assert.ok(served instanceof SslFailure, `refused; s_client printed ${output}`);
  assert.match(output, /unrecognized name/i);
});

Deno.test("A1 SNI: a ClientHello cut into one-byte records cannot reach the default context with the routed name", async () => {
  using contexts = sniContexts();
  await using server = serveOnce(contexts.fallback);
  // A real ClientHello for "localhost", from the module's own client, re-cut into 1-byte records.
  const hello = await capturedClientHello({ tlsextHostName: "localhost" });
  const records: number[] = [];
  const body = hello.subarray(5);
  for (const byte of body) records.push(22, hello[1], hello[2], 0, 1, byte);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(new Uint8Array(records));
  await conn.closeWrite();
  const served = await within(server.served, 5000, "the server's handshake");
  assert.ok(served instanceof SslFailure, String(served));
  const reply = await within(readAll(conn), 5000, "the server's alert");
  assert.equal(reply[0], 21, "an alert record");
  conn.close();
});

/** The first flight of a module client (its ClientHello record), caught by a plain listener. */
async function capturedClientHello(options: Parameters<typeof openTcpStream>[2]): Promise<Uint8Array> {
  const { listener, port } = listenLoopback();
  const accepted = listener.accept();
  const connecting = openTcpStream("127.0.0.1", port, { sslCtx: true, ...options, handshakeTimeout: 2000 })
    .catch((error) => error);
  const conn = await accepted;
  const buffer = new Uint8Array(16 * 1024);
  let length = 0;
  while (length < 5 || length < 5 + ((buffer[3] << 8) | buffer[4])) {
    const count = await within(conn.read(buffer.subarray(length)), 5000, "the ClientHello");
    if (count === null) break;
    length += count;
  }
  conn.close();
  listener.close();
  await connecting;
  return buffer.slice(0, length);
}

for (const version of ["tls-v1-2", "tls-v1-3"] as const) {
  Deno.test(`A2 resumption (${version}): a session is never offered to another host, and verification holds`, async () => {
    // One server with a certificate for wrong.example; its sessions resume (tickets) across connections.
    const { peer, port } = await startOpensslServer([
      "-naccept",
      "4",
      "-rev",
      `-${version.replace("tls-v1-", "tls1_")}`,
    ], "wrong-host");
    await using _peer = peer;
    using client = createSslClientContext({
      ...trustCa,
      protocolVersion: version,
      maxProtocolVersion: version,
    });
    // A verified connection to wrong.example, the name its certificate carries.
    const first = await openTcpStream("127.0.0.1", port, { sslCtx: client, tlsextHostName: "wrong.example" });
    // TLS 1.3 tickets come after the handshake: read the echo first.
    assert.equal(await within(roundTrip(first, "x\n"), 5000, "the echo"), "x\n");
    const session = first.session();
    assert.ok(session, "a session to resume");
    await first[Symbol.asyncDispose]();
    // The same session, offered when connecting to "localhost": not offered, so no resumption, and the
    // certificate (for wrong.example) fails the name check.
    const failure = await connectOutcome(port, { sslCtx: client, tlsextHostName: "localhost", session });
    assert.ok(failure instanceof SslVerificationFailure, String(failure));
    assert.equal(failure.verifyCode, 62);
    // For its own host it resumes.
    const again = await connectOutcome(port, { sslCtx: client, tlsextHostName: "wrong.example", session });
    assert.ok(again instanceof SocketStream, String(again));
    assert.equal(again.isSessionReused(), true);
    await again[Symbol.asyncDispose]();
  });

  Deno.test(`A2 resumption (${version}): a session from an unverified connection is not offered by a verifying client`, async () => {
    const { peer, port } = await startOpensslServer([
      "-naccept",
      "3",
      "-rev",
      `-${version.replace("tls-v1-", "tls1_")}`,
    ], "self-signed");
    await using _peer = peer;
    using loose = createSslClientContext({
      verify: false,
      protocolVersion: version,
      maxProtocolVersion: version,
    });
    const first = await openTcpStream("localhost", port, { sslCtx: loose });
    assert.equal(await within(roundTrip(first, "x\n"), 5000, "the echo"), "x\n");
    const session = first.session();
    assert.ok(session);
    await first[Symbol.asyncDispose]();
    using strict = createSslClientContext({
      ...trustCa,
      protocolVersion: version,
      maxProtocolVersion: version,
    });
    const failure = await connectOutcome(port, { sslCtx: strict, session });
    assert.ok(failure instanceof SslVerificationFailure, String(failure));
    assert.equal(failure.verifyCode, 18, "self-signed: the full handshake verified and refused it");
  });
}

/** A client session made with `made` against a server on `certificate` (s_server -rev), then offered with `offered`. */
async function offerAcross(
  certificate: string,
  made: SslAbstractContext,
  offered: SslAbstractContext,
): Promise<SocketStream | Error> {
  const { peer, port } = await startOpensslServer(["-naccept", "2", "-rev"], certificate);
  await using _peer = peer;
  const first = await within(openTcpStream("localhost", port, { sslCtx: made }), 5000, "the first handshake");
  assert.equal(await within(roundTrip(first, "x\n"), 5000, "the echo"), "x\n");
  const session = first.session();
  assert.ok(session);
  await first[Symbol.asyncDispose]();
  return await connectOutcome(port, { sslCtx: offered, session });
}

Deno.test("A2 a session is not offered by a client context with other trust, another verify callback or no client certificate", async () => {
  // Made trusting another CA: a context that trusts only the test CA must not inherit that trust.
  {
    using lenient = createSslClientContext({ ca: fixtureText("untrusted-ca.pem") });
    using strict = createSslClientContext(trustCa);
    const outcome = await offerAcross("untrusted", lenient, strict);
    assert.ok(outcome instanceof SslVerificationFailure, String(outcome));
    assert.equal(outcome.verifyCode, 20);
  }
  // Made with a verify callback that accepts anything.
  {
    using lenient = createSslClientContext({ ...trustCa, verifyCallback: () => true });
    using strict = createSslClientContext(trustCa);
    const outcome = await offerAcross("self-signed", lenient, strict);
    assert.ok(outcome instanceof SslVerificationFailure, String(outcome));
    assert.equal(outcome.verifyCode, 18);
  }
  // Made presenting a client certificate: a context without one must not take over that identity.
  {
    using context = createSslServerContext({ ...identity("server"), ...trustCa, requireClientCert: true });
    await using listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: context });
    const clients: string[] = [];
    const serving = (async () => {
      for await (const stream of listener) {
        clients.push(stream.peerCertificate()?.subject ?? "none");
        await stream.write(encoder.encode("hi")).catch(() => {});
        await stream[Symbol.asyncDispose]();
      }
    })();
    using withCertificate = createSslClientContext({ ...trustCa, ...identity("client") });
    using without = createSslClientContext(trustCa);
    const first = await within(
      openTcpStream("localhost", listener.addr.port, { sslCtx: withCertificate }),
      5000,
      "the mutual-TLS handshake",
    );
    await within(readBytes(first, 2), 5000, "the greeting");
    const session = first.session();
    await first[Symbol.asyncDispose]();
    const second = await connectOutcome(listener.addr.port, { sslCtx: without, session: session! });
    const refused = second instanceof Error
      ? second
      : await rejection(readAll(second).finally(() => second[Symbol.asyncDispose]()), 5000, "the refusal");
    assert.match(refused.message, /requires a client certificate/);
    listener.close();
    await serving;
    assert.equal(clients.length, 1, `only the client with a certificate was served: ${clients}`);
  }
});

/** Checks with openssl s_client (-sess_out, then -sess_in) that a server on `sslCtx` resumes, TLS 1.3 and 1.2. */
async function assertResumes(sslCtx: SslAbstractContext | ReturnType<typeof makeSslCtx>): Promise<void> {
  await using listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx });
  // Each client gets a line and the end of the stream, so s_client (with -ign_eof) exits once it has its
  // session, tickets included.
  const serving = (async () => {
    for await (const stream of listener) {
      await stream.write(encoder.encode("bye\n")).catch(() => {});
      await stream[Symbol.asyncDispose]();
    }
  })();
  const directory = await Deno.makeTempDir();
  try {
    for (const version of ["-tls1_3", "-tls1_2"]) {
      const client = ["-cert", fixture("client.pem"), "-key", fixture("client.key"), "-ign_eof", version];
      const first = await runSClient(listener.addr.port, [...client, "-sess_out", `${directory}/s`], "one\n");
      assert.match(first.output, /New, TLSv1\.[23]/, first.output);
      const second = await runSClient(listener.addr.port, [...client, "-sess_in", `${directory}/s`], "two\n");
      assert.match(second.output, /Reused, TLSv1\.[23]/, `${version}: ${second.output}`);
      assert.doesNotMatch(second.output, /internal error/);
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
    listener.close();
    await serving;
  }
}

for (const clientAuth of ["requireClientCert", "requestClientCert"] as const) {
  Deno.test(`A3 a ${clientAuth} server context resumes sessions (openssl s_client -sess_out, then -sess_in)`, async () => {
    using context = createSslServerContext({ ...identity("server"), ...trustCa, [clientAuth]: true });
    await assertResumes(context);
  });
}

Deno.test("A3 a server SSL_CTX from makeSslCtx that requires client certificates resumes sessions", async () => {
  using ctx = makeSslCtx({ sslSide: "server" });
  useCertificate(ctx);
  trustTestCa(ctx);
  setVerificationMode(ctx, "server", "always");
  await assertResumes(ctx);
});

Deno.test("A3 a client certificate required per connection is not bypassed by a session from the same SSL_CTX", async () => {
  using ctx = makeSslCtx({ sslSide: "server" });
  useCertificate(ctx);
  trustTestCa(ctx);
  const serve = async (listener: ReturnType<typeof listenSsl>) => {
    for await (const stream of listener) {
      await stream.write(encoder.encode("bye\n")).catch(() => {});
      await stream[Symbol.asyncDispose]();
    }
  };
  await using open = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: ctx });
  await using admin = listenSsl({
    port: 0,
    hostname: "127.0.0.1",
    sslCtx: ctx,
    sslConfigureCallback: (ssl) => setVerificationMode(ssl, "server", "always"),
  });
  const serving = Promise.all([serve(open), serve(admin)]);
  const directory = await Deno.makeTempDir();
  try {
    for (const version of ["-tls1_3", "-tls1_2"]) {
      await runSClient(open.addr.port, ["-ign_eof", version, "-sess_out", `${directory}/s`], "x\n");
      const { output } = await runSClient(
        admin.addr.port,
        ["-ign_eof", version, "-sess_in", `${directory}/s`],
        "y\n",
      );
      assert.doesNotMatch(output, /Reused/, `${version}: ${output}`);
      assert.doesNotMatch(
        output,
        /bye/,
        `${version}: the admin listener served a client without a certificate`,
      );
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
    open.close();
    admin.close();
    await serving;
  }
});

for (const symbol of [true, "default", "v23"] as const) {
  Deno.test(`A4 sslCtx ${JSON.stringify(symbol)} refuses TLS 1.0 and 1.1 on both sides`, async () => {
    const { peer, port } = await startOpensslServer(["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"]);
    await using _peer = peer;
    const failure = await withTestCaAsSystemStore(() => connectOutcome(port, { sslCtx: symbol }));
    assert.ok(failure instanceof SslVersionOrCipherMismatch, String(failure));
    // As a server: an s_client that offers only TLS 1.1 is refused.
    await using server = serveOnce(symbol, { ctxConfigureCallback: (ctx) => useCertificate(ctx) });
    const { output } = await runSClient(server.port, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    const served = await server.served;
    assert.ok(served instanceof SslVersionOrCipherMismatch, `${served}; s_client printed ${output}`);
  });
}

Deno.test('A5 a client SSL made from a "both" context verifies the chain and the name', async () => {
  // The system trust store (here the test CA, through SSL_CERT_FILE) is loaded when the context is made.
  using both = await withTestCaAsSystemStore(() => Promise.resolve(makeSslCtx({ sslSide: "both" })));
  const cases: [string, string, number][] = [
    ["expired", "localhost", 10],
    ["self-signed", "localhost", 18],
    ["untrusted", "localhost", 20],
    ["wrong-host", "localhost", 62],
  ];
  for (const [certificate, host, code] of cases) {
    const { peer, port } = await startOpensslServer([], certificate);
    await using _peer = peer;
    const failure = await connectOutcome(port, { sslCtx: both }, host);
    assert.ok(failure instanceof SslVerificationFailure, `${certificate}: ${failure}`);
    assert.equal(failure.verifyCode, code, certificate);
  }
  // The system store (here the test CA) serves the "both" context's clients; a valid server passes.
  const { peer, port } = await startOpensslServer([]);
  await using _peer = peer;
  const stream = await connectOutcome(port, { sslCtx: both });
  assert.ok(stream instanceof SocketStream, String(stream));
  await stream[Symbol.asyncDispose]();
});

Deno.test('A5 an SSL a configure callback turns into a client gets the client rules (sslSide left at "server")', async () => {
  const { peer, port } = await startOpensslServer([], "self-signed");
  await using _peer = peer;
  using both = makeSslCtx({ sslSide: "both" });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const failure = await rejection(
    makeInstance("socket-stream", {
      socket: conn,
      sslCtx: both,
      tlsextHostName: "localhost",
      sslConfigureCallback: (ssl) => libssl.SSL_set_connect_state(ssl.pointer),
    }),
    5000,
    "a handshake with a self-signed server",
  );
  assert.ok(failure instanceof SslVerificationFailure, String(failure));
  assert.equal(failure.verifyCode, 18);
});

Deno.test("A5 turning verification off explicitly still works, on the context or the connection", async () => {
  const { peer, port } = await startOpensslServer(["-naccept", "2"], "self-signed");
  await using _peer = peer;
  using both = makeSslCtx({ sslSide: "both" });
  setVerificationMode(both, "client", "never");
  const first = await connectOutcome(port, { sslCtx: both });
  assert.ok(first instanceof SocketStream, String(first));
  await first[Symbol.asyncDispose]();
  const second = await connectOutcome(port, {
    sslCtx: true,
    ctxConfigureCallback: (ctx) => libssl.SSL_CTX_set_verify(ctx.pointer, 0, null),
  });
  assert.ok(second instanceof SocketStream, String(second));
  await second[Symbol.asyncDispose]();
});

Deno.test("A5 a verifying client with no name to check fails before it sends a byte", async () => {
  for (const sslCtx of [true as const, createSslClientContext(trustCa)]) {
    const [near, far] = await loopbackPair();
    const failure = await rejection(
      makeInstance("socket-stream", { socket: near, sslCtx, sslSide: "client" }),
      5000,
      "makeInstance without tlsextHostName",
    );
    assert.ok(failure instanceof TypeError, String(failure));
    assert.match(failure.message, /pass tlsextHostName/);
    assert.equal(await within(far.read(new Uint8Array(1)), 5000, "the far end"), null, "nothing was sent");
    far.close();
    if (typeof sslCtx !== "boolean") sslCtx.close();
  }
  assertNoLiveObjects();
});

// ---------------------------------------------------------------------------------------------------------
// B. No public call, in any order, from any callback, may crash the process (each case in a child process)
// ---------------------------------------------------------------------------------------------------------

/** Runs `body` in a child; it must exit 0 and print one JSON line, which is returned. */
async function childReport(
  body: string,
  options?: Parameters<typeof runChild>[1],
): Promise<Record<string, unknown>> {
  const result = await runChild(body, options);
  assert.equal(
    result.code,
    0,
    `the child exited with ${result.code} (signal ${result.signal}):\n${result.stdout}\n${result.stderr}`,
  );
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line);
}

/** Child code: an openssl s_server on the test certificate, `port` and `peer` in scope. */
const WITH_SERVER = `const { peer, port } = await helpers.startOpensslServer(["-rev"]);`;

Deno.test("B6 destroySsl from a verify callback, on the SSL being verified: TypeError, no crash", async () => {
  const report = await childReport(`
    ${WITH_SERVER}
    let inCallback = "not called";
    const outcome = await mod.openTcpStream("localhost", port, {
      sslCtx: true,
      ctxConfigureCallback: helpers.trustTestCa,
      sslConfigureCallback: (ssl) => mod.setVerificationMode(ssl, "client", "always", (ok) => {
        try { mod.destroySsl(ssl); inCallback = "freed"; } catch (error) { inCallback = error.name; }
        return ok;
      }),
    }).then(async (stream) => { const echo = await helpers.roundTrip(stream, "abc\\n"); stream.close(); await stream.closed; return echo; },
      (error) => error.name);
    await peer[Symbol.asyncDispose]();
    console.log(JSON.stringify({ inCallback, outcome, live: ffi.liveNativeObjects() }));
  `);
  assert.deepEqual(report, { inCallback: "TypeError", outcome: "cba\n", live: { sslCtx: 0, ssl: 0 } });
});

Deno.test("B6 destroySsl and close() from a key log callback mid-handshake: no crash", async () => {
  const report = await childReport(`
    ${WITH_SERVER}
    let ssl;
    const seen = [];
    let stream;
    const context = mod.createSslClientContext({
      ca: helpers.fixtureText("ca.pem"),
      opensslSslConfigureCallback: (made) => { ssl = made; },
      keylog: () => {
        try { mod.destroySsl(ssl); seen.push("freed"); } catch (error) { seen.push(error.name); }
        stream?.close();
      },
    });
    const outcome = await mod.openTcpStream("localhost", port, { sslCtx: context })
      .then(async (made) => { stream = made; made.close(); await made.closed; return "closed"; }, (error) => error.name);
    context.close();
    await peer[Symbol.asyncDispose]();
    console.log(JSON.stringify({ seen: [...new Set(seen)], outcome, live: ffi.liveNativeObjects() }));
  `);
  assert.deepEqual(report, { seen: ["TypeError"], outcome: "closed", live: { sslCtx: 0, ssl: 0 } });
});

Deno.test("B6 destroySslCtx from a password callback, while OpenSSL reads the key: deferred, no double free", async () => {
  const report = await childReport(`
    const ctx = mod.makeSslCtx({ sslSide: "server" });
    mod.setSslCtxPasswordCallback(ctx, { callback: () => { mod.destroySslCtx(ctx); return "correct horse"; } });
    const { libssl } = ffi.loadOpenssl();
    const path = new TextEncoder().encode(helpers.fixture("client-encrypted.key") + "\\0");
    const loaded = libssl.SSL_CTX_use_PrivateKey_file(ctx.pointer, path, 1);
    const freedAtOnce = ctx.freed;
    await Promise.resolve();
    console.log(JSON.stringify({ loaded, freedAtOnce, live: ffi.liveNativeObjects() }));
  `);
  assert.deepEqual(report, { loaded: 1, freedAtOnce: true, live: { sslCtx: 0, ssl: 0 } });
});

Deno.test("B7 the context SNI chose stays alive for its connection: destroySslCtx mid-handshake (TLS 1.2, key log)", async () => {
  const report = await childReport(`
    const lines = [];
    const chosen = mod.createSslServerContext({
      ...helpers.identity("server"),
      protocolVersion: "tls-v1-2",
      maxProtocolVersion: "tls-v1-2",
      keylog: (line) => { lines.push(line); try { mod.destroySslCtx(chosen.ctx); } catch {} },
    });
    const fallback = mod.createSslServerContext({ ...helpers.identity("wrong-host"), sni: { localhost: chosen } });
    const server = helpers.serveOnce(fallback);
    const client = await mod.openTcpStream("localhost", server.port, {
      sslCtx: true, ctxConfigureCallback: helpers.trustTestCa,
    });
    const served = await server.served;
    const echoing = helpers.echoOnce(served);
    const echo = await helpers.roundTrip(client, "ping");
    await echoing;
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
    chosen.close();
    fallback.close();
    console.log(JSON.stringify({ echo, keylog: lines.length > 0, live: ffi.liveNativeObjects() }));
  `);
  assert.deepEqual(report, { echo: "ping", keylog: true, live: { sslCtx: 0, ssl: 0 } });
});

Deno.test("B8 SslPointer.from twice gives one wrapper: the second attach is refused, the BIOs stay", async () => {
  const report = await childReport(`
    const ctx = mod.makeSslCtx({ sslSide: "client" });
    const { libssl } = ffi.loadOpenssl();
    const raw = libssl.SSL_new(ctx.pointer);
    libssl.SSL_set_connect_state(raw);
    const first = mod.SslPointer.from(raw);
    const second = mod.SslPointer.from(raw);
    const [a, b] = await helpers.loopbackPair();
    const [c, d] = await helpers.loopbackPair();
    const stream = await mod.makeInstance("socket-stream", { socket: a, sslCtx: first });
    const again = await mod.makeInstance("socket-stream", { socket: c, sslCtx: second }).then(() => "attached", (error) => error.name);
    stream.close();
    await stream.closed;
    b.close();
    d.close();
    libssl.SSL_free(raw);
    ctx.destroy();
    console.log(JSON.stringify({ same: first === second, again }));
  `);
  assert.deepEqual(report, { same: true, again: "TypeError" });
});

Deno.test("B re-entering a connection from its own verify callback: write, handshake, close and detachSsl", async () => {
  const report = await childReport(`
    ${WITH_SERVER}
    const seen = {};
    let stream;
    const inner = new mod.SocketStream({ socket: await Deno.connect({ hostname: "127.0.0.1", port }) });
    const attaching = mod.attachSsl(inner, {
      sslSide: "client",
      tlsextHostName: "localhost",
      ctxConfigureCallback: helpers.trustTestCa,
      sslConfigureCallback: (ssl) => mod.setVerificationMode(ssl, "client", "always", (ok, info) => {
        if (info.depth !== 0) return ok;
        for (const [name, call] of [
          ["write", () => inner.write(new Uint8Array([1]))],
          ["handshake", () => inner.handshake()],
          ["detachSsl", () => mod.detachSsl(inner)],
        ]) {
          try { call().then(() => seen[name] = "resolved", (error) => seen[name] = error.name); } catch (error) { seen[name] = error.name; }
        }
        return ok;
      }),
    }).then(() => "attached", (error) => error.name);
    const outcome = await attaching;
    await new Promise((resolve) => setTimeout(resolve, 100));
    inner.close();
    await inner.closed;
    await peer[Symbol.asyncDispose]();
    console.log(JSON.stringify({ outcome, seen }));
  `);
  assert.equal(report.outcome, "attached");
  const seen = report.seen as Record<string, string>;
  assert.equal(seen.write, "TypeError", "a nested SSL_write would corrupt the handshake");
  assert.equal(seen.handshake, "TypeError");
  assert.ok(seen.detachSsl, "detachSsl settled (it waits for the callback's call to return)");
});

Deno.test("B close() from a verify callback: the connection ends cleanly, no crash", async () => {
  const report = await childReport(`
    ${WITH_SERVER}
    const inner = new mod.SocketStream({ socket: await Deno.connect({ hostname: "127.0.0.1", port }) });
    const outcome = await mod.attachSsl(inner, {
      sslSide: "client",
      tlsextHostName: "localhost",
      ctxConfigureCallback: helpers.trustTestCa,
      sslConfigureCallback: (ssl) => mod.setVerificationMode(ssl, "client", "always", (ok) => { inner.close(); return ok; }),
    }).then(() => "attached", (error) => error.name);
    await inner.closed;
    await peer[Symbol.asyncDispose]();
    console.log(JSON.stringify({ outcome, live: ffi.liveNativeObjects() }));
  `);
  assert.deepEqual(report.live, { sslCtx: 0, ssl: 0 });
});

Deno.test("B close() while an SNI server waits for the ClientHello, or from a configure callback: a prompt BadResource", async () => {
  // Each of these spun the event loop forever (no timer fired again): run where a hang is a failed test.
  const report = await childReport(
    `
    const outcomes = {};
    const router = mod.createSslServerContext({ ...helpers.identity("wrong-host"), sni: { localhost: mod.createSslServerContext(helpers.identity("server")) } });
    {
      const [near, far] = await helpers.loopbackPair();
      const stream = new mod.SocketStream({ socket: near });
      const attaching = mod.attachSsl(stream, { sslCtx: router, handshakeTimeout: 5000 });
      setTimeout(() => stream.close(), 100);
      outcomes.routing = await attaching.then(() => "attached", (error) => error.name);
      far.close();
    }
    for (const where of ["ctxConfigureCallback", "sslConfigureCallback"]) {
      const [near, far] = await helpers.loopbackPair();
      const stream = new mod.SocketStream({ socket: near });
      outcomes[where] = await mod.attachSsl(stream, {
        sslSide: "client", tlsextHostName: "localhost", handshakeTimeout: 5000, [where]: () => stream.close(),
      }).then(() => "attached", (error) => error.name);
      far.close();
    }
    console.log(JSON.stringify({ outcomes, live: ffi.liveNativeObjects().ssl }));
  `,
    { timeoutMs: 15_000 },
  );
  assert.deepEqual(report, {
    outcomes: {
      routing: "BadResource",
      ctxConfigureCallback: "BadResource",
      sslConfigureCallback: "BadResource",
    },
    live: 0,
  });
});

Deno.test("B9 a pending read whose buffer is detached or shrunk fails with TypeError; the session goes on", async () => {
  const [client, server] = await tlsPairOverLoopback();
  for (const spoil of ["detach", "shrink"] as const) {
    const memory = new ArrayBuffer(64, { maxByteLength: 128 });
    const pending = client.read(new Uint8Array(memory));
    if (spoil === "detach") memory.transfer();
    else memory.resize(0);
    await server.write(encoder.encode("after"));
    const failure = await rejection(pending, 5000, `a read whose buffer was ${spoil}ed`);
    assert.ok(failure instanceof TypeError, String(failure));
    assert.equal(decoder.decode(await within(readBytes(client, 5), 5000, "the next read")), "after");
  }
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

/** A module client and server over loopback, handshaken (bounded). */
function tlsPairOverLoopback(options?: Parameters<typeof tlsPair>[0]): Promise<[SocketStream, SocketStream]> {
  return within(tlsPair(options), 5000, "the loopback handshake");
}

// ---------------------------------------------------------------------------------------------------------
// C. Input: refused with a typed error, or kept whole
// ---------------------------------------------------------------------------------------------------------

Deno.test("C10 write() takes a Uint8Array and refuses every other value, sending nothing", async () => {
  const [client, server] = await tlsPairOverLoopback();
  const refused: unknown[] = [
    new Uint16Array(40000),
    new Float64Array([1, 2, 3]),
    new DataView(new ArrayBuffer(8)),
    123,
    "text",
    null,
    new ArrayBuffer(4),
  ];
  for (const value of refused) {
    const failure = await rejection(
      client.write(value as Uint8Array),
      1000,
      `write(${Object.prototype.toString.call(value)})`,
    );
    assert.ok(failure instanceof TypeError, String(value));
  }
  for (const value of refused) {
    await assert.rejects(client.read(value as Uint8Array), TypeError);
  }
  await client.write(encoder.encode("only this"));
  await client.closeWrite();
  assert.equal(decoder.decode(await within(readAll(server), 5000, "everything sent")), "only this");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("C11 concurrent writes go out whole and in call order (Deno's own TLS as the reader)", async () => {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: fixtureText("server.pem"),
    key: fixtureText("server.key"),
  });
  const accepted = listener.accept();
  const client = await openTcpStream("127.0.0.1", listener.addr.port, {
    sslCtx: true,
    tlsextHostName: "localhost",
    ctxConfigureCallback: trustTestCa,
  });
  const conn = await accepted;
  const size = 1 << 20;
  const letters = ["a", "b", "c", "d"];
  const writes = letters.map((letter) => client.write(new Uint8Array(size).fill(letter.charCodeAt(0))));
  const reading = readBytes(conn, size * letters.length);
  const results = await within(Promise.all(writes), 10_000, "four concurrent 1 MiB writes");
  assert.deepEqual(results, letters.map(() => size));
  const received = await within(reading, 10_000, "4 MiB at the reader");
  for (const [index, letter] of letters.entries()) {
    const part = received.subarray(index * size, (index + 1) * size);
    assert.ok(
      part.every((byte) => byte === letter.charCodeAt(0)),
      `write ${letter} arrived whole, in its turn`,
    );
  }
  await client[Symbol.asyncDispose]();
  conn.close();
  listener.close();
});

Deno.test("C12 a NUL inside any string that becomes a C string is a TypeError", async () => {
  const [near, far] = await loopbackPair();
  const failure = await rejection(
    makeInstance("socket-stream", {
      socket: near,
      sslCtx: true,
      sslSide: "client",
      tlsextHostName: "localhost\0.attacker.example",
      ctxConfigureCallback: trustTestCa,
    }),
    5000,
    "a host name with a NUL",
  );
  assert.ok(failure instanceof TypeError, String(failure));
  far.close(); // makeInstance closed its own end
  {
    using ctx = makeSslCtx({ sslSide: "client" });
    assert.throws(() => setCipherList(ctx, "HIGH\0:NULL"), TypeError);
  }
  assert.throws(
    () => createSslServerContext({ certFile: `${fixture("server.pem")}\0x`, keyFile: fixture("server.key") }),
    TypeError,
  );
  assert.throws(() => createSslClientContext({ alpnProtocols: ["h2\0x"] }), TypeError);
  assert.throws(() => createSslClientContext({ ciphers: "HIGH\0" }), TypeError);
  assert.throws(() => createSslClientContext({ opensslTrustedFile: "/etc/ssl\0/x" }), TypeError);
  assert.throws(() => createSslClientContext({ ...identity("client"), password: "a\0b" }), TypeError);
  assert.throws(() => setSslLibraryPath("libssl.so.3\0/elsewhere/libssl.so"), /NUL/);
  assert.throws(() => setSslLibraryPath({ libcrypto: "libcrypto.so.3\0x" }), /NUL/);
  const [client, server] = await tlsPairOverLoopback();
  assert.throws(() => client.exportKeyingMaterial(16, "EXPERIMENTAL\0x"), TypeError);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("C13 numbers that reach OpenSSL are range-checked with a RangeError naming the argument", async () => {
  using ctx = makeSslCtx({ sslSide: "client" });
  assert.throws(() => setVerificationMode(ctx, "client", 2 ** 33), /mode as a number/);
  assert.throws(() => setVerificationMode(ctx, "client", 0x100), RangeError);
  await assert.rejects(makeInstance("socket-stream", { socket: 2 ** 32 + 5 }), RangeError);
  const [client, server] = await tlsPairOverLoopback();
  assert.throws(
    () => client.exportKeyingMaterial(2 ** 31, "EXPERIMENTAL x"),
    /length must be an integer from 1/,
  );
  for (const value of [NaN, -5, Infinity, 2 ** 31]) {
    assert.throws(() => client.readTimeout = value, /readTimeout/);
    assert.throws(() => client.writeTimeout = value, /writeTimeout/);
  }
  assert.equal(client.readTimeout, undefined, "a refused value changes nothing");
  const [near, far] = await loopbackPair();
  await assert.rejects(
    makeInstance("socket-stream", { socket: near, sslCtx: true, handshakeTimeout: 2 ** 31 }),
    /handshakeTimeout/,
  );
  far.close();
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("C a write that times out sends all of its bytes or none: nothing is cut or spliced", async () => {
  const [client, server] = await tlsPairOverLoopback();
  client.writeTimeout = 200;
  const big = new Uint8Array(16 << 20).fill(0x41);
  const first = await rejection(client.write(big), 5000, "a 16 MiB write the peer does not read");
  assert.ok(first instanceof Deno.errors.TimedOut);
  assert.match(first.message, /all its bytes will still be sent/);
  const second = await rejection(client.write(encoder.encode("<END>")), 5000, "a write behind it");
  assert.ok(second instanceof Deno.errors.TimedOut);
  assert.match(second.message, /none of its bytes was sent/);
  client.writeTimeout = undefined;
  const reading = readAll(server);
  await within(client.write(encoder.encode("<LAST>")), 20_000, "a write after the first one drained");
  await within(client.closeWrite(), 5000, "closeWrite");
  const received = await within(reading, 20_000, "everything the client sent");
  assert.equal(
    received.length,
    big.length + 6,
    "the first write whole, the second not at all, then the third",
  );
  assert.ok(received.subarray(0, big.length).every((byte) => byte === 0x41));
  assert.equal(decoder.decode(received.subarray(big.length)), "<LAST>");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

Deno.test("C14 close() while a large write is in flight: it rejects with BadResource, resolved writes went out whole", async () => {
  const [client, server] = await tlsPairOverLoopback();
  const first = encoder.encode("resolved before close\n");
  await client.write(first);
  const large = client.write(new Uint8Array(8 << 20).fill(0x78));
  client.close();
  const failure = await rejection(large, 10_000, "the write in flight at close");
  assert.ok(failure instanceof Deno.errors.BadResource, String(failure));
  // The reader sees the resolved write whole, part of the other, then a clean close_notify.
  const received = await within(readAll(server), 10_000, "the server's reads to the close_notify");
  assert.equal(decoder.decode(received.subarray(0, first.length)), "resolved before close\n");
  assert.ok(received.subarray(first.length).every((byte) => byte === 0x78));
  await client.closed;
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("C names from objects' prototypes are not option or flag names", () => {
  using ctx = makeSslCtx({ sslSide: "client" });
  for (const flag of ["toString", "__proto__", "constructor", "valueOf"]) {
    assert.throws(
      () => setVerificationMode(ctx, "client", [flag as "verify-peer"]),
      TypeError,
      `setVerificationMode flag ${flag}`,
    );
  }
  assert.deepEqual(getVerificationMode(ctx), ["verify-peer"], "a refused flag changed nothing");
  assert.throws(() => setSslCtxOptions(ctx, { toString: true } as never), /unknown option "toString"/);
  assert.throws(() => opensslVersion("toString" as never), RangeError);
  assert.throws(() => makeSslCtx({ sslCtx: "constructor" as never }), TypeError);
});

Deno.test("C a pointer of one kind is not taken for the other", () => {
  using ctx = makeSslCtx({ sslSide: "client" });
  using ssl = sslNew(ctx);
  assert.throws(() => SslPointer.from(ctx.pointer), /live SslCtxPointer, not an SslPointer/);
  assert.throws(() => SslCtxPointer.from(ssl.pointer), /live SslPointer, not an SslCtxPointer/);
});

Deno.test("C subjectAltNames are read name by name: a comma inside a URI is not another name", async () => {
  await using server = serveCertificate("san-trick");
  const stream = await connectOutcome(server.port, { sslCtx: true, ctxConfigureCallback: trustTestCa });
  assert.ok(stream instanceof SocketStream, String(stream));
  assert.deepEqual(stream.peerCertificate()!.subjectAltNames, [
    "DNS:localhost",
    "URI:https://tenant.example/a,DNS:admin.example",
  ]);
  await stream[Symbol.asyncDispose]();
});

Deno.test("C an ambiguous numeric address is refused: the resolver and OpenSSL would read it differently", async () => {
  for (const host of ["127.0.0.010", "127.1", "2130706433", "127.0.0.256", "0127.0.0.1"]) {
    await assert.rejects(openTcpStream(host, 1, { sslCtx: true }), TypeError, host);
  }
  for (const tlsextHostName of ["127.0.0.010", "[]", ""]) {
    const [near, far] = await loopbackPair();
    const stream = new SocketStream({ socket: near });
    await assert.rejects(attachSsl(stream, { sslSide: "client", tlsextHostName }), TypeError, tlsextHostName);
    assert.equal(stream.ssl, null, "a call wrong from the start changes nothing");
    await stream.write(encoder.encode("still plain"));
    assert.equal(decoder.decode(await within(readBytes(far, 11), 5000, "plain bytes")), "still plain");
    await stream[Symbol.asyncDispose]();
    far.close();
  }
  const [near, far] = await loopbackPair();
  const stream = new SocketStream({ socket: near });
  await assert.rejects(attachSsl(stream, { sslSide: "client", tlsextHostName: "a".repeat(300) }), RangeError);
  await stream[Symbol.asyncDispose]();
  far.close();
  await assert.rejects(openTcpStream("local\0host", 1), TypeError);
});

Deno.test("C readDhparams refuses parameters that are not DH", async () => {
  const ec = await new Deno.Command("openssl", {
    args: ["ecparam", "-name", "prime256v1"],
    stdout: "piped",
  }).output();
  assert.throws(() => readDhparams(decoder.decode(ec.stdout)), /not DH parameters/);
});

Deno.test("C openTcpStream refuses a server context; a server without a certificate says so", async () => {
  using server = createSslServerContext(identity("server"));
  await assert.rejects(
    openTcpStream("localhost", 1, { sslCtx: server }),
    /cannot be a server SslAbstractContext/,
  );
  await using bare = serveOnce(true);
  const { output } = await runSClient(bare.port, [], "x\n");
  const served = await bare.served;
  assert.ok(
    served instanceof SslFailure && !(served instanceof SslVersionOrCipherMismatch),
    `${served}; ${output}`,
  );
  assert.match(served.message, /this server has no certificate and key/);
});

// ---------------------------------------------------------------------------------------------------------
// D. Servers under attack
// ---------------------------------------------------------------------------------------------------------

/** Child code for a server on `port` with 48 descriptors: reports failed accepts, its CPU meanwhile, echoes. */
function starvedServer(port: number, kind: "startUpServer" | "listenSsl"): string {
  return `
    import process from "node:process";
    // Deno itself may panic when descriptors run out while it starts up: let it settle first.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const context = mod.createSslServerContext(helpers.identity("server"));
    const errors = [];
    let cpuMs = null;
    let echoed = 0;
    const stop = new AbortController();
    const onError = (error) => {
      errors.push(error?.name ?? String(error));
      if (errors.length !== 1) return;
      const before = process.cpuUsage();
      setTimeout(() => { const used = process.cpuUsage(before); cpuMs = (used.user + used.system) / 1000; }, 1000);
    };
    const serve = async (stream) => {
      await helpers.echoOnce(stream);
      echoed++;
      await stream[Symbol.asyncDispose]();
      if (cpuMs !== null) stop.abort();
    };
    if (${JSON.stringify(kind)} === "startUpServer") {
      await mod.startUpServer({
        service: ${port}, address: "127.0.0.1", signal: stop.signal, onError, handshakeTimeout: 20000,
        function: async (conn) => { const [stream] = await mod.createSslSocketStream(conn, context); if (stream) await serve(stream); },
      });
    } else {
      const listener = mod.listenSsl({ port: ${port}, hostname: "127.0.0.1", sslCtx: context, signal: stop.signal, handshakeTimeout: 20000,
        onError: (error, addr) => { if (addr.port === ${port}) onError(error); } });
      for await (const stream of listener) serve(stream);
      await listener[Symbol.asyncDispose]();
    }
    context.close();
    console.log(JSON.stringify({ errors: [...new Set(errors)], failedAccepts: errors.length, cpuMs, echoed }));
  `;
}

for (const kind of ["startUpServer", "listenSsl"] as const) {
  Deno.test(`D15 ${kind} out of descriptors (ulimit -n 48): reports, backs off, serves again`, async () => {
    const port = freePortNumber();
    const child = runChild(starvedServer(port, kind), { shell: "ulimit -n 48", timeoutMs: 30_000 });
    await within(waitForListening(port), 10_000, `the child's ${kind} on port ${port}`);
    const idle: Deno.TcpConn[] = [];
    for (let i = 0; i < 47; i++) idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    // The child runs out of descriptors and measures its CPU for a second.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (const conn of idle) conn.close();
    // With descriptors free again, a real client is served.
    const stream = await within(
      (async () => {
        for (;;) {
          try {
            return await openTcpStream("localhost", port, {
              sslCtx: true,
              ctxConfigureCallback: trustTestCa,
              handshakeTimeout: 1000,
            });
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })(),
      15_000,
      "a client served once descriptors are free",
    );
    assert.equal(await within(roundTrip(stream, "back"), 5000, "the echo"), "back");
    await stream[Symbol.asyncDispose]();
    const result = await within(child, 30_000, "the child's report");
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.ok(report.failedAccepts > 0, `accepts failed and were reported: ${result.stdout}`);
    assert.ok(report.failedAccepts < 200, `paused between retries: ${report.failedAccepts} failed accepts`);
    assert.ok(
      report.cpuMs !== null && report.cpuMs < 300,
      `CPU over a second of failing accepts: ${report.cpuMs} ms`,
    );
    assert.ok(report.echoed >= 1);
  });
}

/** A loopback port that was free a moment ago. */
function freePortNumber(): number {
  const { listener, port } = listenLoopback();
  listener.close();
  return port;
}

/** Resolves once something listens on the port (probing with a connection that it closes at once). */
async function waitForListening(port: number): Promise<void> {
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

Deno.test("D16 a silent client cannot hold a startUpServer handler: the server's handshakeTimeout reaches createSslSocketStream", async () => {
  using context = createSslServerContext(identity("server"));
  const stop = new AbortController();
  const outcomes: unknown[] = [];
  let port = 0;
  const server = startUpServer({
    service: 0,
    address: "127.0.0.1",
    signal: stop.signal,
    handshakeTimeout: 300,
    announce: (addr) => port = addr.port,
    function: async (conn) => {
      const started = Date.now();
      const [, condition] = await createSslSocketStream(conn, context);
      outcomes.push([condition?.constructor.name, Date.now() - started]);
    },
  });
  await within(waitFor(() => port !== 0), 5000, "the server's port");
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  await within(waitFor(() => outcomes.length === 1), 3000, "the silent client's handshake to time out");
  const [name, ms] = outcomes[0] as [string, number];
  assert.equal(name, "SslHandshakeTimeout");
  assert.ok(ms >= 250 && ms < 2000, `cut after ${ms} ms`);
  silent.close();
  stop.abort();
  await within(server, 5000, "the server to stop");
});

Deno.test("D16 createSslSocketStream cuts a silent client after 10 s by default; handshakeTimeout null waits", async () => {
  using context = createSslServerContext(identity("server"));
  const [defaultNear, defaultFar] = await loopbackPair();
  const [noneNear, noneFar] = await loopbackPair();
  const started = Date.now();
  const byDefault = createSslSocketStream(defaultFar, context);
  let noneSettled = false;
  const none = createSslSocketStream(noneFar, context, { handshakeTimeout: null }).finally(() =>
    noneSettled = true
  );
  const [, condition] = await within(byDefault, 12_000, "the default handshake timeout");
  const elapsed = Date.now() - started;
  assert.ok(condition instanceof SslHandshakeTimeout, String(condition));
  assert.ok(elapsed >= 9_500 && elapsed < 11_500, `cut after ${elapsed} ms`);
  assert.equal(noneSettled, false, "handshakeTimeout: null has no limit");
  noneNear.close();
  const [, closed] = await within(none, 5000, "the unlimited handshake to see the close");
  assert.ok(closed instanceof SslCondition);
  defaultNear.close();
});

/** Resolves once `condition()` holds, checking every 10 ms. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

Deno.test("D17 after a fatal alert the server half-closes and drains: a client still sending gets no reset", async () => {
  // The module's server takes TLS 1.3 only; the ClientHello offers TLS 1.2 only, then the client keeps sending.
  using context = createSslServerContext({ ...identity("server"), protocolVersion: "tls-v1-3" });
  await using server = serveOnce(context);
  const hello = await capturedClientHello({ sslCtx: "tls-v1-2", tlsextHostName: "localhost" });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(hello);
  const alert = await within(readBytes(conn, 7), 5000, "the server's alert");
  assert.equal(alert[0], 21, "an alert record");
  // The server has refused the client. A client that pipelined more keeps sending for a moment.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const sent: string[] = [];
  for (let i = 0; i < 3; i++) {
    sent.push(
      await conn.write(new Uint8Array(64 * 1024).fill(0x17)).then(() => "sent", (error) => error.name),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(sent, ["sent", "sent", "sent"], "the server still read (and dropped) what came");
  await conn.closeWrite();
  const rest = await within(readAll(conn), 5000, "the end of the stream");
  assert.equal(rest.length, 0, "a clean end, not a reset");
  const served = await within(server.served, 5000, "the server's refusal");
  assert.ok(served instanceof SslVersionOrCipherMismatch, String(served));
  conn.close();
});

Deno.test("D18 module-built contexts offer forward-secret AEAD suites only at TLS 1.2; wider lists are opt-in", async () => {
  // As a server: s_client offering only static-RSA or CBC suites is refused, an ECDHE-GCM one is served.
  for (
    const [cipher, accepted] of [["AES128-SHA", false], ["ECDHE-RSA-AES128-SHA", false], [
      "AES128-GCM-SHA256",
      false,
    ], ["ECDHE-ECDSA-AES128-GCM-SHA256", true]] as const
  ) {
    await using server = serveOnce(true, { ctxConfigureCallback: (ctx) => useCertificate(ctx) });
    const { output } = await runSClient(server.port, ["-tls1_2", "-cipher", cipher], "x\n");
    const served = await server.served;
    assert.equal(served instanceof SocketStream, accepted, `${cipher}: ${served}; ${output}`);
  }
  // As a client: a server with only a CBC suite is refused unless the client asks for it.
  const { peer, port } = await startOpensslServer(
    ["-tls1_2", "-cipher", "AES128-SHA", "-naccept", "2"],
    "rsa-server",
  );
  await using _peer = peer;
  using strict = createSslClientContext(trustCa);
  const refused = await connectOutcome(port, { sslCtx: strict });
  assert.ok(refused instanceof SslVersionOrCipherMismatch, String(refused));
  using wide = createSslClientContext({ ...trustCa, ciphers: "AES128-SHA" });
  const stream = await connectOutcome(port, { sslCtx: wide });
  assert.ok(stream instanceof SocketStream, String(stream));
  assert.equal(stream.cipher, "AES128-SHA");
  await stream[Symbol.asyncDispose]();
});

// ---------------------------------------------------------------------------------------------------------
// E. Errors that tell the truth
// ---------------------------------------------------------------------------------------------------------

Deno.test("E19 a server refusing a client certificate reports SslVerificationFailure with the code, and no host-name advice", async () => {
  using context = createSslServerContext({ ...identity("server"), ...trustCa, requireClientCert: true });
  await using server = serveOnce(context);
  const { output } = await runSClient(server.port, [
    "-cert",
    fixture("untrusted-client.pem"),
    "-key",
    fixture("untrusted-client.key"),
  ], "x\n");
  const served = await server.served;
  assert.ok(served instanceof SslVerificationFailure, `${served}; ${output}`);
  assert.equal(served.verifyCode, 20);
  assert.match(served.message, /the client's certificate did not verify/);
  assert.doesNotMatch(served.message, /host name/);
});

Deno.test("E19 a client whose certificate a TLS 1.2 server wanted gets SslFailure, never SslVersionOrCipherMismatch", async () => {
  const { peer, port } = await startOpensslServer(["-Verify", "1", "-CAfile", fixture("ca.pem"), "-tls1_2"]);
  await using _peer = peer;
  using client = createSslClientContext(trustCa);
  const failure = await connectOutcome(port, { sslCtx: client });
  assert.ok(failure instanceof SslFailure, String(failure));
  assert.ok(!(failure instanceof SslVersionOrCipherMismatch), String(failure));
  assert.match(failure.message, /after agreeing on a version and cipher/);
});

Deno.test("E19 a refused renegotiation is SslFailure saying so, never SslVersionOrCipherMismatch", async () => {
  const { peer, port } = await startOpensslServer(["-tls1_2"]);
  await using _peer = peer;
  using client = createSslClientContext({
    ...trustCa,
    opensslCtxConfigureCallback: (ctx) => setSslCtxOptions(ctx, { noRenegotiation: true }),
  });
  await using stream = await within(
    openTcpStream("localhost", port, { sslCtx: client }),
    5000,
    "the handshake",
  );
  await peer.send("r\n"); // s_server: renegotiate
  const failure = await rejection(
    stream.read(new Uint8Array(16)),
    5000,
    "a read during the refused renegotiation",
  );
  assert.ok(failure instanceof SslFailure, String(failure));
  assert.ok(!(failure instanceof SslVersionOrCipherMismatch), String(failure));
  assert.match(failure.message, /the server renegotiated, this client refused/);
});

Deno.test("E19 a connection with no state, or a method that cannot take the role, says what to do", async () => {
  const [a, b] = await loopbackPair();
  using serverOnly = makeSslCtx({ sslSide: "server" });
  const failure = await rejection(
    makeInstance("socket-stream", {
      socket: a,
      sslCtx: serverOnly,
      sslSide: "client",
      tlsextHostName: "localhost",
    }),
    5000,
    "a client SSL from a server context",
  );
  assert.match(failure.message, /cannot take this role/);
  b.close();
  const [c, d] = await loopbackPair();
  using raw = makeSslCtx({ sslSide: "both" });
  const lost = SslPointer.from(libssl.SSL_new(raw.pointer));
  // TLS_method SSLs start as servers without a handshake function until a state is set.
  const typeless = await makeInstance("socket-stream", { socket: c, sslCtx: lost });
  const none = await rejection(typeless.handshake(), 5000, "a handshake with no connection type");
  assert.ok(none instanceof SslCondition, String(none));
  assert.match(none.message, /neither a client nor a server yet; pass sslSide/);
  await typeless[Symbol.asyncDispose]();
  d.close();
  lost.destroy();
});

Deno.test("E19 a write after the transport was cut says the write failed", async () => {
  let serverConn: Deno.TcpConn | undefined;
  const [client, server] = await tlsPairOverLoopback({ wrapServer: (conn) => serverConn = conn });
  // The server's TCP connection goes away under its stream, without close_notify.
  serverConn!.close();
  const read = await rejection(client.read(new Uint8Array(8)), 5000, "a read after the peer left");
  assert.match(read.message, /^TLS read failed/);
  const write = await rejection(client.write(encoder.encode("late")), 5000, "a write after the peer left");
  assert.match(write.message, /^TLS write failed: the TLS session had already failed \(TLS read failed/);
  assert.equal(write.constructor, read.constructor, "the same class of error");
  assert.equal(write.cause, read.cause ?? write.cause);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  assertNoLiveObjects();
});

Deno.test("E19 setCipherList's error quotes a short prefix of a long list", () => {
  using ctx = makeSslCtx({ sslSide: "client" });
  const long = "NOSUCHCIPHER:".repeat(10_000);
  const failure = (() => {
    try {
      setCipherList(ctx, long);
    } catch (error) {
      return error as Error;
    }
  })();
  assert.ok(failure instanceof SslCondition);
  assert.ok(failure.message.length < 500, `${failure.message.length} characters`);
  assert.match(failure.message, /130000 characters/);
});
