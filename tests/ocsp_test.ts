// OCSP stapling, against openssl s_server -status_file and s_client -status, gnutls-serv --ocsp-response and
// gnutls-cli (which checks a stapled response by itself), and between the module's own ends:
// a client that asks for and checks the stapled response ("require" / "if-stapled"), a server that staples one
// (bytes or a function of its certificate). Responses come from the test CA (tests/fixtures/make_certs.sh).
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  type PeerCertificate,
  SocketStream,
  SslVerificationFailure,
} from "../mod.ts";
import {
  echoOnce,
  fixture,
  identity,
  roundTrip,
  runSClient,
  serveOnce,
  startGnutlsServer,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";

const X509_V_ERR_CERT_REVOKED = 23;
const X509_V_ERR_OCSP_VERIFY_FAILED = 74;
const X509_V_ERR_OCSP_CERT_UNKNOWN = 75;

const response = (name: string) => Deno.readFileSync(fixture(`ocsp-${name}.der`));

/** An s_server presenting `cert` that staples the fixture response `staple` (none if `null`). */
function stapling(staple: string | null, cert = "server") {
  return startOpensslServer(staple === null ? [] : ["-status_file", fixture(`ocsp-${staple}.der`)], cert);
}

/** What a client of `context` gets from the server on `port`: its stream, or the error. */
async function outcome(
  port: number,
  options: Parameters<typeof openTcpStream>[2],
  host = "localhost",
): Promise<SocketStream | Error> {
  try {
    return await within(openTcpStream(host, port, options), 5000, "the handshake");
  } catch (error) {
    return error as Error;
  }
}

function assertRefused(result: SocketStream | Error, code: number, text: RegExp): void {
  assert.ok(result instanceof SslVerificationFailure, String(result));
  assert.equal(result.verifyCode, code, result.message);
  assert.match(result.message, text);
}

/**
 * The warnings of a server context stapling with `ocspResponse` for two s_client -status handshakes, each of
 * which must get no response.
 */
async function warningsOfTwoStaplings(ocspResponse: unknown): Promise<string[]> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    using context = createSslServerContext({ ...identity("server"), ocspResponse: ocspResponse as never });
    for (let i = 0; i < 2; i++) {
      await using server = serveOnce(context);
      const { code, output } = await runSClient(server.port, ["-servername", "localhost", "-status"]);
      assert.equal(code, 0, output);
      assert.match(output, /OCSP response: no response sent/);
    }
  } finally {
    console.warn = warn;
  }
  return warnings;
}

Deno.test('ocspCheck "require": a good stapled response passes and is readable; no response fails with code 74', async () => {
  using context = createSslClientContext({ ...trustCa, ocspCheck: "require" });
  {
    const { peer, port } = await stapling("good");
    await using _peer = peer;
    const stream = await outcome(port, { sslCtx: context });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    assert.deepEqual(stream.ocspResponse, response("good"));
  }
  {
    const { peer, port } = await stapling(null);
    await using _peer = peer;
    assertRefused(
      await outcome(port, { sslCtx: context }),
      X509_V_ERR_OCSP_VERIFY_FAILED,
      /stapled no OCSP response/,
    );
  }
});

Deno.test('ocspCheck "if-stapled": no response passes; a bad one fails with the code of what is wrong', async () => {
  using context = createSslClientContext({ ...trustCa, ocspCheck: "if-stapled" });
  {
    const { peer, port } = await stapling(null);
    await using _peer = peer;
    const stream = await outcome(port, { sslCtx: context });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    assert.equal(stream.ocspResponse, null);
  }
  const cases: [string, string, string, number, RegExp][] = [
    ["revoked", "revoked", "localhost", X509_V_ERR_CERT_REVOKED, /says the certificate is revoked/],
    ["unknown", "wrong-host", "wrong.example", X509_V_ERR_OCSP_CERT_UNKNOWN, /does not know the certificate/],
    // A response for another certificate says nothing about this one.
    ["unknown", "server", "localhost", X509_V_ERR_OCSP_CERT_UNKNOWN, /says nothing about this certificate/],
    ["wrong-signer", "server", "localhost", X509_V_ERR_OCSP_VERIFY_FAILED, /not signed by a responder/],
    ["stale", "server", "localhost", X509_V_ERR_OCSP_VERIFY_FAILED, /out of date/],
    [
      "no-next-update",
      "server",
      "localhost",
      X509_V_ERR_OCSP_VERIFY_FAILED,
      /no nextUpdate and is older than 7/,
    ],
    ["future", "server", "localhost", X509_V_ERR_OCSP_VERIFY_FAILED, /not yet valid/],
  ];
  for (const [staple, cert, host, code, text] of cases) {
    const { peer, port } = await stapling(staple, cert);
    await using _peer = peer;
    const result = await outcome(port, { sslCtx: context, tlsextHostName: host }, "127.0.0.1");
    assertRefused(result, code, text);
  }
});

Deno.test("a response whose CertID hashes with SHA-256 is matched (RFC 6960 allows any digest)", async () => {
  using context = createSslClientContext({ ...trustCa, ocspCheck: "require" });
  const { peer, port } = await stapling("sha256-id");
  await using _peer = peer;
  const stream = await outcome(port, { sslCtx: context });
  assert.ok(stream instanceof SocketStream, String(stream));
  await stream.close();
});

Deno.test("ocspResponse bytes too big for a handshake are refused at creation; a function's are not stapled", async () => {
  assert.throws(
    () => createSslServerContext({ ...identity("server"), ocspResponse: new Uint8Array(70_000).fill(1) }),
    (error: Error) => error instanceof RangeError && /70000 bytes; at most 61440/.test(error.message),
  );
  const warnings = await warningsOfTwoStaplings(() => new Uint8Array(70_000).fill(1));
  assert.equal(warnings.length, 1, "said once per context");
  assert.match(String(warnings[0]), /70000 bytes; at most 61440/);
});

Deno.test("requestOcsp asks without checking: a revoked response is handed over; without either, none is asked for", async () => {
  for (const [options, expected] of [[{ requestOcsp: true }, response("revoked")], [{}, null]] as const) {
    using context = createSslClientContext({ ...trustCa, ...options });
    const { peer, port } = await stapling("revoked", "revoked");
    await using _peer = peer;
    const stream = await outcome(port, { sslCtx: context });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    assert.deepEqual(stream.ocspResponse, expected);
  }
});

Deno.test("ocspResponse: a server staples the bytes for s_client -status, and nothing for a client that does not ask", async () => {
  using context = createSslServerContext({ ...identity("server"), ocspResponse: response("good") });
  for (const ask of [true, false]) {
    await using server = serveOnce(context);
    const { code, output } = await runSClient(server.port, [
      "-servername",
      "localhost",
      ...(ask ? ["-status"] : []),
    ]);
    assert.equal(code, 0, output);
    if (ask) {
      assert.match(output, /OCSP Response Status: successful/);
      assert.match(output, /Cert Status: good/);
    } else {
      assert.doesNotMatch(output, /OCSP Response/);
    }
    assert.ok((await server.served) instanceof SocketStream);
  }
});

Deno.test("GnuTLS: the module's client checks gnutls-serv's staple; gnutls-cli checks the module's", async () => {
  using client = createSslClientContext({ ...trustCa, ocspCheck: "require" });
  for (const [cert, staple] of [["server", "good"], ["revoked", "revoked"]]) {
    // gnutls-serv refuses to staple a response that says its own certificate is revoked, unless told.
    const args = ["--ocsp-response", fixture(`ocsp-${staple}.der`), "--ignore-ocsp-response-errors"];
    const { peer, port } = await startGnutlsServer(args, cert);
    await using _peer = peer;
    const result = await outcome(port, { sslCtx: client });
    if (staple === "good") {
      assert.ok(result instanceof SocketStream, String(result));
      await result.close();
    } else assertRefused(result, X509_V_ERR_CERT_REVOKED, /revoked/);
  }
  for (
    const [cert, staple, verdict] of [["server", "good", /certificate is trusted/], [
      "revoked",
      "revoked",
      /revoked/,
    ]] as const
  ) {
    using context = createSslServerContext({ ...identity(cert), ocspResponse: response(staple) });
    await using server = serveOnce(context);
    const saved = await Deno.makeTempFile();
    try {
      const child = new Deno.Command("gnutls-cli", {
        args: [
          "--x509cafile",
          fixture("ca.pem"),
          "--port",
          String(server.port),
          "--save-ocsp",
          saved,
          "localhost",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const { stdout, stderr } = await within(child.output(), 10_000, "gnutls-cli");
      assert.match(new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr), verdict);
      assert.deepEqual(Deno.readFileSync(saved), response(staple));
    } finally {
      Deno.removeSync(saved);
    }
    const served = await within(server.served, 5000, "the server's handshake");
    if (staple === "revoked") assert.ok(served instanceof Error, "gnutls-cli accepted a revoked certificate");
  }
});

Deno.test("ocspResponse as a function: called with the certificate; null or a throw staples nothing", async () => {
  const seen: PeerCertificate[] = [];
  let answer: () => Uint8Array | null = () => response("good");
  using context = createSslServerContext({
    ...identity("server"),
    ocspResponse: (certificate) => {
      seen.push(certificate);
      return answer();
    },
  });
  using client = createSslClientContext({ ...trustCa, ocspCheck: "if-stapled" });
  {
    await using server = serveOnce(context);
    const stream = await outcome(server.port, { sslCtx: client });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    assert.deepEqual(stream.ocspResponse, response("good"));
    assert.match(seen[0].subject, /CN=localhost/);
  }
  for (
    const next of [() => null, () => {
      throw new Error("responder down");
    }]
  ) {
    answer = next;
    await using server = serveOnce(context);
    const { code, output } = await runSClient(server.port, ["-servername", "localhost", "-status"]);
    assert.equal(code, 0, output);
    assert.match(output, /OCSP response: no response sent/);
  }
  assert.equal(seen.length, 3);
});

Deno.test("the module's server and client: a stapled revoked or empty or unreadable response fails the handshake on the client", async () => {
  using client = createSslClientContext({ ...trustCa, ocspCheck: "require" });
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["revoked", response("revoked"), X509_V_ERR_CERT_REVOKED, /revoked/],
    // A successful OCSPResponse with no body.
    [
      "server",
      new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]),
      X509_V_ERR_OCSP_VERIFY_FAILED,
      /holds no answer/,
    ],
    ["server", new Uint8Array(64).fill(0xff), X509_V_ERR_OCSP_VERIFY_FAILED, /cannot be read/],
  ];
  for (const [cert, staple, code, text] of cases) {
    using context = createSslServerContext({ ...identity(cert), ocspResponse: staple });
    await using server = serveOnce(context);
    assertRefused(await outcome(server.port, { sslCtx: client }), code, text);
    // The server sees the client's alert, not a silent close.
    assert.ok((await within(server.served, 5000, "the server's handshake")) instanceof Error);
  }
});

Deno.test("OCSP options are checked: wrong values, the wrong side, or ocspCheck without verification", () => {
  assert.throws(
    () => createSslClientContext({ ocspCheck: "yes" as "require" }),
    (error: Error) =>
      error instanceof TypeError && /ocspCheck must be "require" or "if-stapled"/.test(error.message),
  );
  assert.throws(
    () => createSslClientContext({ verify: false, ocspCheck: "require" }),
    (error: Error) => error instanceof TypeError && /needs verify: true/.test(error.message),
  );
  assert.throws(
    () => createSslServerContext({ ...identity("server"), ocspCheck: "require" } as never),
    (error: Error) => error instanceof TypeError && /unknown option "ocspCheck"/.test(error.message),
  );
  assert.throws(
    () => createSslClientContext({ ocspResponse: response("good") } as never),
    (error: Error) => error instanceof TypeError && /unknown option "ocspResponse"/.test(error.message),
  );
  assert.throws(
    () => createSslClientContext({ requestOcsp: "yes" as never }),
    (error: Error) => error instanceof TypeError && /requestOcsp must be a boolean/.test(error.message),
  );
  assert.throws(
    () => createSslClientContext({ requestOcsp: false, ocspCheck: "require" }),
    (error: Error) => error instanceof TypeError && /cannot go with requestOcsp: false/.test(error.message),
  );
  for (const bad of [new Uint8Array(0), "good", 42, null]) {
    assert.throws(
      () => createSslServerContext({ ...identity("server"), ocspResponse: bad as never }),
      (error: Error) =>
        error instanceof TypeError && /ocspResponse must be a DER OCSP response/.test(error.message),
    );
  }
});

Deno.test("stream.ocspResponse is null for a server that staples none, on the server's end, and once closed", async () => {
  using context = createSslServerContext({ ...identity("server"), ocspResponse: response("good") });
  using client = createSslClientContext({ ...trustCa, requestOcsp: true });
  await using server = serveOnce(context);
  const stream = await outcome(server.port, { sslCtx: client });
  assert.ok(stream instanceof SocketStream, String(stream));
  const served = await within(server.served, 5000, "the server's handshake");
  assert.ok(served instanceof SocketStream, String(served));
  assert.deepEqual(served.ocspResponse, response("good"));
  assert.deepEqual(stream.ocspResponse, response("good"));
  await stream.close();
  assert.equal(stream.ocspResponse, null);
  using silent = createSslServerContext(identity("server"));
  await using plain = serveOnce(silent);
  const other = await outcome(plain.port, { sslCtx: client });
  assert.ok(other instanceof SocketStream, String(other));
  await using _other = other;
  assert.equal(other.ocspResponse, null);
});

/** Connects a client of `client` to a fresh server of `server`, echoes once, and gives back its session. */
async function sessionFrom(
  server: ReturnType<typeof createSslServerContext>,
  options: Parameters<typeof openTcpStream>[2],
): Promise<{ session: Uint8Array | null; reused: boolean } | Error> {
  await using listening = serveOnce(server);
  const stream = await outcome(listening.port, options);
  if (stream instanceof Error) return stream;
  await using _stream = stream;
  const served = await within(listening.served, 5000, "the server's handshake");
  if (served instanceof Error) throw served;
  const echoed = echoOnce(served);
  assert.equal(await roundTrip(stream, "ping"), "ping");
  await within(echoed, 5000, "the echo");
  return { session: stream.session(), reused: stream.isSessionReused() };
}

Deno.test("a session checked by ocspCheck resumes without a new response (TLS 1.2 and 1.3); one made without it does not", async () => {
  using server = createSslServerContext({ ...identity("server"), ocspResponse: response("good") });
  for (const version of ["tls-v1-2", "tls-v1-3"] as const) {
    using client = createSslClientContext({ ...trustCa, ocspCheck: "require", maxProtocolVersion: version });
    const first = await sessionFrom(server, { sslCtx: client });
    assert.ok(!(first instanceof Error), String(first));
    assert.ok(first.session !== null, `a ${version} session`);
    const second = await sessionFrom(server, { sslCtx: client, session: first.session });
    assert.ok(!(second instanceof Error), String(second));
    assert.equal(second.reused, true, version);
  }
  // A session from a client that did not check is not resumed by one that does: a full handshake checks.
  using silent = createSslServerContext(identity("server"));
  using unchecked = createSslClientContext(trustCa);
  using checking = createSslClientContext({ ...trustCa, ocspCheck: "require" });
  const first = await sessionFrom(silent, { sslCtx: unchecked });
  assert.ok(!(first instanceof Error) && first.session !== null, String(first));
  const second = await sessionFrom(silent, { sslCtx: checking, session: first.session });
  assert.ok(second instanceof Error, "resumed a session no OCSP check had vouched for");
  assertRefused(second, X509_V_ERR_OCSP_VERIFY_FAILED, /stapled no OCSP response/);
});

Deno.test("review: an async ocspResponse staples nothing and is warned about once, not silently", async () => {
  const warnings = await warningsOfTwoStaplings((() => Promise.resolve(response("good"))) as never);
  assert.equal(warnings.length, 1, "said once per context");
  assert.match(warnings[0], /synchronously; it gave a promise/);
});

Deno.test("ocspResponse as a function: the certificate is described once, and every handshake gets that description", async () => {
  const seen: PeerCertificate[] = [];
  using context = createSslServerContext({
    ...identity("server"),
    ocspResponse: (certificate) => {
      seen.push(certificate);
      return response("good");
    },
  });
  using client = createSslClientContext({ ...trustCa, ocspCheck: "require" });
  const handshake = async () => {
    await using server = serveOnce(context);
    const stream = await outcome(server.port, { sslCtx: client });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    assert.deepEqual(stream.ocspResponse, response("good"));
  };
  await handshake();
  await handshake();
  assert.equal(seen.length, 2);
  // Made once: what the calls share (frozen) is the same; what could be changed (der, the dates) is each call's.
  for (const part of ["subjectAltNames", "publicKey", "keyUsage", "extKeyUsage"] as const) {
    assert.strictEqual(
      seen[1][part],
      seen[0][part],
      `the second handshake got the ${part} the first one made`,
    );
  }
  for (const part of ["der", "validFrom", "validTo"] as const) {
    assert.notStrictEqual(seen[1][part], seen[0][part], `each call has its own ${part}`);
  }
  assert.deepEqual(seen[1], seen[0]);
  assert.match(seen[0].subject, /CN=localhost/);
  assert.ok(Object.isFrozen(seen[0]) && Object.isFrozen(seen[0].subjectAltNames), "frozen");
  // A reload makes a new SSL_CTX (and may read a new certificate): its first handshake describes it again.
  context.reload();
  await handshake();
  assert.equal(seen.length, 3);
  assert.notStrictEqual(seen[2], seen[0]);
  assert.deepEqual(seen[2], seen[0]);
});

/** Runs openssl in `cwd`; fails with its stderr if it fails. */
async function opensslIn(cwd: string, args: string[]): Promise<void> {
  const { code, stderr } = await within(
    new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" }).output(),
    10_000,
    `openssl ${args[0]}`,
  );
  assert.equal(code, 0, `openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/**
 * A root, an intermediate under it, a server certificate and an OCSP responder (OCSPSigning) under the
 * intermediate, and a "good" response for the server certificate signed by that responder.
 */
async function intermediatePki(directory: string): Promise<void> {
  const ext = (name: string, lines: string[]) =>
    Deno.writeTextFile(`${directory}/${name}.ext`, lines.join("\n"));
  await ext("ca", ["basicConstraints=critical,CA:true", "keyUsage=critical,keyCertSign,cRLSign"]);
  await ext("server", ["subjectAltName=DNS:localhost,IP:127.0.0.1", "extendedKeyUsage=serverAuth"]);
  await ext("responder", ["extendedKeyUsage=OCSPSigning", "keyUsage=critical,digitalSignature"]);
  const key = (name: string) =>
    opensslIn(directory, [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      `${name}.key`,
    ]);
  const issue = async (name: string, subject: string, issuer: string, extensions: string) => {
    await key(name);
    await opensslIn(directory, [
      "req",
      "-new",
      "-key",
      `${name}.key`,
      "-subj",
      subject,
      "-out",
      `${name}.csr`,
    ]);
    await opensslIn(directory, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${issuer}.pem`,
      "-CAkey",
      `${issuer}.key`,
      "-CAcreateserial",
      "-days",
      "30",
      "-extfile",
      `${extensions}.ext`,
      "-out",
      `${name}.pem`,
    ]);
  };
  await key("root");
  await opensslIn(directory, [
    "req",
    "-x509",
    "-new",
    "-key",
    "root.key",
    "-subj",
    "/CN=ocsp test root",
    "-days",
    "30",
    "-addext",
    "basicConstraints=critical,CA:true",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    "root.pem",
  ]);
  await issue("intermediate", "/CN=ocsp test intermediate", "root", "ca");
  await issue("server", "/CN=localhost", "intermediate", "server");
  await issue("responder", "/CN=ocsp test responder", "intermediate", "responder");
  await Deno.writeTextFile(`${directory}/index.txt`, "");
  await Deno.writeTextFile(
    `${directory}/ca.cnf`,
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${directory}/index.txt\ndefault_md = sha256\n`,
  );
  await opensslIn(directory, [
    "ca",
    "-config",
    "ca.cnf",
    "-keyfile",
    "intermediate.key",
    "-cert",
    "intermediate.pem",
    "-valid",
    "server.pem",
  ]);
  await opensslIn(directory, [
    "ocsp",
    "-index",
    "index.txt",
    "-rsigner",
    "responder.pem",
    "-rkey",
    "responder.key",
    "-CA",
    "intermediate.pem",
    "-issuer",
    "intermediate.pem",
    "-cert",
    "server.pem",
    "-respout",
    "good.der",
    "-ndays",
    "1",
  ]);
}

Deno.test("ocspCheck honours verifyFlags: with partialChain, a response from a responder under the trusted intermediate passes", async () => {
  const directory = await Deno.makeTempDir();
  try {
    await intermediatePki(directory);
    const text = (name: string) => Deno.readTextFileSync(`${directory}/${name}`);
    using server = createSslServerContext({
      cert: text("server.pem") + text("intermediate.pem"),
      key: text("server.key"),
      ocspResponse: Deno.readFileSync(`${directory}/good.der`),
    });
    // The root trusted: the responder chains to it, with no flag needed.
    using rooted = createSslClientContext({ ca: text("root.pem"), ocspCheck: "require" });
    // Only the intermediate trusted, as an anchor: the handshake needs partialChain, and so does the responder.
    using partial = createSslClientContext({
      ca: text("intermediate.pem"),
      verifyFlags: { partialChain: true },
      ocspCheck: "require",
    });
    for (const client of [rooted, partial]) {
      await using listening = serveOnce(server);
      const stream = await outcome(listening.port, { sslCtx: client });
      assert.ok(stream instanceof SocketStream, String(stream));
      await using _stream = stream;
      assert.deepEqual(stream.ocspResponse, Deno.readFileSync(`${directory}/good.der`));
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("ocspResponse as a function: what one call changes in its certificate description, the next does not see", async () => {
  const before: { der: Uint8Array; validFrom: number; validTo: number }[] = [];
  const refused: string[] = [];
  using context = createSslServerContext({
    ...identity("server"),
    ocspResponse: (certificate) => {
      before.push({
        der: certificate.der.slice(),
        validFrom: certificate.validFrom.getTime(),
        validTo: certificate.validTo.getTime(),
      });
      certificate.der.fill(0);
      certificate.validFrom.setTime(0);
      certificate.validTo.setTime(0);
      for (
        const change of [
          () => (certificate as { subject: string }).subject = "CN=changed",
          () => certificate.subjectAltNames.push("DNS:changed"),
          () => (certificate.publicKey as { bits: number }).bits = 1,
        ]
      ) {
        try {
          change();
        } catch (error) {
          refused.push((error as Error).name);
        }
      }
      return response("good");
    },
  });
  using client = createSslClientContext({ ...trustCa, ocspCheck: "require" });
  for (let i = 0; i < 2; i++) {
    await using server = serveOnce(context);
    const stream = await outcome(server.port, { sslCtx: client });
    assert.ok(stream instanceof SocketStream, String(stream));
    await using _stream = stream;
    assert.deepEqual(stream.peerCertificate()?.der, before[0].der, "the certificate sent is unchanged");
  }
  assert.equal(before.length, 2);
  assert.deepEqual(before[1], before[0], "the second call sees the certificate as it is");
  assert.notEqual(before[0].der[0], 0);
  assert.notEqual(before[0].validTo, 0);
  assert.deepEqual(refused, Array(6).fill("TypeError"), "the rest is frozen");
});

Deno.test("ocspResponse as empty bytes: refused as empty when given, warned about once as empty when a function gives them", async () => {
  assert.throws(
    () => createSslServerContext({ ...identity("server"), ocspResponse: new Uint8Array(0) }),
    (error: Error) =>
      error instanceof TypeError &&
      /DER OCSP response or a function giving one, got empty bytes$/.test(error.message),
  );
  const warnings = await warningsOfTwoStaplings(() => new Uint8Array(0));
  assert.equal(warnings.length, 1, "said once per context");
  assert.match(warnings[0], /ocspResponse gave empty bytes/);
  assert.doesNotMatch(warnings[0], /Uint8Array/);
});
