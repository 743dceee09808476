// Certificates as real PKI needs them, from the abstract contexts, against openssl s_server / s_client and the
// module: CRLs (leaf and chain), verify depth and flags, PKCS#12 bundles, DER and lists of CAs, the certificate
// in the verify callback, SubjectPublicKeyInfo pins, and the new PeerCertificate fields.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  type PeerCertificate,
  SocketStream,
  SslCondition,
  sslConnectionGetPeerCertificatesData,
  SslVerificationFailure,
} from "../mod.ts";
import {
  decoder,
  fixture,
  fixtureText,
  identity,
  rejection,
  roundTrip,
  runSClient,
  serveOnce,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";

/** The output of an openssl command. */
async function openssl(args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("openssl", { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  if (stdin) await writer.write(stdin);
  await writer.close();
  const { code, stdout, stderr } = await within(child.output(), 10_000, `openssl ${args.join(" ")}`);
  assert.equal(code, 0, decoder.decode(stderr));
  return stdout;
}

/** What a client gets from the server on `port`: its stream, or the error. */
async function outcome(
  port: number,
  options: Parameters<typeof openTcpStream>[2],
): Promise<SocketStream | Error> {
  try {
    return await within(openTcpStream("localhost", port, options), 5000, "the handshake");
  } catch (error) {
    return error as Error;
  }
}

/** Asserts a verification failure with `code`. */
function assertRefused(result: SocketStream | Error, code: number): asserts result is SslVerificationFailure {
  assert.ok(result instanceof SslVerificationFailure, String(result));
  assert.equal(result.verifyCode, code, result.message);
}

/** Asserts a connection, and closes it. */
async function assertServed(result: SocketStream | Error): Promise<void> {
  assert.ok(result instanceof SocketStream, String(result));
  await result[Symbol.asyncDispose]();
}

Deno.test("CRL: a revoked leaf fails with code 23, from PEM text, DER bytes or a file; others pass", async () => {
  const crlDer = await openssl(["crl", "-in", fixture("ca.crl"), "-outform", "DER"]);
  for (const crl of [{ crl: fixtureText("ca.crl") }, { crl: crlDer }, { crlFile: fixture("ca.crl") }]) {
    using context = createSslClientContext({ ...trustCa, ...crl });
    {
      const { peer, port } = await startOpensslServer([], "revoked");
      await using _peer = peer;
      assertRefused(await outcome(port, { sslCtx: context }), 23);
    }
    {
      const { peer, port } = await startOpensslServer([]);
      await using _peer = peer;
      await assertServed(await outcome(port, { sslCtx: context }));
    }
  }
});

Deno.test('CRL with crlCheck "chain": every CA needs a CRL (code 3 without), a revoked intermediate fails (23)', async () => {
  using server = createSslServerContext({
    certFile: fixture("crl-chained-full.pem"),
    keyFile: fixture("crl-chained.key"),
  });
  const cases: [string[], number | null][] = [
    [["ca.crl", "crl-intermediate.crl"], null],
    [["ca.crl"], 3],
    [["ca-revokes-intermediate.crl", "crl-intermediate.crl"], 23],
  ];
  for (const [crls, code] of cases) {
    using context = createSslClientContext({
      ...trustCa,
      crl: crls.map(fixtureText),
      crlCheck: "chain",
    });
    await using serving = serveOnce(server);
    const result = await outcome(serving.port, { sslCtx: context });
    if (code === null) await assertServed(result);
    else assertRefused(result, code);
  }
  // Checking the leaf only, the intermediate's revocation is not looked at.
  using leafOnly = createSslClientContext({
    ...trustCa,
    crl: [fixtureText("ca-revokes-intermediate.crl"), fixtureText("crl-intermediate.crl")],
  });
  await using serving = serveOnce(server);
  await assertServed(await outcome(serving.port, { sslCtx: leafOnly }));
});

Deno.test("verifyDepth: a chain with more intermediates fails with code 22", async () => {
  using server = createSslServerContext({
    certFile: fixture("chained-full.pem"),
    keyFile: fixture("chained.key"),
  });
  for (const [verifyDepth, code] of [[0, 22], [1, null]] as const) {
    using context = createSslClientContext({ ...trustCa, verifyDepth });
    await using serving = serveOnce(server);
    const result = await outcome(serving.port, { sslCtx: context });
    if (code === null) await assertServed(result);
    else assertRefused(result, code);
  }
  assert.throws(() => createSslClientContext({ verifyDepth: -1 }), RangeError);
  assert.throws(() => createSslClientContext({ verifyDepth: 1.5 }), RangeError);
});

Deno.test("verifyFlags.partialChain: an intermediate in ca is a trust anchor; without it the chain is incomplete", async () => {
  using server = createSslServerContext({
    certFile: fixture("chained-full.pem"),
    keyFile: fixture("chained.key"),
  });
  for (const partialChain of [false, true]) {
    using context = createSslClientContext({
      ca: fixtureText("intermediate.pem"),
      verifyFlags: { partialChain },
    });
    await using serving = serveOnce(server);
    const result = await outcome(serving.port, { sslCtx: context });
    if (partialChain) await assertServed(result);
    else assertRefused(result, 2);
  }
  assert.throws(() => createSslClientContext({ verifyFlags: { noSuchFlag: true } as never }), /unknown flag/);
  assert.throws(() => createSslClientContext({ verifyFlags: { partialChain: "yes" } as never }), TypeError);
});

Deno.test("PKCS#12: a client identity from pfx bytes against s_server -Verify; a server's chain from pfxFile", async () => {
  const pfx = Deno.readFileSync(fixture("client.p12"));
  using client = createSslClientContext({ ...trustCa, pfx, password: "correct horse" });
  const { peer, port } = await startOpensslServer(["-Verify", "1", "-CAfile", fixture("ca.pem"), "-rev"]);
  await using _peer = peer;
  const stream = await within(
    openTcpStream("localhost", port, { sslCtx: client }),
    5000,
    "the mTLS handshake",
  );
  assert.equal(await within(roundTrip(stream, "p12\n"), 5000, "the echo"), "21p\n");
  await stream[Symbol.asyncDispose]();
  await peer.waitFor(/CN\s*=\s*test client/);
  // A server whose bundle carries the intermediate: s_client verifies the whole chain.
  using server = createSslServerContext({ pfxFile: fixture("chained.p12"), password: "correct horse" });
  await using serving = serveOnce(server);
  const { output } = await runSClient(
    serving.port,
    ["-verify_return_error", "-servername", "localhost"],
    "x\n",
  );
  assert.match(output, /Verify return code: 0 \(ok\)/, output);
  assert.match(output, /i:CN\s*=\s*comm socket-stream test intermediate/);
});

Deno.test("PKCS#12: a wrong password or bytes that are no bundle are an SslCondition naming it, never a prompt", () => {
  const pfx = Deno.readFileSync(fixture("client.p12"));
  assert.throws(
    () => createSslClientContext({ pfx, password: "wrong" }),
    (error: Error) => error instanceof SslCondition && /pfx: wrong password/.test(error.message),
  );
  assert.throws(
    () => createSslServerContext({ pfxFile: fixture("client.p12") }),
    (error: Error) => error instanceof SslCondition && /client\.p12: wrong password/.test(error.message),
  );
  assert.throws(() => createSslClientContext({ pfx: new Uint8Array([1, 2, 3]) }), /not a PKCS#12 bundle/);
  assert.throws(
    () => createSslClientContext({ pfx, certFile: fixture("client.pem"), keyFile: fixture("client.key") }),
    /give one of/,
  );
});

Deno.test("ca takes DER bytes and lists of PEM and DER", async () => {
  const der = await openssl(["x509", "-in", fixture("ca.pem"), "-outform", "DER"]);
  const { peer, port } = await startOpensslServer(["-naccept", "3"]);
  await using _peer = peer;
  for (const ca of [der, [fixtureText("untrusted-ca.pem"), der], [der, fixtureText("ca.pem")]]) {
    using context = createSslClientContext({ ca });
    await assertServed(await outcome(port, { sslCtx: context }));
  }
  assert.throws(() => createSslClientContext({ ca: [] }), TypeError);
  assert.throws(() => createSslClientContext({ ca: new Uint8Array([0x30, 1, 2]) }), SslCondition);
});

Deno.test("the verify callback gets each certificate of the chain, on clients and servers, only while it runs", async () => {
  const seen: { depth: number; certificate: PeerCertificate }[] = [];
  let saved: { readonly certificate: PeerCertificate } | undefined;
  using server = createSslServerContext({
    certFile: fixture("chained-full.pem"),
    keyFile: fixture("chained.key"),
    ...trustCa,
    requireClientCert: true,
    verifyCallback: (ok, info) => {
      seen.push({ depth: info.depth, certificate: info.certificate });
      return ok;
    },
  });
  using client = createSslClientContext({
    ...trustCa,
    ...identity("client"),
    verifyCallback: (ok, info) => {
      seen.push({ depth: info.depth + 10, certificate: info.certificate });
      saved = info;
      return ok;
    },
  });
  await using serving = serveOnce(server);
  await assertServed(await outcome(serving.port, { sslCtx: client }));
  assert.ok((await within(serving.served, 5000, "the server's handshake")) instanceof SocketStream);
  const subjects = seen.map(({ depth, certificate }) => [depth, certificate.subject.match(/CN=[^,]*/)![0]]);
  // The client saw the server's chain (depths 10, 11, 12), the server the client's (0, 1).
  assert.deepEqual(subjects.filter(([depth]) => (depth as number) >= 10).sort(), [
    [10, "CN=localhost"],
    [11, "CN=comm socket-stream test intermediate"],
    [12, "CN=comm socket-stream test CA"],
  ]);
  assert.deepEqual(subjects.filter(([depth]) => (depth as number) < 10).sort(), [
    [0, "CN=test client"],
    [1, "CN=comm socket-stream test CA"],
  ]);
  const leaf = seen.find(({ depth }) => depth === 10)!.certificate;
  assert.ok(leaf.der.length > 100 && leaf.pem.startsWith("-----BEGIN CERTIFICATE-----"));
  assert.throws(() => saved!.certificate, /only inside the verify callback/);
});

/** The SHA-256 pin of a PEM certificate's key, computed by openssl. */
async function pinOf(name: string): Promise<string> {
  const pem = await openssl(["x509", "-in", fixture(`${name}.pem`), "-pubkey", "-noout"]);
  const der = await openssl(["pkey", "-pubin", "-outform", "DER"], pem);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>));
  return `sha256/${btoa(String.fromCharCode(...digest))}`;
}

Deno.test("pins: the handshake fails, naming the pins and the keys seen, unless a key of the verified chain matches", async () => {
  const [serverPin, caPin, otherPin] = await Promise.all([pinOf("server"), pinOf("ca"), pinOf("untrusted")]);
  const { peer, port } = await startOpensslServer(["-naccept", "3"]);
  await using _peer = peer;
  for (
    const [pins, served] of [[[serverPin], true], [[otherPin, caPin], true], [[otherPin], false]] as const
  ) {
    using context = createSslClientContext({ ...trustCa, pins });
    const result = await outcome(port, { sslCtx: context });
    if (served) {
      assert.ok(result instanceof SocketStream, String(result));
      assert.equal(result.peerCertificate()!.spkiSha256, serverPin);
      await result[Symbol.asyncDispose]();
    } else {
      assertRefused(result, 50);
      assert.match(result.message, new RegExp(`the pins are ${otherPin.replace(/[+/]/g, "\\$&")}`));
      assert.ok(result.message.includes(serverPin), "it names the key it saw");
    }
  }
  assert.throws(() => createSslClientContext({ pins: ["sha256/short"] }), /not a SHA-256 pin/);
  assert.throws(() => createSslClientContext({ verify: false, pins: [serverPin] }), /need verification on/);
});

Deno.test("pins on a server need requireClientCert: with requestClientCert a client without one would pass", () => {
  assert.throws(
    () =>
      createSslServerContext({
        ...identity("server"),
        ...trustCa,
        requestClientCert: true,
        pins: ["sha256/" + "A".repeat(43) + "="],
      }),
    (error: Error) =>
      error instanceof TypeError && /pins on a server need requireClientCert/.test(error.message),
  );
});

Deno.test("pins on a server check the client's chain", async () => {
  const [clientPin, otherPin] = await Promise.all([pinOf("client"), pinOf("untrusted-client")]);
  for (const [pins, served] of [[[clientPin], true], [[otherPin], false]] as const) {
    using server = createSslServerContext({
      ...identity("server"),
      ...trustCa,
      requireClientCert: true,
      pins,
    });
    using client = createSslClientContext({ ...trustCa, ...identity("client") });
    await using serving = serveOnce(server);
    const result = await outcome(serving.port, { sslCtx: client });
    if (served) await assertServed(result);
    else {
      const refused = result instanceof Error
        ? result
        : await rejection(result.read(new Uint8Array(1)), 5000, "the server's refusal");
      assert.ok(refused instanceof SslCondition, String(refused));
      // TLS 1.3: the verdict comes after the client's Finished, and is no renegotiation.
      assert.match(refused.message, /right after the handshake; at TLS 1\.3 that is how a server rejects/);
      assert.doesNotMatch(refused.message, /renegotiat/);
      const failure = await serving.served;
      assert.ok(failure instanceof SslVerificationFailure, String(failure));
      assert.equal(failure.verifyCode, 50);
    }
  }
});

Deno.test("PeerCertificate: SHA-1 and SHA-256 fingerprints, SPKI pin, public key, key usages, as openssl reads them", async () => {
  const { peer, port } = await startOpensslServer(["-naccept", "2"], "rsa-server");
  await using _peer = peer;
  using context = createSslClientContext(trustCa);
  const stream = await within(openTcpStream("localhost", port, { sslCtx: context }), 5000, "the handshake");
  const certificate = stream.peerCertificate()!;
  const sha1 = decoder.decode(
    await openssl(["x509", "-in", fixture("rsa-server.pem"), "-noout", "-fingerprint", "-sha1"]),
  );
  assert.equal(`sha1 Fingerprint=${certificate.fingerprint}`, sha1.trim());
  const sha256 = decoder.decode(
    await openssl(["x509", "-in", fixture("rsa-server.pem"), "-noout", "-fingerprint", "-sha256"]),
  );
  assert.equal(`sha256 Fingerprint=${certificate.fingerprint256}`, sha256.trim());
  assert.equal(certificate.spkiSha256, await pinOf("rsa-server"));
  assert.deepEqual(certificate.publicKey, { type: "RSA", bits: 2048 });
  assert.equal(certificate.keyUsage, null, "no key usage extension");
  assert.deepEqual(certificate.extKeyUsage, ["serverAuth"]);
  const root = sslConnectionGetPeerCertificatesData(stream).at(-1)!;
  assert.deepEqual(root.keyUsage, ["keyCertSign", "cRLSign"]);
  assert.deepEqual(root.publicKey, { type: "EC", bits: 256, curve: "prime256v1" });
  await stream[Symbol.asyncDispose]();
});

Deno.test("a bundle with a damaged member is refused, never read in part; PEM after any amount of text is read", async () => {
  const good = fixtureText("ca.crl");
  const damaged = good.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!");
  for (const crl of [good + damaged, [good, damaged]]) {
    assert.throws(
      () => createSslClientContext({ ...trustCa, crl }),
      (error: Error) => error instanceof SslCondition && /cannot be read|none found/.test(error.message),
    );
  }
  const brokenCa = fixtureText("ca.pem") +
    fixtureText("intermediate.pem").replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!");
  assert.throws(
    () => createSslClientContext({ ca: brokenCa }),
    (error: Error) =>
      error instanceof SslCondition && /block 2 cannot be read; the 1 before it were/.test(error.message),
  );
  // `openssl crl -text` and `openssl x509 -text` put kilobytes of text before the PEM block.
  const crlText = await openssl(["crl", "-in", fixture("ca.crl"), "-text"]);
  const caText = await openssl(["x509", "-in", fixture("ca.pem"), "-text"]);
  assert.ok(decoder.decode(crlText).indexOf("-----BEGIN") > 256, "the text comes first");
  using context = createSslClientContext({ ca: caText, crl: crlText });
  const { peer, port } = await startOpensslServer([], "revoked");
  await using _peer = peer;
  assertRefused(await outcome(port, { sslCtx: context }), 23);
});

Deno.test("a server's CRL refuses a revoked client certificate (23); the client is told it is held revoked", async () => {
  using server = createSslServerContext({
    ...identity("server"),
    ...trustCa,
    requireClientCert: true,
    crlFile: fixture("ca.crl"),
  });
  for (const version of ["tls-v1-2", "tls-v1-3"] as const) {
    using client = createSslClientContext({
      ...trustCa,
      ...identity("revoked-client"),
      maxProtocolVersion: version,
    });
    await using serving = serveOnce(server);
    const result = await outcome(serving.port, { sslCtx: client });
    // At TLS 1.3 the verdict comes after the client's Finished, to its first read.
    const refused = result instanceof Error
      ? result
      : await rejection(result.read(new Uint8Array(1)), 5000, "the server's refusal");
    assert.ok(refused instanceof SslCondition, String(refused));
    assert.match(refused.message, /certificate revoked.*holds our certificate revoked/);
    assert.doesNotMatch(refused.message, /trust the CA/);
    const failure = await serving.served;
    assert.ok(failure instanceof SslVerificationFailure, String(failure));
    assert.equal(failure.verifyCode, 23, version);
    assert.match(failure.message, /revoked: it must not be used|revoked/);
  }
});

Deno.test("review: a pfx bundle with passwordCallback is refused, since the callback would never be asked", () => {
  const pfx = Deno.readFileSync(fixture("client.p12"));
  assert.throws(
    () => createSslClientContext({ pfx, passwordCallback: () => "correct horse" }),
    /takes its password as password, not passwordCallback/,
  );
});
