// The certificate matrix from tests/fixtures/make_certs.sh: each certificate
// accepted or refused as a browser would, with the X509 reason.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  type SocketStream,
  sslConnectionGetPeerCertificatesData,
  sslConnectionVerify,
  SslVerificationFailure,
} from "../mod.ts";
import {
  X509_V_ERR_CERT_HAS_EXPIRED,
  X509_V_ERR_CERT_NOT_YET_VALID,
  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
  X509_V_ERR_HOSTNAME_MISMATCH,
  X509_V_ERR_IP_ADDRESS_MISMATCH,
  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
} from "../ffi/mod.ts";
import { assertNoLiveObjects, fixtureText, identity, serveOnce, startOpensslServer } from "./_helpers.ts";

const trust = { ca: fixtureText("ca.pem") };

async function connect(cert: string, host: string, tlsextHostName?: string): Promise<SocketStream> {
  using serverContext = createSslServerContext(identity(cert));
  using clientContext = createSslClientContext(trust);
  await using server = serveOnce(serverContext);
  return await openTcpStream(host, server.port, { sslCtx: clientContext, tlsextHostName });
}

const refused = [
  ["expired", "expired", "localhost", undefined, X509_V_ERR_CERT_HAS_EXPIRED, /certificate has expired/],
  ["not yet valid", "not-yet-valid", "localhost", undefined, X509_V_ERR_CERT_NOT_YET_VALID, /not yet valid/],
  ["wrong host", "wrong-host", "localhost", undefined, X509_V_ERR_HOSTNAME_MISMATCH, /hostname mismatch/],
  [
    "self-signed",
    "self-signed",
    "localhost",
    undefined,
    X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
    /self-signed/,
  ],
  [
    "an untrusted CA",
    "untrusted",
    "localhost",
    undefined,
    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
    /local issuer/,
  ],
  [
    "an IP not in the SANs",
    "wrong-host",
    "127.0.0.1",
    undefined,
    X509_V_ERR_IP_ADDRESS_MISMATCH,
    /IP address mismatch/,
  ],
  [
    "a wildcard one level too deep",
    "wildcard",
    "127.0.0.1",
    "a.b.test.example",
    X509_V_ERR_HOSTNAME_MISMATCH,
    /hostname mismatch/,
  ],
  [
    "a wildcard for its bare domain",
    "wildcard",
    "127.0.0.1",
    "test.example",
    X509_V_ERR_HOSTNAME_MISMATCH,
    /hostname mismatch/,
  ],
] as const;

for (const [name, cert, host, sni, code, reason] of refused) {
  Deno.test(`refused: ${name} (X509 error ${code})`, async () => {
    await assert.rejects(connect(cert, host, sni), (error: unknown) => {
      assert.ok(error instanceof SslVerificationFailure, String(error));
      assert.equal(error.verifyCode, code);
      assert.match(error.verifyMessage, reason);
      return true;
    });
    assertNoLiveObjects();
  });
}

for (
  const [name, cert, host, sni] of [
    ["a DNS name", "server", "localhost", undefined],
    ["an IP address SAN", "server", "127.0.0.1", undefined],
    ["an IPv6 address SAN", "server", "127.0.0.1", "::1"],
    ["a wildcard", "wildcard", "127.0.0.1", "a.test.example"],
  ] as const
) {
  Deno.test(`accepted: ${name}`, async () => {
    {
      await using stream = await connect(cert, host, sni);
      assert.deepEqual(sslConnectionVerify(stream), { ok: true, code: 0, message: "ok" });
      const chain = sslConnectionGetPeerCertificatesData(stream);
      assert.equal(chain.length, 2, "leaf and root");
      assert.match(chain[1].subject, /test CA/);
      assert.equal(chain[0].issuer, chain[1].subject);
    }
    assertNoLiveObjects();
  });
}

Deno.test("verify: false accepts anything, and sslConnectionVerify still tells the truth", async () => {
  using serverContext = createSslServerContext(identity("expired"));
  using clientContext = createSslClientContext({ ...trust, verify: false });
  await using server = serveOnce(serverContext);
  await using stream = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
  const result = sslConnectionVerify(stream);
  assert.equal(result.ok, false);
  assert.equal(result.code, X509_V_ERR_CERT_HAS_EXPIRED);
});

Deno.test("a verifyCallback decides: it can accept what OpenSSL refused and refuse what it accepted", async () => {
  const seen: number[] = [];
  {
    using serverContext = createSslServerContext(identity("self-signed"));
    using clientContext = createSslClientContext({
      ...trust,
      verifyCallback: (ok, info) => {
        seen.push(info.code);
        return ok ||
          info.code === X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT && info.subject.includes("self-signed");
      },
    });
    await using server = serveOnce(serverContext);
    await using stream = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    assert.ok(seen.includes(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT));
    assert.equal(sslConnectionVerify(stream).ok, true, "the accepted result is recorded as ok");
  }
  {
    using serverContext = createSslServerContext(identity("server"));
    using clientContext = createSslClientContext({ ...trust, verifyCallback: (_ok, info) => info.depth > 0 });
    await using server = serveOnce(serverContext);
    await assert.rejects(
      openTcpStream("localhost", server.port, { sslCtx: clientContext }),
      (error: unknown) => {
        assert.ok(error instanceof SslVerificationFailure);
        assert.equal(error.verifyCode, 50); // X509_V_ERR_APPLICATION_VERIFICATION
        return true;
      },
    );
  }
  assertNoLiveObjects();
});

Deno.test("a chain missing its intermediate is refused (X509 error 20); with the intermediate it verifies to the root", async () => {
  {
    await assert.rejects(connect("chained", "localhost"), (error: unknown) => {
      assert.ok(error instanceof SslVerificationFailure);
      assert.equal(error.verifyCode, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
      return true;
    });
    using serverContext = createSslServerContext({
      cert: fixtureText("chained-full.pem"),
      key: fixtureText("chained.key"),
    });
    using clientContext = createSslClientContext(trust);
    await using server = serveOnce(serverContext);
    await using stream = await openTcpStream("localhost", server.port, { sslCtx: clientContext });
    const chain = sslConnectionGetPeerCertificatesData(stream).map((certificate) => certificate.subject);
    assert.equal(chain.length, 3);
    assert.match(chain[1], /intermediate/);
    assert.match(chain[2], /test CA/);
  }
  assertNoLiveObjects();
});

for (
  const [name, cert, code, reason] of [
    ["an RSA-1024 key", "rsa1024", 66, /key too weak|too small/],
    ["a SHA-1 signature", "sha1", 68, /digest algorithm too weak/],
  ] as const
) {
  Deno.test(`weak certificates are refused by default: ${name} (X509 error ${code})`, async () => {
    // The server has to lower its own security level to present such a certificate at all.
    const { peer, port } = await startOpensslServer(["-cipher", "DEFAULT@SECLEVEL=0"], cert);
    await using _peer = peer;
    using clientContext = createSslClientContext(trust);
    await assert.rejects(openTcpStream("localhost", port, { sslCtx: clientContext }), (error: unknown) => {
      assert.ok(error instanceof SslVerificationFailure, String(error));
      assert.equal(error.verifyCode, code);
      assert.match(error.verifyMessage, reason);
      return true;
    });
  });
}
