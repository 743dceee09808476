// The LispWorks configuration helpers, each against a real handshake where
// it changes one, and each wrong argument a TypeError or RangeError naming it.
import assert from "node:assert/strict";
import {
  doRandSeed,
  ensureSsl,
  getVerificationMode,
  makeInstance,
  makeSslCtx,
  opensslVersion,
  openTcpStream,
  readDhparams,
  setCipherList,
  setCiphersuites,
  setGroups,
  setSslCtxDh,
  setSslCtxOptions,
  setSslCtxPasswordCallback,
  setSslLibraryPath,
  setVerificationMode,
  SocketError,
  type SocketStream,
  SslCondition,
  sslConnectionAlpnProtocol,
  sslConnectionCipher,
  sslConnectionProtocolVersion,
  sslNew,
  SslVerificationFailure,
} from "../mod.ts";
import {
  loadOpenssl,
  SSL_FILETYPE_PEM,
  SSL_OP_CIPHER_SERVER_PREFERENCE,
  SSL_OP_NO_TICKET,
  SSL_VERIFY_CLIENT_ONCE,
  SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
  SSL_VERIFY_PEER,
} from "../ffi/mod.ts";
import {
  assertNoLiveObjects,
  encoder,
  fixture,
  fixtureText,
  listenLoopback,
  loopbackPair,
  Peer,
  readUntil,
  serveCertificate,
  startOpensslServer,
  trustTestCa,
  useCertificate,
} from "./_helpers.ts";

const { libssl } = loadOpenssl();
const cPath = (path: string) => encoder.encode(`${path}\0`);

Deno.test("setVerificationMode maps LispWorks' modes per side, and getVerificationMode reads them back", () => {
  using ctx = makeSslCtx();
  const cases = [
    ["server", "never", []],
    ["server", "always", ["verify-peer", "fail-if-no-peer-cert"]],
    ["server", "once", ["verify-peer", "fail-if-no-peer-cert", "verify-client-once"]],
    ["client", "never", []],
    ["client", "always", ["verify-peer"]],
    ["client", ["verify-peer", "verify-client-once"], ["verify-peer", "verify-client-once"]],
    ["server", SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, ["verify-peer", "fail-if-no-peer-cert"]],
  ] as const;
  for (const [side, mode, flags] of cases) {
    setVerificationMode(ctx, side, mode);
    assert.deepEqual(getVerificationMode(ctx), flags, `${side} ${JSON.stringify(mode)}`);
  }
  using ssl = sslNew(ctx);
  setVerificationMode(ssl, "server", "once");
  assert.equal(libssl.SSL_get_verify_mode(ssl.pointer) & SSL_VERIFY_CLIENT_ONCE, SSL_VERIFY_CLIENT_ONCE);
  assert.throws(() => setVerificationMode(ctx, "middle" as never, "never"), /side must be/);
  assert.throws(() => setVerificationMode(ctx, "server", "sometimes" as never), /mode must be/);
  assert.throws(() => setVerificationMode(ctx, "server", ["verify-all" as never]), /mode flags/);
  assert.throws(() => setVerificationMode(ctx, "server", -1), RangeError);
  assert.throws(() => setVerificationMode({} as never, "server", "never"), /SslCtxPointer or an SslPointer/);
  assert.throws(
    () => setVerificationMode(ctx, "server", "never", "yes" as never),
    /callback must be a function/,
  );
});

Deno.test("setVerificationMode on a server context makes it ask for and check the client's certificate", async () => {
  const serverCtx = makeSslCtx({ sslSide: "server" });
  useCertificate(serverCtx);
  trustTestCa(serverCtx);
  const subjects: string[] = [];
  setVerificationMode(serverCtx, "server", "always", (ok, info) => {
    subjects.push(info.subject);
    return ok;
  });
  const clientCtx = makeSslCtx({ sslSide: "client" });
  trustTestCa(clientCtx);
  useCertificate(clientCtx, "client");
  const [a, b] = await loopbackPair();
  const [client, server] = await Promise.all([
    makeInstance("socket-stream", {
      socket: a,
      sslCtx: clientCtx,
      sslSide: "client",
      tlsextHostName: "localhost",
    }),
    makeInstance("socket-stream", { socket: b, sslCtx: serverCtx }),
  ]);
  assert.match(server.peerCertificate()!.subject, /test client/);
  assert.ok(subjects.some((subject) => subject.includes("test client")), "the callback saw the client");
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  serverCtx.destroy();
  clientCtx.destroy();
  assertNoLiveObjects();
});

Deno.test('a client with verification "never" goes on with a bad server, and the result is recorded', async () => {
  await using server = serveCertificate("untrusted");
  await using client = await openTcpStream("localhost", server.port, {
    sslCtx: true,
    ctxConfigureCallback: (ctx) => setVerificationMode(ctx, "client", "never"),
  });
  assert.equal(Number(libssl.SSL_get_verify_result(client.ssl!.pointer)), 20);
});

Deno.test("a verify callback that throws rejects the certificate", async () => {
  {
    await using server = serveCertificate();
    await assert.rejects(
      openTcpStream("localhost", server.port, {
        sslCtx: true,
        ctxConfigureCallback: (ctx) => {
          trustTestCa(ctx);
          setVerificationMode(ctx, "client", "always", () => {
            throw new Error("callback bug");
          });
        },
      }),
      SslVerificationFailure,
    );
  }
  assertNoLiveObjects();
});

Deno.test("setSslCtxOptions sets and clears named options, and rejects unknown names", () => {
  using ctx = makeSslCtx();
  const bits = setSslCtxOptions(ctx, { cipherServerPreference: true, noTicket: true });
  assert.equal(bits & SSL_OP_CIPHER_SERVER_PREFERENCE, SSL_OP_CIPHER_SERVER_PREFERENCE);
  assert.equal(bits & SSL_OP_NO_TICKET, SSL_OP_NO_TICKET);
  const cleared = setSslCtxOptions(ctx, { noTicket: false, noSslv2: true, singleDhUse: true });
  assert.equal(cleared & SSL_OP_NO_TICKET, 0n);
  assert.equal(libssl.SSL_CTX_get_options(ctx.pointer), cleared);
  using ssl = sslNew(ctx);
  assert.equal(setSslCtxOptions(ssl, { noTicket: true }) & SSL_OP_NO_TICKET, SSL_OP_NO_TICKET);
  assert.throws(() => setSslCtxOptions(ctx, { noTlsv9: true } as never), /unknown option "noTlsv9"/);
  assert.throws(() => setSslCtxOptions(ctx, { noTicket: "yes" } as never), /noTicket must be a boolean/);
});

Deno.test("setCipherList, setCiphersuites and setGroups restrict what is negotiated", async () => {
  const { peer, port } = await startOpensslServer();
  await using _peer = peer;
  const stream = await openTcpStream("localhost", port, {
    sslCtx: "tls-v1-2",
    ctxConfigureCallback: (ctx) => {
      trustTestCa(ctx);
      setCipherList(ctx, "ECDHE-ECDSA-CHACHA20-POLY1305");
      // P-256 stays listed: in TLS 1.2 the list also names the curves the server's ECDSA key may use.
      setGroups(ctx, "P-384:P-256");
    },
  });
  assert.equal(sslConnectionCipher(stream), "ECDHE-ECDSA-CHACHA20-POLY1305");
  // SSL_get_negotiated_group: SSL_ctrl(ssl, SSL_CTRL_GET_NEGOTIATED_GROUP = 134, 0, NULL); NID_secp384r1 = 715
  assert.equal(Number(libssl.SSL_ctrl(stream.ssl!.pointer, 134, 0n, null)), 715);
  assert.equal(sslConnectionProtocolVersion(stream), "tls-v1-2");
  await stream[Symbol.asyncDispose]();
  using ctx = makeSslCtx();
  assert.throws(() => setCipherList(ctx, "NO-SUCH-CIPHER"), (error: unknown) => {
    assert.ok(error instanceof SslCondition);
    assert.match(error.message, /no cipher match/);
    return true;
  });
  assert.throws(() => setCiphersuites(ctx, "TLS_NO_SUCH_SUITE"), SslCondition);
  assert.throws(() => setGroups(ctx, "P-999"), SslCondition);
  assert.throws(() => setCipherList(ctx, ""), /non-empty string/);
});

Deno.test("setSslCtxPasswordCallback opens an encrypted key file; without it the load fails and nothing prompts", () => {
  {
    using ctx = makeSslCtx({ sslSide: "client" });
    const asked: number[] = [];
    setSslCtxPasswordCallback(ctx, {
      callback: ({ maxLength }) => {
        asked.push(maxLength);
        return "correct horse";
      },
    });
    assert.equal(
      libssl.SSL_CTX_use_PrivateKey_file(
        ctx.pointer,
        cPath(fixture("client-encrypted.key")),
        SSL_FILETYPE_PEM,
      ),
      1,
    );
    assert.ok(asked.length > 0 && asked[0] > 0);
  }
  {
    using ctx = makeSslCtx({ sslSide: "client" });
    setSslCtxPasswordCallback(ctx, { password: "correct horse" });
    assert.equal(
      libssl.SSL_CTX_use_PrivateKey_file(
        ctx.pointer,
        cPath(fixture("client-encrypted.key")),
        SSL_FILETYPE_PEM,
      ),
      1,
    );
  }
  {
    using ctx = makeSslCtx({ sslSide: "client" });
    assert.equal(
      libssl.SSL_CTX_use_PrivateKey_file(
        ctx.pointer,
        cPath(fixture("client-encrypted.key")),
        SSL_FILETYPE_PEM,
      ),
      0,
    );
    loadOpenssl().libcrypto.ERR_clear_error();
    assert.throws(() => setSslCtxPasswordCallback(ctx, {}), /needs callback or password/);
    assert.throws(() => setSslCtxPasswordCallback({} as never, { password: "x" }), /needs an SslCtxPointer/);
  }
  assertNoLiveObjects();
});

Deno.test("setSslCtxDh with readDhparams gives DHE its parameters (openssl s_client sees a 2048-bit DH key)", async () => {
  using dh = readDhparams(fixtureText("dhparams.pem"));
  assert.equal(dh.bits, 2048);
  const ctx = makeSslCtx({ sslSide: "server" });
  useCertificate(ctx, "rsa-server");
  setSslCtxDh(ctx, { dh });
  setCipherList(ctx, "DHE-RSA-AES128-GCM-SHA256");
  const { listener, port } = listenLoopback();
  const serving = listener.accept().then((socket) => makeInstance("socket-stream", { socket, sslCtx: ctx }));
  await using client = new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-tls1_2",
    "-cipher",
    "DHE-RSA-AES128-GCM-SHA256",
    "-CAfile",
    fixture("ca.pem"),
  ]);
  const server: SocketStream = await serving;
  listener.close();
  assert.equal(server.cipher, "DHE-RSA-AES128-GCM-SHA256");
  await client.waitFor(/Server Temp Key: DH, 2048 bits/);
  await server[Symbol.asyncDispose]();
  setSslCtxDh(ctx); // automatic parameters are accepted too
  ctx.destroy();
  assert.throws(() => readDhparams("not PEM"), SslCondition);
  assert.throws(() => setSslCtxDh(makeSslCtx(), { dh: "pem" as never }), /dh must come from readDhparams/);
});

Deno.test("ensureSsl, setSslLibraryPath, doRandSeed and opensslVersion", () => {
  const libraries = ensureSsl();
  assert.ok(libraries.libcrypto.OpenSSL_version_num() >= 0x30000000n);
  assert.throws(() => setSslLibraryPath("/opt/ssl/libssl.so.3"), /already loaded/);
  assert.throws(() => setSslLibraryPath(""), TypeError);
  assert.equal(doRandSeed(), true);
  assert.match(opensslVersion("version"), /^OpenSSL 3/);
  assert.match(opensslVersion("dir"), /OPENSSLDIR/);
  assert.match(opensslVersion("built-on"), /built on/);
});

Deno.test("the sslConnection functions need a handshaken TLS stream", async () => {
  const [a, b] = await loopbackPair();
  const plain = await makeInstance("socket-stream", { socket: a });
  assert.throws(() => sslConnectionProtocolVersion(plain), SocketError);
  assert.throws(() => sslConnectionAlpnProtocol(plain), SocketError);
  assert.throws(() => sslConnectionProtocolVersion({} as never), TypeError);
  assert.throws(() => plain.session(), SocketError);
  b.close();
  await plain[Symbol.asyncDispose]();
});

Deno.test("a server stream reads what openssl s_client negotiated through the LispWorks functions", async () => {
  await using server = serveCertificate();
  await using client = new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${server.port}`,
    "-tls1_3",
    "-ciphersuites",
    "TLS_AES_128_GCM_SHA256",
    "-quiet",
  ]);
  const served = await server.served as SocketStream;
  assert.equal(sslConnectionProtocolVersion(served), "tls-v1-3");
  assert.equal(sslConnectionCipher(served), "TLS_AES_128_GCM_SHA256");
  assert.equal(sslConnectionAlpnProtocol(served), null);
  await client.send("x\n");
  assert.match(await readUntil(served, "\n"), /x/);
});
