// Secure by default: a client context made from a symbol verifies the server
// against the system trust store (SSL_CERT_FILE honoured) and checks the
// host name or IP; the callbacks can loosen it.
import assert from "node:assert/strict";
import {
  makeInstance,
  openTcpStream,
  type SocketStream,
  SslCondition,
  SslVerificationFailure,
} from "../mod.ts";
import { loadOpenssl, SSL_VERIFY_NONE } from "../ffi/mod.ts";
import { assertNoLiveObjects, listenLoopback, useCertificate, withTestCaAsSystemStore } from "./_helpers.ts";

const { libssl } = loadOpenssl();

/** A one-connection module server presenting `cert`; resolves to the stream or the server's error. */
function serveWith(cert: string): { port: number; served: Promise<SocketStream | Error>; stop(): void } {
  const { listener, port } = listenLoopback();
  const served = listener.accept().then((socket) =>
    makeInstance("socket-stream", {
      socket,
      sslCtx: true,
      ctxConfigureCallback: (ctx) => useCertificate(ctx, cert),
    })
  ).catch((error) => error as Error);
  return { port, served, stop: () => listener.close() };
}

async function closeServed(served: Promise<SocketStream | Error>): Promise<void> {
  const result = await served;
  if (!(result instanceof Error)) await result[Symbol.asyncDispose]();
}

function servername(stream: SocketStream): string | null {
  const name = libssl.SSL_get_servername(stream.ssl!.pointer, 0);
  return name === null ? null : Deno.UnsafePointerView.getCString(name);
}

Deno.test("a client verifies against SSL_CERT_FILE and sends the host name as SNI", async () => {
  const server = serveWith("server");
  await withTestCaAsSystemStore(async () => {
    const stream = await openTcpStream("localhost", server.port, { sslCtx: true });
    const served = await server.served as SocketStream;
    assert.equal(servername(served), "localhost");
    await stream[Symbol.asyncDispose]();
    await served[Symbol.asyncDispose]();
  });
  server.stop();
  assertNoLiveObjects();
});

Deno.test("an IP literal is verified as an IP and not sent as SNI", async () => {
  const server = serveWith("server");
  await withTestCaAsSystemStore(async () => {
    const stream = await openTcpStream("127.0.0.1", server.port, { sslCtx: true });
    const served = await server.served as SocketStream;
    assert.equal(servername(served), null);
    await stream[Symbol.asyncDispose]();
    await served[Symbol.asyncDispose]();
  });
  server.stop();
});

Deno.test("tlsextHostName overrides the name sent and verified", async () => {
  const server = serveWith("wrong-host");
  await withTestCaAsSystemStore(async () => {
    const stream = await openTcpStream("127.0.0.1", server.port, {
      sslCtx: true,
      tlsextHostName: "wrong.example",
    });
    const served = await server.served as SocketStream;
    assert.equal(servername(served), "wrong.example");
    await stream[Symbol.asyncDispose]();
    await served[Symbol.asyncDispose]();
  });
  server.stop();
});

for (
  const [name, cert, host, code, reason] of [
    ["an untrusted CA", "untrusted", "localhost", 20, /unable to get local issuer certificate/],
    ["a host name mismatch", "wrong-host", "localhost", 62, /hostname mismatch/],
    ["an IP address mismatch", "wrong-host", "127.0.0.1", 64, /IP address mismatch/],
  ] as const
) {
  Deno.test(`${name} fails the client with SslVerificationFailure (X509 error ${code}), and the server sees the alert`, async () => {
    const server = serveWith(cert);
    await withTestCaAsSystemStore(async () => {
      await assert.rejects(openTcpStream(host, server.port, { sslCtx: true }), (error: unknown) => {
        assert.ok(error instanceof SslVerificationFailure, String(error));
        assert.equal(error.verifyCode, code);
        assert.match(error.verifyMessage, reason);
        assert.match(error.message, reason);
        return true;
      });
    });
    const served = await server.served;
    assert.ok(served instanceof SslCondition, "the server's handshake failed too");
    server.stop();
    await closeServed(server.served);
    assertNoLiveObjects();
  });
}

Deno.test("without the test CA in the trust store the test server is refused", async () => {
  const server = serveWith("server");
  const previous = Deno.env.get("SSL_CERT_FILE");
  Deno.env.delete("SSL_CERT_FILE");
  try {
    await assert.rejects(openTcpStream("localhost", server.port, { sslCtx: true }), SslVerificationFailure);
  } finally {
    if (previous !== undefined) Deno.env.set("SSL_CERT_FILE", previous);
  }
  server.stop();
  await closeServed(server.served);
});

Deno.test("a ctxConfigureCallback can loosen verification", async () => {
  const server = serveWith("untrusted");
  const stream = await openTcpStream("localhost", server.port, {
    sslCtx: true,
    ctxConfigureCallback: (ctx) => libssl.SSL_CTX_set_verify(ctx.pointer, SSL_VERIFY_NONE, null),
  });
  assert.match(stream.peerCertificate()!.issuer, /untrusted CA/);
  await stream[Symbol.asyncDispose]();
  server.stop();
  await closeServed(server.served);
  assertNoLiveObjects();
});

Deno.test("server contexts verify nothing unless asked", async () => {
  const server = serveWith("server");
  await withTestCaAsSystemStore(async () => {
    const stream = await openTcpStream("localhost", server.port, { sslCtx: true });
    const served = await server.served as SocketStream;
    assert.equal(libssl.SSL_get_verify_mode(served.ssl!.pointer), SSL_VERIFY_NONE);
    await stream[Symbol.asyncDispose]();
    await served[Symbol.asyncDispose]();
  });
  server.stop();
});
