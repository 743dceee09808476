// Hot reload: context.reload() re-reads its files (new connections get the new certificate, live ones keep
// theirs, a failed reload changes nothing), a client context's reload re-reads its trust file, and
// listener.setContext swaps a listenSsl listener's context; every SSL_CTX is freed once its last connection
// ends.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  listenSsl,
  openTcpStream,
  type SocketStream,
  SslCondition,
  SslVerificationFailure,
} from "../mod.ts";
import {
  echoOnce,
  fixture,
  fixtureText,
  FreeWatcher,
  identity,
  roundTrip,
  runSClient,
  trustCa,
  within,
} from "./_helpers.ts";
import { loadOpenssl } from "../ffi/mod.ts";

/** Copies the fixture certificate and key `name` to `directory`/live.pem and live.key. */
async function install(directory: string, name: string): Promise<void> {
  await Deno.copyFile(fixture(`${name}.pem`), `${directory}/live.pem`);
  await Deno.copyFile(fixture(`${name}.key`), `${directory}/live.key`);
}

/** The key type of the certificate the server on `port` presents to s_client. */
async function presentedKey(port: number): Promise<string> {
  const { code, output } = await runSClient(port, ["-servername", "localhost"], "");
  assert.equal(code, 0, output);
  return output.match(/Server public key is (\d+) bit/)?.[1] ?? output;
}

Deno.test("reload: new connections get the new certificate, live ones keep theirs, a failed reload changes nothing", async () => {
  using watcher = new FreeWatcher();
  const directory = await Deno.makeTempDir();
  try {
    await install(directory, "server");
    const context = createSslServerContext({
      certFile: `${directory}/live.pem`,
      keyFile: `${directory}/live.key`,
    });
    await using listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: context });
    const port = listener.addr.port;
    const streams = listener[Symbol.asyncIterator]();
    const serveNext = async () => {
      const next = await within(streams.next(), 5000, "the next accepted stream");
      assert.ok(!next.done);
      return next.value;
    };
    using client = createSslClientContext(trustCa);

    const serving = serveNext();
    const live = await within(openTcpStream("localhost", port, { sslCtx: client }), 5000, "the first client");
    const liveServer: SocketStream = await serving;
    assert.equal(live.peerCertificate()?.publicKey.type, "EC");

    await install(directory, "rsa-server");
    context.reload();
    const rsaServing = serveNext();
    assert.equal(await presentedKey(port), "2048", "a new connection gets the renewed RSA certificate");
    await (await rsaServing).close();

    // The live connection still works, on the certificate it had.
    const echoing = echoOnce(liveServer);
    assert.equal(
      await within(roundTrip(live, "still here"), 5000, "the live connection's echo"),
      "still here",
    );
    await echoing;
    assert.equal(live.peerCertificate()?.publicKey.type, "EC");

    // A broken key file: the reload throws and the context keeps serving the certificate before it.
    await Deno.writeTextFile(
      `${directory}/live.key`,
      "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n",
    );
    assert.throws(
      () => context.reload(),
      (error: Error) => error instanceof SslCondition && /keyFile/.test(error.message),
    );
    const afterFailure = serveNext();
    assert.equal(await presentedKey(port), "2048", "a failed reload keeps the last good certificate");
    await (await afterFailure).close();

    await live.close();
    await liveServer.close();
    context.close();
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
  // Each SSL_CTX (the first, the reloaded one, the one a failed reload made) is freed.
  watcher.assertAllFreed();
});

Deno.test("reload on a client context re-reads its trusted file", async () => {
  const directory = await Deno.makeTempDir();
  try {
    await Deno.copyFile(fixture("untrusted-ca.pem"), `${directory}/trusted.pem`);
    using client = createSslClientContext({ opensslTrustedFile: `${directory}/trusted.pem` });
    using server = createSslServerContext({
      certFile: fixture("server.pem"),
      keyFile: fixture("server.key"),
    });
    await using listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: server, onError: () => {} });
    const connect = () =>
      within(openTcpStream("localhost", listener.addr.port, { sslCtx: client }), 5000, "connect");
    await assert.rejects(connect(), SslVerificationFailure);
    await Deno.copyFile(fixture("ca.pem"), `${directory}/trusted.pem`);
    client.reload();
    const stream = await connect();
    await stream.close();
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("listener.setContext: connections accepted after it get the new context; wrong arguments are refused", async () => {
  using ec = createSslServerContext({ certFile: fixture("server.pem"), keyFile: fixture("server.key") });
  using rsa = createSslServerContext({
    certFile: fixture("rsa-server.pem"),
    keyFile: fixture("rsa-server.key"),
  });
  await using listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: ec });
  const streams = listener[Symbol.asyncIterator]();
  for (const [context, bits] of [[ec, "256"], [rsa, "2048"]] as const) {
    listener.setContext(context);
    const serving = within(streams.next(), 5000, "the accepted stream");
    assert.equal(await presentedKey(listener.addr.port), bits);
    const next = await serving;
    if (!next.done) await next.value.close();
  }
  using client = createSslClientContext(trustCa);
  const closed = createSslServerContext({ certFile: fixture("server.pem"), keyFile: fixture("server.key") });
  closed.close();
  for (const wrong of [client, closed, true, "tls-v1-2", null]) {
    assert.throws(() => listener.setContext(wrong as never), TypeError, String(wrong));
  }
});

Deno.test("reload after close is refused", () => {
  const context = createSslServerContext({ certFile: fixture("server.pem"), keyFile: fixture("server.key") });
  context.close();
  assert.throws(() => context.reload(), /closed/);
});

Deno.test("reload with a new CRL: sessions verified before it do not resume after it", async () => {
  const directory = await Deno.makeTempDir();
  try {
    // At first the CRL revokes only an intermediate; the server's certificate passes.
    await Deno.copyFile(fixture("ca-revokes-intermediate.crl"), `${directory}/current.crl`);
    using client = createSslClientContext({
      ...trustCa,
      crlFile: `${directory}/current.crl`,
      sessionCache: true,
    });
    using server = createSslServerContext({
      certFile: fixture("revoked.pem"),
      keyFile: fixture("revoked.key"),
    });
    await using listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: server, onError: () => {} });
    const serving = (async () => {
      for await (const stream of listener) {
        await echoOnce(stream).catch(() => {});
        await stream.close();
      }
    })();
    const connect = async () => {
      const stream = await within(
        openTcpStream("localhost", listener.addr.port, { sslCtx: client }),
        5000,
        "connect",
      );
      await using _stream = stream;
      assert.equal(await within(roundTrip(stream, "ping"), 5000, "the echo"), "ping");
      return stream.isSessionReused();
    };
    assert.equal(await connect(), false);
    assert.equal(await connect(), true, "resumes while nothing changed");
    client.reload();
    assert.equal(await connect(), true, "a reload that changed nothing keeps resuming");
    // Now the CRL revokes the server's certificate.
    await Deno.copyFile(fixture("ca.crl"), `${directory}/current.crl`);
    client.reload();
    await assert.rejects(
      connect(),
      (error: Error) => error instanceof SslVerificationFailure && error.verifyCode === 23,
    );
    listener.close();
    await serving;
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("review: a client accepted before setContext, whose ClientHello comes after the old routing context closed, is served", async () => {
  using other = createSslServerContext({
    certFile: fixture("rsa-server.pem"),
    keyFile: fixture("rsa-server.key"),
  });
  let context = createSslServerContext({
    certFile: fixture("server.pem"),
    keyFile: fixture("server.key"),
    sni: { "other.example": other },
  });
  const errors: unknown[] = [];
  await using listener = listenSsl({
    port: 0,
    hostname: "127.0.0.1",
    sslCtx: context,
    onError: (error) => errors.push(error),
  });
  const serving = (async () => {
    for await (const stream of listener) await stream.close();
  })();
  const socket = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const renewed = createSslServerContext({ certFile: fixture("server.pem"), keyFile: fixture("server.key") });
  listener.setContext(renewed);
  context.close();
  context = renewed;
  using client = createSslClientContext(trustCa);
  const { makeInstance } = await import("../mod.ts");
  const stream = await within(
    makeInstance("socket-stream", { socket, sslCtx: client, sslSide: "client", tlsextHostName: "localhost" }),
    5000,
    "the client's handshake",
  );
  await stream.close();
  assert.deepEqual(errors, []);
  listener.close();
  await serving;
  context.close();
});

Deno.test("review: reload() applies the options given at creation, not the caller's object changed since", () => {
  const options = { ...identity("server"), ...trustCa, requireClientCert: true, alpnProtocols: ["h2"] };
  using context = createSslServerContext(options);
  const { libssl } = loadOpenssl();
  const required = libssl.SSL_CTX_get_verify_mode(context.ctx.pointer);
  assert.equal(required & 3, 3, "SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT");
  options.requireClientCert = false;
  options.alpnProtocols.push("http/1.1");
  (options as Record<string, unknown>).ca = undefined;
  context.reload();
  assert.equal(
    libssl.SSL_CTX_get_verify_mode(context.ctx.pointer),
    required,
    "the reload kept the requirement",
  );
});

Deno.test("review: reload() uses the bytes given at creation, not a caller's byte array inside a list changed since", () => {
  const pem = fixtureText("ca.pem");
  const base64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  using context = createSslClientContext({ ca: [der] });
  der.fill(0);
  context.reload(); // a copy of the list, not of its bytes, would fail here on a zeroed certificate
  assert.equal(context.closed, false);
});
