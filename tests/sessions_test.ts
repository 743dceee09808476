// Sessions and tickets: a client context's own session cache per host and port and its onSession callback
// (against openssl s_server), a server's sessionTimeout, numTickets, sessionCache: false (against openssl
// s_client), and ticket keys shared by two processes and rotated with setTicketKeys.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  makeInstance,
  openTcpStream,
  type SocketStream,
  type SslAbstractContext,
} from "../mod.ts";
import {
  decoder,
  echoOnce,
  encoder,
  identity,
  listenLoopback,
  Peer,
  readBytes,
  roundTrip,
  runSClient,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";

const versions = ["tls-v1-2", "tls-v1-3"] as const;

/** Asks an `s_server -www` for its page over `stream` and reads to the end (TLS 1.3 tickets come on the way). */
async function fetchPage(stream: SocketStream): Promise<void> {
  await stream.write(encoder.encode("GET / HTTP/1.0\r\n\r\n"));
  const page = decoder.decode(await readBytes(stream, 1 << 20));
  assert.match(page, /HTTP\/1\.0 200/);
}

/** A module server on one port for every connection of a test: each handshakes, echoes one chunk and closes. */
function echoServer(context: SslAbstractContext): AsyncDisposable & { port: number } {
  const { listener, port } = listenLoopback();
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const socket of listener) {
      served.push(
        (async () => {
          const stream = await makeInstance("socket-stream", { socket, sslCtx: context });
          await echoOnce(stream);
          await stream.close();
        })().catch(() => {}),
      );
    }
  })();
  return {
    port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await within(Promise.all(served), 5000, "the echo server's connections");
    },
  };
}

/** Connects a client of `client` to the echo server on `port`, echoes once, and says whether it resumed. */
async function resumes(
  port: number,
  options: Parameters<typeof openTcpStream>[2],
  host = "localhost",
): Promise<boolean> {
  const stream = await within(openTcpStream(host, port, options), 5000, `connecting to ${host}:${port}`);
  await using _stream = stream;
  assert.equal(await within(roundTrip(stream, "ping"), 5000, "the echo"), "ping");
  return stream.isSessionReused();
}

Deno.test("sessionCache: a client context resumes per host and port by itself, against openssl s_server", async () => {
  for (const version of versions) {
    using client = createSslClientContext({ ...trustCa, sessionCache: true, maxProtocolVersion: version });
    using plain = createSslClientContext({ ...trustCa, maxProtocolVersion: version });
    const { peer, port } = await startOpensslServer(["-www", "-naccept", "5"]);
    await using _peer = peer;
    const connect = async (context: SslAbstractContext, host = "localhost") => {
      const stream = await within(
        openTcpStream(host, port, { sslCtx: context }),
        5000,
        `connecting to ${host}`,
      );
      await using _stream = stream;
      await fetchPage(stream);
      return stream.isSessionReused();
    };
    assert.equal(await connect(client), false, `${version}: the first connection is a full handshake`);
    assert.equal(await connect(client), true, `${version}: the second resumes`);
    // Another name for the same server is another entry: its certificate was checked for "localhost".
    assert.equal(await connect(client, "127.0.0.1"), false, `${version}: another host name`);
    assert.equal(await connect(plain), false, `${version}: a context without the cache`);
    assert.equal(await connect(plain), false, `${version}: still without`);
  }
});

Deno.test("sessionCache learns from a connection given a session explicitly", async () => {
  const issued: Uint8Array[] = [];
  using client = createSslClientContext({ ...trustCa, sessionCache: true, onSession: (s) => issued.push(s) });
  const first = await startOpensslServer(["-www", "-naccept", "1"]);
  const second = await startOpensslServer(["-www", "-naccept", "2"]);
  await using _first = first.peer;
  await using _second = second.peer;
  const connect = async (port: number, session?: Uint8Array) => {
    await using stream = await within(
      openTcpStream("localhost", port, { sslCtx: client, session }),
      5000,
      "connect",
    );
    await fetchPage(stream);
    return stream.isSessionReused();
  };
  assert.equal(await connect(first.port), false);
  // A session from the first server, offered to the second: it cannot resume there, and the second server's
  // own sessions are cached for it.
  assert.equal(await connect(second.port, issued[0]), false, "another server's session");
  assert.equal(await connect(second.port), true, "resumed from the cache");
});

Deno.test("onSession: every session s_server issues (1 at TLS 1.2, -num_tickets at 1.3) and each resumes", async () => {
  for (const [version, tickets] of [["tls-v1-2", 1], ["tls-v1-3", 3]] as const) {
    const sessions: Uint8Array[] = [];
    using client = createSslClientContext({
      ...trustCa,
      maxProtocolVersion: version,
      onSession: (session) => sessions.push(session),
    });
    const { peer, port } = await startOpensslServer(["-www", "-naccept", "2", "-num_tickets", "3"]);
    await using _peer = peer;
    {
      await using stream = await within(
        openTcpStream("localhost", port, { sslCtx: client }),
        5000,
        "connecting",
      );
      await fetchPage(stream);
    }
    assert.equal(sessions.length, tickets, version);
    await using stream = await within(
      openTcpStream("localhost", port, { sslCtx: client, session: sessions.at(-1) }),
      5000,
      "connecting with a session from onSession",
    );
    await fetchPage(stream);
    assert.equal(stream.isSessionReused(), true, version);
  }
});

Deno.test("onSession: a callback that throws changes nothing for the connection", async () => {
  let calls = 0;
  using client = createSslClientContext({
    ...trustCa,
    onSession: () => {
      calls++;
      throw new Error("a buggy session store");
    },
  });
  using server = createSslServerContext(identity("server"));
  await using echo = echoServer(server);
  assert.equal(await resumes(echo.port, { sslCtx: client }), false);
  assert.equal(calls, 2, "two TLS 1.3 tickets");
});

Deno.test("numTickets and sessionTimeout as s_client sees them; sessionCache: false resumes nothing", async () => {
  for (const [tickets, timeout] of [[0, 60], [3, 7]]) {
    using context = createSslServerContext({
      ...identity("server"),
      numTickets: tickets,
      sessionTimeout: timeout,
    });
    await using echo = echoServer(context);
    const { code, output } = await runSClient(echo.port, ["-servername", "localhost", "-ign_eof"], "ping\n");
    assert.equal(code, 0, output);
    assert.equal(output.match(/Post-Handshake New Session Ticket arrived/g)?.length ?? 0, tickets, output);
    if (tickets > 0) assert.match(output, new RegExp(`lifetime hint: ${timeout} \\(seconds\\)`));
  }
  const directory = await Deno.makeTempDir();
  try {
    for (const sessionCache of [true, false]) {
      for (const version of ["-tls1_2", "-tls1_3"]) {
        using context = createSslServerContext({ ...identity("server"), sessionCache });
        await using echo = echoServer(context);
        const file = `${directory}/session${version}.pem`;
        const args = ["-servername", "localhost", "-ign_eof", version];
        const first = await runSClient(echo.port, [...args, "-sess_out", file], "ping\n");
        assert.equal(first.code, 0, first.output);
        let second = { code: 0, output: "" };
        if (sessionCache) {
          second = await runSClient(echo.port, [...args, "-sess_in", file], "ping\n");
          assert.match(second.output, /^Reused,/m, `${version}: resumed`);
        } else {
          // No ticket came, so s_client saved nothing to offer; whatever it offers is not resumed.
          const offered = await Deno.stat(file).then(() => ["-sess_in", file], () => []);
          second = await runSClient(echo.port, [...args, ...offered], "ping\n");
          assert.doesNotMatch(second.output, /^Reused,/m, `${version}: sessionCache: false`);
          assert.doesNotMatch(first.output, /New Session Ticket arrived/, `${version}: no ticket`);
        }
      }
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("sessionTimeout: a session older than it gets a full handshake", async () => {
  using server = createSslServerContext({ ...identity("server"), sessionTimeout: 1 });
  await using echo = echoServer(server);
  for (const version of versions) {
    using client = createSslClientContext({ ...trustCa, sessionCache: true, maxProtocolVersion: version });
    assert.equal(await resumes(echo.port, { sslCtx: client }), false);
    assert.equal(await resumes(echo.port, { sslCtx: client }), true, `${version}: within the timeout`);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    assert.equal(await resumes(echo.port, { sslCtx: client }), false, `${version}: after it`);
  }
});

/** A server in another process with `keys` (hex) as ticket keys; resolves once it listens. */
async function serverProcess(keys: Uint8Array): Promise<{ peer: Peer; port: number }> {
  const hex = Array.from(keys, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const peer = new Peer(Deno.execPath(), [
    "run",
    "--allow-ffi",
    "--allow-read",
    "--allow-net=127.0.0.1",
    "--allow-env",
    new URL("./_ticket_server.ts", import.meta.url).pathname,
    hex,
  ]);
  const [, port] = await peer.waitFor(/port (\d+)/, 20_000);
  return { peer, port: Number(port) };
}

Deno.test("ticketKeys: two processes with the same keys resume each other's sessions; other keys do not", async () => {
  const shared = crypto.getRandomValues(new Uint8Array(80));
  using here = createSslServerContext({ ...identity("server"), ticketKeys: shared });
  await using local = echoServer(here);
  const same = await serverProcess(shared);
  await using _same = same.peer;
  const other = await serverProcess(crypto.getRandomValues(new Uint8Array(80)));
  await using _other = other.peer;
  for (const version of versions) {
    const sessions: Uint8Array[] = [];
    using client = createSslClientContext({
      ...trustCa,
      maxProtocolVersion: version,
      onSession: (session) => sessions.push(session),
    });
    assert.equal(await resumes(local.port, { sslCtx: client }), false);
    const session = sessions.at(-1);
    assert.ok(session, `${version}: a session`);
    assert.equal(await resumes(same.port, { sslCtx: client, session }), true, `${version}: same keys`);
    assert.equal(await resumes(other.port, { sslCtx: client, session }), false, `${version}: other keys`);
  }
});

Deno.test("setTicketKeys rotates: tickets made before no longer resume, new ones do; reload keeps the keys", async () => {
  using server = createSslServerContext(identity("server"));
  await using echo = echoServer(server);
  const sessions: Uint8Array[] = [];
  using client = createSslClientContext({ ...trustCa, onSession: (session) => sessions.push(session) });
  await resumes(echo.port, { sslCtx: client });
  const before = sessions.at(-1)!;
  assert.equal(await resumes(echo.port, { sslCtx: client, session: before }), true, "before rotation");
  server.reload();
  assert.equal(await resumes(echo.port, { sslCtx: client, session: before }), true, "after a reload");
  server.setTicketKeys(crypto.getRandomValues(new Uint8Array(80)));
  assert.equal(await resumes(echo.port, { sslCtx: client, session: before }), false, "after rotation");
  const after = sessions.at(-1)!;
  assert.equal(await resumes(echo.port, { sslCtx: client, session: after }), true, "a ticket made after");
});

Deno.test("session options are checked", () => {
  const server = identity("server");
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [() => createSslServerContext({ ...server, sessionTimeout: 0 }), RangeError, /sessionTimeout must be/],
    [
      () => createSslServerContext({ ...server, sessionTimeout: 2 ** 31 }),
      RangeError,
      /sessionTimeout must be/,
    ],
    [() => createSslServerContext({ ...server, sessionTimeout: 1.5 }), RangeError, /sessionTimeout must be/],
    [() => createSslServerContext({ ...server, numTickets: -1 }), RangeError, /numTickets must be/],
    [() => createSslServerContext({ ...server, numTickets: 101 }), RangeError, /numTickets must be/],
    [
      () => createSslServerContext({ ...server, ticketKeys: new Uint8Array(79) }),
      TypeError,
      /80 bytes.*79 bytes/,
    ],
    [
      () => createSslServerContext({ ...server, ticketKeys: "secret" as never }),
      TypeError,
      /ticketKeys must be/,
    ],
    [
      () => createSslServerContext({ ...server, sessionCache: "no" as never }),
      TypeError,
      /sessionCache must be/,
    ],
    [
      () => createSslServerContext({ ...server, sessionCache: false, numTickets: 2 }),
      TypeError,
      /cannot go with numTickets or ticketKeys/,
    ],
    [() => createSslClientContext({ onSession: "log" as never }), TypeError, /onSession must be a function/],
    [
      () => createSslClientContext({ session: new Uint8Array([1, 2, 3]) }),
      TypeError,
      /session must be the bytes stream.session\(\) returned/,
    ],
    [() => createSslClientContext({ numTickets: 2 } as never), TypeError, /unknown option "numTickets"/],
    [
      () => createSslServerContext({ ...server, onSession: () => {} } as never),
      TypeError,
      /unknown option "onSession"/,
    ],
  ];
  for (const [make, type, message] of cases) {
    assert.throws(
      make,
      (error: Error) => error instanceof type && message.test(error.message),
      String(message),
    );
  }
  using client = createSslClientContext();
  assert.throws(() => client.setTicketKeys(new Uint8Array(80)), /ticket keys are a server's/);
  using silent = createSslServerContext({ ...server, sessionCache: false });
  assert.throws(() => silent.setTicketKeys(new Uint8Array(80)), /sessionCache: false/);
  using open = createSslServerContext(server);
  assert.throws(() => open.setTicketKeys(new Uint8Array(81)), TypeError);
  open.close();
  assert.throws(() => open.setTicketKeys(new Uint8Array(80)), /closed/);
});
