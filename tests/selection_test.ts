// Certificates chosen as clients arrive: an `sni` function that answers with a promise, a clientHelloCallback
// that sees the ClientHello (name, ALPN, suites, versions) and picks or refuses, and a client's
// certRequestCallback that sees the CAs a server accepts and answers now or later. Against openssl s_client,
// s_server and curl; the event loop keeps running while they wait.
import assert from "node:assert/strict";
import {
  type ClientHelloInfo,
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  SocketStream,
  SslCondition,
} from "../mod.ts";
import {
  fixture,
  fixtureText,
  identity,
  runSClient,
  serveOnce,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";

const later = <T>(value: T, ms = 50) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

/** The subject of the certificate the server on `port` presents to s_client asking for `name`. */
async function presented(port: number, name: string, extra: string[] = []): Promise<string> {
  const { output } = await runSClient(port, ["-servername", name, ...extra]);
  return output.match(/^subject=(.*)$/m)?.[1] ?? output;
}

Deno.test("sni may answer with a promise; the event loop runs meanwhile; a rejection refuses with unrecognized_name", async () => {
  using wildcard = createSslServerContext(identity("wildcard"));
  let ticks = 0;
  using context = createSslServerContext({
    ...identity("server"),
    sni: async (name) => {
      const timer = setInterval(() => ticks++, 5);
      try {
        await later(null, 60);
      } finally {
        clearInterval(timer);
      }
      if (name === "refused.test.example") throw new Error("no such tenant");
      return name.endsWith(".test.example") ? wildcard : undefined;
    },
  });
  {
    await using server = serveOnce(context);
    assert.match(await presented(server.port, "www.test.example"), /CN ?= ?\*\.test\.example/);
    assert.ok((await server.served) instanceof SocketStream);
  }
  assert.ok(ticks >= 3, `the event loop ran while sni waited (${ticks} ticks)`);
  {
    await using server = serveOnce(context);
    assert.match(await presented(server.port, "localhost"), /CN ?= ?localhost/);
  }
  await using server = serveOnce(context);
  const { output } = await runSClient(server.port, ["-servername", "refused.test.example"]);
  assert.match(output, /unrecognized name/i);
  const refused = await server.served;
  assert.ok(refused instanceof SslCondition && /no such tenant/.test(refused.message), String(refused));
});

Deno.test("clientHelloCallback sees name, ALPN, suites and versions, picks the context, or refuses with an alert", async () => {
  using rsa = createSslServerContext(identity("rsa-server"));
  const seen: ClientHelloInfo[] = [];
  using context = createSslServerContext({
    ...identity("server"),
    clientHelloCallback: (info) => {
      seen.push(info);
      if (info.alpnProtocols.includes("refuse-me")) throw new Error("not this protocol");
      // RSA for clients that cannot do TLS 1.3 (any choice would do: it is the callback's).
      return info.versions.includes(0x0304) ? undefined : later(rsa);
    },
  });
  {
    await using server = serveOnce(context);
    const subject = await presented(server.port, "localhost", ["-alpn", "h2,http/1.1"]);
    assert.match(subject, /O ?= ?comm socket-stream tests/);
  }
  assert.equal(seen[0].serverName, "localhost");
  assert.deepEqual(seen[0].alpnProtocols, ["h2", "http/1.1"]);
  assert.ok(
    seen[0].versions.includes(0x0304) && seen[0].cipherSuites.includes(0x1301),
    JSON.stringify(seen[0]),
  );
  {
    await using server = serveOnce(context);
    assert.match(await presented(server.port, "localhost", ["-tls1_2"]), /O ?= ?rsa/);
  }
  await using server = serveOnce(context);
  const { output } = await runSClient(server.port, ["-servername", "localhost", "-alpn", "refuse-me"]);
  assert.match(output, /handshake failure/i);
  const refused = await server.served;
  assert.ok(
    refused instanceof SslCondition && /clientHelloCallback refused.*not this protocol/.test(refused.message),
    String(refused),
  );
});

Deno.test("clientHelloCallback answering wrongly, or too late, fails the handshake cleanly", async () => {
  using client = createSslClientContext(trustCa);
  using clientContext = createSslClientContext({ verify: false });
  for (
    const [answer, expected] of [
      [() => "not a context", /answered wrongly/],
      [() => clientContext, /answered wrongly/],
    ] as const
  ) {
    using context = createSslServerContext({ ...identity("server"), clientHelloCallback: answer as never });
    await using server = serveOnce(context);
    await assert.rejects(
      within(openTcpStream("localhost", server.port, { sslCtx: client }), 5000, "connect"),
      SslCondition,
    );
    const refused = await server.served;
    assert.ok(refused instanceof SslCondition && expected.test(refused.message), String(refused));
  }
  // Never settling: the server's handshake timeout ends it.
  using stuck = createSslServerContext({
    ...identity("server"),
    clientHelloCallback: () => new Promise<undefined>(() => {}),
  });
  await using server = serveOnce(stuck, { handshakeTimeout: 300 });
  const connecting = openTcpStream("localhost", server.port, { sslCtx: client }).catch((error) => error);
  const result = await within(server.served, 5000, "the server's timeout");
  assert.ok(
    result instanceof SslCondition && /did not finish within 300 ms/.test(result.message),
    String(result),
  );
  assert.ok((await within(connecting, 5000, "the client")) instanceof Error);
});

Deno.test("certRequestCallback: sees s_server's acceptable CAs, answers later, and s_server verifies the certificate", async () => {
  const seen: string[][] = [];
  using context = createSslClientContext({
    ...trustCa,
    certRequestCallback: async (info) => {
      seen.push(info.acceptableCas);
      return await later({ cert: fixtureText("client.pem"), key: fixtureText("client.key") });
    },
  });
  for (const version of ["-tls1_2", "-tls1_3"]) {
    const { peer, port } = await startOpensslServer(["-Verify", "1", "-CAfile", fixture("ca.pem"), version]);
    await using _peer = peer;
    const stream = await within(
      openTcpStream("localhost", port, { sslCtx: context }),
      5000,
      `connect ${version}`,
    );
    await stream.write(new TextEncoder().encode("hello\n"));
    await peer.waitFor(/hello/);
    assert.match(peer.output + (await peer.waitFor(/subject=.*test client/))[0], /test client/);
    await stream.close();
  }
  assert.deepEqual(seen, [["CN=comm socket-stream test CA"], ["CN=comm socket-stream test CA"]]);
});

Deno.test("certRequestCallback with the module's server: null sends none, a throw fails, it runs only when asked", async () => {
  let calls = 0;
  const answers: (() => unknown)[] = [
    () => null,
    () => {
      throw new Error("vault sealed");
    },
    () => Promise.reject(new Error("vault sealed later")),
    () => ({ cert: fixtureText("client.pem"), key: fixtureText("server.key") }),
  ];
  let answer: () => unknown = answers[0];
  using client = createSslClientContext({
    ...trustCa,
    ...identity("client"),
    certRequestCallback: () => {
      calls++;
      return answer() as never;
    },
  });
  using requesting = createSslServerContext({ ...identity("server"), ...trustCa, requestClientCert: true });
  // null: no certificate, not even the context's own.
  {
    await using server = serveOnce(requesting);
    const stream = await within(openTcpStream("localhost", server.port, { sslCtx: client }), 5000, "connect");
    const served = await server.served;
    assert.ok(served instanceof SocketStream, String(served));
    assert.equal(served.peerCertificate(), null);
    await stream.close();
  }
  for (
    const [index, expected] of [[1, /vault sealed/], [2, /vault sealed later/], [
      3,
      /cannot be used together/,
    ]] as const
  ) {
    answer = answers[index];
    await using server = serveOnce(requesting);
    const result = await within(
      openTcpStream("localhost", server.port, { sslCtx: client }).catch((error) => error),
      5000,
      "connect",
    );
    assert.ok(result instanceof SslCondition && expected.test(result.message), String(result));
  }
  // A server that does not ask never calls it.
  const before = calls;
  using quiet = createSslServerContext(identity("server"));
  await using server = serveOnce(quiet);
  const stream = await within(openTcpStream("localhost", server.port, { sslCtx: client }), 5000, "connect");
  await stream.close();
  assert.equal(calls, before);
});

Deno.test("certRequestCallback answers a TLS 1.3 post-handshake request too", async () => {
  using client = createSslClientContext({
    ...trustCa,
    postHandshakeAuth: true,
    certRequestCallback: () => later({ cert: fixtureText("client.pem"), key: fixtureText("client.key") }),
  });
  using server = createSslServerContext({ ...identity("server"), ...trustCa });
  await using listening = serveOnce(server);
  const stream = await within(
    openTcpStream("localhost", listening.port, { sslCtx: client }),
    5000,
    "connect",
  );
  const served = await listening.served;
  assert.ok(served instanceof SocketStream, String(served));
  const reading = stream.read(new Uint8Array(4));
  const certificate = await within(served.requestClientCertificate(), 5000, "the post-handshake certificate");
  assert.equal(certificate.subject, "CN=test client");
  await served.write(new Uint8Array([1]));
  assert.equal(await within(reading, 5000, "the client's read"), 1);
  await stream.close();
});

Deno.test("selection options are checked", () => {
  assert.throws(
    () => createSslServerContext({ ...identity("server"), clientHelloCallback: "x" as never }),
    TypeError,
  );
  assert.throws(() => createSslClientContext({ certRequestCallback: 1 as never }), TypeError);
  assert.throws(
    () => createSslClientContext({ clientHelloCallback: () => {} } as never),
    /unknown option "clientHelloCallback"/,
  );
});

Deno.test("review: a context with certRequestCallback resumes no session, so each handshake sends what it chooses", async () => {
  let answer: { cert: string; key: string } | null = {
    cert: fixtureText("client.pem"),
    key: fixtureText("client.key"),
  };
  using client = createSslClientContext({
    ...trustCa,
    sessionCache: true,
    certRequestCallback: () => answer,
  });
  using server = createSslServerContext({ ...identity("server"), ...trustCa, requestClientCert: true });
  const { listenSsl } = await import("../mod.ts");
  await using listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx: server });
  const accepted = listener[Symbol.asyncIterator]();
  let session: Uint8Array | undefined;
  for (const expected of ["CN=test client", null]) {
    const stream = await within(
      openTcpStream("localhost", listener.addr.port, { sslCtx: client, session }),
      5000,
      "connect",
    );
    const next = await within(accepted.next(), 5000, "the server's stream");
    assert.ok(!next.done);
    await next.value.write(new Uint8Array([1]));
    await stream.read(new Uint8Array(1));
    assert.equal(stream.isSessionReused(), false);
    assert.equal(next.value.peerCertificate()?.subject ?? null, expected);
    session = stream.session() ?? undefined;
    await next.value.close();
    await stream.close();
    answer = null;
  }
});

Deno.test("review: a context chosen by sni runs its own clientHelloCallback", async () => {
  let calls = 0;
  using strict = createSslServerContext({
    ...identity("wildcard"),
    clientHelloCallback: () => {
      calls++;
      throw new Error("nobody gets in");
    },
  });
  using router = createSslServerContext({ ...identity("server"), sni: { "*.test.example": strict } });
  await using server = serveOnce(router);
  const { output } = await runSClient(server.port, ["-servername", "www.test.example"]);
  assert.match(output, /handshake failure/i);
  const refused = await server.served;
  assert.ok(refused instanceof SslCondition && /nobody gets in/.test(refused.message), String(refused));
  assert.equal(calls, 1);
});

Deno.test("review: close() ends a read that waits for certRequestCallback", async () => {
  using client = createSslClientContext({
    ...trustCa,
    postHandshakeAuth: true,
    certRequestCallback: () => new Promise(() => {}),
  });
  using server = createSslServerContext({ ...identity("server"), ...trustCa });
  await using listening = serveOnce(server);
  const stream = await within(
    openTcpStream("localhost", listening.port, { sslCtx: client }),
    5000,
    "connect",
  );
  const served = await listening.served;
  assert.ok(served instanceof SocketStream, String(served));
  const asking = served.requestClientCertificate({ timeoutMs: 3000 }).catch((error) => error);
  const reading = stream.read(new Uint8Array(4)).then(() => null, (error) => error as Error);
  await new Promise((resolve) => setTimeout(resolve, 200));
  stream.close();
  const error = await within(reading, 5000, "the read after close");
  assert.ok(error instanceof Deno.errors.BadResource, String(error));
  await within(asking, 5000, "the server's request");
});
