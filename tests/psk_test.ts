// Pre-shared keys: TLS 1.3 external PSKs and TLS 1.2 PSK suites, from the module's client to
// `openssl s_server -psk` and from `openssl s_client -psk` to the module's server, and between the module's
// own ends: a wrong key or an unknown identity fails, a PSK-only server needs no certificate and refuses a
// client without one, a server with both serves either.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  makeInstance,
  openTcpStream,
  SocketStream,
  SslCondition,
} from "../mod.ts";
import {
  decoder,
  echoOnce,
  encoder,
  fixtureText,
  identity,
  readBytes,
  roundTrip,
  runSClient,
  serveOnce,
  startOpensslServer,
  within,
} from "./_helpers.ts";

const KEY_HEX = "0123456789abcdef0123456789abcdef";
const key = Uint8Array.from(KEY_HEX.match(/../g)!, (pair) => parseInt(pair, 16));
const wrongKey = crypto.getRandomValues(new Uint8Array(16));
// s_client's and s_server's default identity.
const ID = "Client_identity";
const versions = [["tls-v1-2", "-tls1_2", "TLSv1.2"], ["tls-v1-3", "-tls1_3", "TLSv1.3"]] as const;

/** What a client of `options` gets from the server on `port`: its stream, or the error. */
async function outcome(port: number, options: Parameters<typeof createSslClientContext>[0]) {
  using context = createSslClientContext(options);
  try {
    return await within(openTcpStream("localhost", port, { sslCtx: context }), 5000, "the handshake");
  } catch (error) {
    return error as Error;
  }
}

Deno.test("the module's client with a PSK against openssl s_server -nocert -psk, TLS 1.2 and 1.3", async () => {
  for (const [version, , protocol] of versions) {
    const { peer, port } = await startOpensslServer(["-nocert", "-psk", KEY_HEX, "-www"]);
    await using _peer = peer;
    const stream = await outcome(port, { psk: { identity: ID, key }, maxProtocolVersion: version });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    assert.equal(stream.protocol, protocol);
    assert.equal(stream.peerCertificate(), null, "authenticated by the key, no certificate");
    if (version === "tls-v1-2") assert.match(stream.cipher ?? "", /PSK/);
    else assert.match(stream.cipher ?? "", /SHA256$/, "a TLS 1.3 suite on SHA-256");
    await stream.write(encoder.encode("GET / HTTP/1.0\r\n\r\n"));
    assert.match(decoder.decode(await readBytes(stream, 1 << 16)), /HTTP\/1\.0 200/);
  }
});

Deno.test("a wrong key fails the handshake with an SslCondition, TLS 1.2 and 1.3", async () => {
  for (const [version] of versions) {
    const { peer, port } = await startOpensslServer(["-nocert", "-psk", KEY_HEX, "-www"]);
    await using _peer = peer;
    const result = await outcome(port, { psk: { identity: ID, key: wrongKey }, maxProtocolVersion: version });
    assert.ok(result instanceof SslCondition, `${version}: ${result}`);
  }
});

Deno.test("openssl s_client -psk against the module's PSK-only server: the identity reaches pskCallback", async () => {
  const seen: string[] = [];
  using context = createSslServerContext({
    pskCallback: (identity) => {
      seen.push(identity);
      return identity === ID ? key : null;
    },
  });
  for (const [, flag, protocol] of versions) {
    await using server = serveOnce(context);
    const serving = server.served.then(async (stream) => {
      if (stream instanceof Error) throw stream;
      await echoOnce(stream);
      const certificate = stream.peerCertificate();
      await stream.close();
      return certificate;
    });
    const { code, output } = await runSClient(server.port, ["-psk", KEY_HEX, flag, "-ign_eof"], "over psk\n");
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`${protocol}, Cipher is`));
    assert.match(output, /over psk/, "the echo came back");
    assert.equal(await within(serving, 5000, "the server's stream"), null);
  }
  assert.deepEqual(seen, [ID, ID]);
});

Deno.test("the module's server refuses an unknown identity, a wrong key, and a client without a PSK", async () => {
  using context = createSslServerContext({ pskCallback: (identity) => identity === ID ? key : null });
  const refused = async (options: Parameters<typeof createSslClientContext>[0], what: string) => {
    await using server = serveOnce(context);
    const result = await outcome(server.port, options);
    assert.ok(result instanceof SslCondition, `${what}: the client got ${result}`);
    assert.ok(
      (await within(server.served, 5000, "the server")) instanceof SslCondition,
      `${what}: the server`,
    );
  };
  for (const [version] of versions) {
    await refused({ psk: { identity: "stranger", key }, maxProtocolVersion: version }, `${version} unknown`);
    await refused(
      { psk: { identity: ID, key: wrongKey }, maxProtocolVersion: version },
      `${version} wrong key`,
    );
    // No PSK and the server has no certificate: nothing to authenticate it with.
    await refused({ ca: fixtureText("ca.pem"), maxProtocolVersion: version }, `${version} no PSK`);
  }
});

Deno.test("a server with a certificate and a PSK serves both kinds of client; the hint reaches a TLS 1.2 client", async () => {
  using context = createSslServerContext({
    ...identity("server"),
    pskCallback: (identity) => identity === ID ? key : null,
    pskIdentityHint: "hint-1",
  });
  for (const [version] of versions) {
    {
      await using server = serveOnce(context);
      const stream = await outcome(server.port, { ca: fixtureText("ca.pem"), maxProtocolVersion: version });
      assert.ok(stream instanceof SocketStream, String(stream));
      await using _stream = stream;
      assert.match(stream.peerCertificate()?.subject ?? "", /CN=localhost/, `${version}: by certificate`);
    }
    const hints: (string | null)[] = [];
    await using server = serveOnce(context);
    const stream = await outcome(server.port, {
      ca: fixtureText("ca.pem"),
      maxProtocolVersion: version,
      // At TLS 1.2 the suite decides: with a certificate suite on offer too, the server would take that.
      ...(version === "tls-v1-2" ? { ciphers: "ECDHE-PSK-CHACHA20-POLY1305" } : {}),
      pskCallback: (hint) => {
        hints.push(hint);
        return { identity: ID, key };
      },
    });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    const served = await within(server.served, 5000, "the server");
    assert.ok(served instanceof SocketStream, String(served));
    const echoing = echoOnce(served);
    assert.equal(await roundTrip(stream, "psk"), "psk");
    await echoing;
    assert.equal(stream.peerCertificate(), null, `${version}: by the key`);
    assert.deepEqual(hints, version === "tls-v1-2" ? ["hint-1"] : [null]);
  }
});

Deno.test("PSK options are checked; a PSK callback that throws or answers wrongly refuses", async () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => createSslClientContext({ psk: { identity: ID, key: new Uint8Array(0) } }),
      /psk.key must be 1 to 512/,
    ],
    [
      () => createSslClientContext({ psk: { identity: ID, key: new Uint8Array(513) } }),
      /psk.key must be 1 to 512/,
    ],
    [() => createSslClientContext({ psk: { identity: "a\0b", key } }), /NUL/],
    [() => createSslClientContext({ psk: { identity: "x".repeat(129), key } }), /at most 128 bytes/],
    [() => createSslClientContext({ psk: "secret" as never }), /psk must be \{ identity, key \}/],
    [
      () => createSslClientContext({ psk: { identity: ID, key }, pskCallback: () => null }),
      /psk or pskCallback, not both/,
    ],
    [() => createSslServerContext({}), /needs certFile and keyFile/],
    // What checks a certificate cannot hold for a peer that uses the key.
    [
      () => createSslClientContext({ psk: { identity: ID, key }, pins: ["sha256/" + "A".repeat(43) + "="] }),
      /pins check the peer's certificate/,
    ],
    [() => createSslClientContext({ psk: { identity: ID, key }, ocspCheck: "require" }), /ocspCheck check/],
    [() => createSslClientContext({ pskCallback: () => null, crlFile: "ca.crl" }), /crlFile check/],
    [
      () =>
        createSslServerContext({
          ...identity("server"),
          ca: fixtureText("ca.pem"),
          requireClientCert: true,
          pskCallback: () => key,
        }),
      /requestClientCert\/requireClientCert would not hold/,
    ],
    [() => createSslServerContext({ pskCallback: "key" as never }), /pskCallback must be a function/],
    [() => createSslServerContext({ pskCallback: () => key, pskIdentityHint: "" }), /pskIdentityHint/],
  ];
  for (const [make, message] of cases) {
    assert.throws(
      make,
      (error: Error) => error instanceof TypeError && message.test(error.message),
      String(message),
    );
  }
  for (
    const answer of [
      () => {
        throw new Error("key store down");
      },
      () => "not bytes" as never,
      () => new Uint8Array(600),
    ]
  ) {
    using context = createSslServerContext({ pskCallback: answer });
    await using server = serveOnce(context);
    const result = await outcome(server.port, { psk: { identity: ID, key } });
    assert.ok(result instanceof SslCondition, String(result));
  }
  using server = createSslServerContext({ pskCallback: () => key });
  for (const answer of [() => ({ identity: "", key }), () => ({ identity: ID, key: "k" })]) {
    await using listening = serveOnce(server);
    const result = await outcome(listening.port, { pskCallback: answer as never });
    assert.ok(result instanceof SslCondition, String(result));
  }
});

Deno.test("a client pskCallback is asked once per handshake: at TLS 1.3 an answer of null is not asked for again", async () => {
  const lookup = (identity: string) => identity === ID ? key : null;
  using server = createSslServerContext({ ...identity("server"), pskCallback: lookup });
  // A server that takes only P-256 asks a client whose first key share is X25519 for another (HelloRetryRequest).
  using retrying = createSslServerContext({ ...identity("server"), pskCallback: lookup, groups: "P-256" });
  // A TLS 1.2 server without a hint: the ClientKeyExchange asks the ClientHello's question again.
  using older = createSslServerContext({
    ...identity("server"),
    pskCallback: lookup,
    maxProtocolVersion: "tls-v1-2",
  });
  const psk = { identity: ID, key };
  const retry = { groups: "X25519:P-256" };
  const pskSuite = { ciphers: "ECDHE-PSK-CHACHA20-POLY1305" };
  for (
    const [context, options, answer, reused, what] of [
      [server, {}, null, false, "TLS 1.3, null"],
      [server, {}, psk, true, "TLS 1.3, a PSK"],
      [retrying, retry, null, false, "TLS 1.3 after a retry, null"],
      [retrying, retry, psk, true, "TLS 1.3 after a retry, a PSK"],
      [older, pskSuite, psk, false, "TLS 1.2, a PSK"],
    ] as const
  ) {
    const hints: (string | null)[] = [];
    await using listening = serveOnce(context);
    const stream = await outcome(listening.port, {
      ca: fixtureText("ca.pem"),
      ...options,
      pskCallback: (hint) => {
        hints.push(hint);
        return answer;
      },
    });
    assert.ok(stream instanceof SocketStream, `${what}: ${stream}`);
    await using _stream = stream;
    // A TLS 1.3 PSK handshake reports a reused session, as OpenSSL does.
    assert.equal(stream.isSessionReused(), reused, what);
    if (what.startsWith("TLS 1.2")) assert.match(stream.cipher ?? "", /PSK/, what);
    assert.deepEqual(hints, [null], `${what}: asked once`);
  }
});

Deno.test("a server pskCallback that threw leaves nothing behind: a later failure on that connection says what it is", async () => {
  using server = createSslServerContext({
    ...identity("server"),
    pskCallback: () => {
      throw new Error("key store down");
    },
  });
  // The client offers a PSK and trusts the certificate: the server refuses the key and goes on with its certificate.
  using client = createSslClientContext({ ca: fixtureText("ca.pem"), psk: { identity: ID, key } });
  await using listening = serveOnce(server);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listening.port });
  await using stream = await within(
    makeInstance("socket-stream", {
      socket: conn,
      sslCtx: client,
      sslSide: "client",
      tlsextHostName: "localhost",
    }),
    5000,
    "the handshake",
  );
  assert.equal(stream.isSessionReused(), false, "the certificate served, not the key");
  const served = await within(listening.served, 5000, "the server's handshake");
  assert.ok(served instanceof SocketStream, String(served));
  // A TLS 1.3 application data record that no key decrypts, written under the client's TLS.
  await conn.write(new Uint8Array([23, 3, 3, 0, 32, ...crypto.getRandomValues(new Uint8Array(32))]));
  const error = await within(
    served.read(new Uint8Array(16)).then(() => new Error("read a record no key decrypts"), (e) => e as Error),
    5000,
    "the server's read",
  );
  assert.ok(error instanceof SslCondition, String(error));
  assert.doesNotMatch(
    error.message,
    /PSK callback/,
    "a note from the handshake must not label a later failure",
  );
  assert.match(error.message, /decrypt|bad record mac/i);
});

Deno.test("a PSK answer of the wrong length says its length, and one given as a promise says to answer synchronously", async () => {
  // The option, checked when the context is made.
  assert.throws(
    () => createSslClientContext({ psk: { identity: ID, key: new Uint8Array(513) } }),
    (error: Error) =>
      error instanceof TypeError && /psk\.key must be 1 to 512 bytes, got 513 bytes$/.test(error.message),
  );
  // A client's pskCallback: its answer is checked in the handshake, which fails saying why.
  using server = createSslServerContext({ pskCallback: () => key });
  const client: [(hint: string | null) => unknown, RegExp][] = [
    [() => ({ identity: ID, key: new Uint8Array(0) }), /answer\.key must be 1 to 512 bytes, got 0 bytes/],
    [() => ({ identity: ID, key: new Uint8Array(600) }), /answer\.key must be 1 to 512 bytes, got 600 bytes/],
    [
      () => Promise.resolve({ identity: ID, key }),
      /pskCallback must answer synchronously, not with a promise/,
    ],
    // A rejected promise is not left unhandled (the test would fail on it).
    [() => Promise.reject(new Error("key store down")), /must answer synchronously, not with a promise/],
  ];
  for (const [answer, message] of client) {
    for (const [version] of versions) {
      await using listening = serveOnce(server);
      const result = await outcome(listening.port, {
        pskCallback: answer as never,
        maxProtocolVersion: version,
      });
      assert.ok(result instanceof SslCondition, `${version}: ${result}`);
      assert.match(result.message, message, version);
      assert.doesNotMatch(result.message, /got Uint8Array|got undefined/, version);
    }
  }
  // A server's pskCallback (a PSK-only server: the failure ends its handshake, and its stream says why).
  const serverAnswers: [(identity: string) => unknown, RegExp][] = [
    [() => new Uint8Array(0), /answer must be 1 to 512 bytes, got 0 bytes/],
    [() => new Uint8Array(600), /answer must be 1 to 512 bytes, got 600 bytes/],
    [() => Promise.resolve(key), /pskCallback must answer synchronously, not with a promise/],
    [() => Promise.reject(new Error("key store down")), /must answer synchronously, not with a promise/],
  ];
  for (const [answer, message] of serverAnswers) {
    for (const [version] of versions) {
      using context = createSslServerContext({ pskCallback: answer as never });
      await using listening = serveOnce(context);
      const result = await outcome(listening.port, {
        psk: { identity: ID, key },
        maxProtocolVersion: version,
      });
      assert.ok(result instanceof SslCondition, `${version}: the client got ${result}`);
      const served = await within(listening.served, 5000, "the server's handshake");
      assert.ok(served instanceof SslCondition, `${version}: the server got ${served}`);
      assert.match(served.message, message, version);
    }
  }
});
