// createFetch: fetch over the module's TLS, against real servers on loopback: openssl s_server -www, nginx
// with TLS 1.0 only and nginx requiring a client certificate, and Node's https server for streaming bodies
// both ways (chunked, 16 MiB), keep-alive reuse, redirects between two TLS origins and an abort mid-body; the
// connect options (timeout, signal, nodelay, keepalive) for http: and https: alike. Every test that makes a
// context runs in `freesAll`: OpenSSL must have freed each SSL_CTX and SSL it made by the end.
import assert from "node:assert/strict";
import { createSslClientContext, makeSslCtx, SslHandshakeTimeout, SslVerificationFailure } from "../mod.ts";
import { createFetch, createHttpAgent, type HttpAgentOptions, type SslFetch } from "../fetch/mod.ts";
import {
  fixture,
  fixtureText,
  FreeWatcher,
  listenLoopback,
  Peer,
  rejection,
  startNginx,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";

/**
 * `body`, then a check that OpenSSL freed every SSL_CTX and SSL made while it ran (none left to the GC). A
 * failure whose cleanup failed too names both (Deno would show only "An error was suppressed during disposal").
 */
function freesAll(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    using objects = new FreeWatcher();
    try {
      await body();
    } catch (error) {
      if (!(error instanceof SuppressedError)) throw error;
      throw new Error(`${String(error.suppressed)}\nthen, while cleaning up: ${String(error.error)}`, {
        cause: error,
      });
    }
    // Only what this test made: a failure elsewhere must not fail it too.
    assert.deepEqual(
      { ctx: objects.live.ctx.size, ssl: objects.live.ssl.size },
      { ctx: 0, ssl: 0 },
      "OpenSSL still holds SSL_CTX / SSL objects this test made",
    );
  };
}

// libc, for what Deno does not expose: a listen backlog, and a socket's options. Linux only.
const linux = Deno.build.os === "linux";
const libc = linux
  ? Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    listen: { parameters: ["i32", "i32"], result: "i32" },
    getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  }).symbols
  : null;

/**
 * A loopback port where a TCP connect never completes: a listener with a backlog of 0 that accepts nothing and
 * whose one queue slot is taken, so the kernel drops every further SYN (loopback answers at once otherwise).
 */
async function unanswered(): Promise<AsyncDisposable & { port: number }> {
  const fd = libc!.socket(2, /* AF_INET */ 1, /* SOCK_STREAM */ 0);
  assert.ok(fd >= 0, "socket()");
  // struct sockaddr_in: family, port (network order), 127.0.0.1, zeros.
  const address = new Uint8Array([2, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(libc!.bind(fd, address, 16), 0, "bind()");
  assert.equal(libc!.listen(fd, 0), 0, "listen()");
  assert.equal(libc!.getsockname(fd, address, new Uint32Array([16])), 0, "getsockname()");
  const port = (address[2] << 8) | address[3];
  const held: Deno.TcpConn[] = [];
  // Fill the queue: connects complete until one hangs.
  for (let hung = false; !hung;) {
    assert.ok(held.length < 8, "a connect to the full listener hangs");
    const cancel = new AbortController();
    const timer = setTimeout(() => cancel.abort(), 300);
    try {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port, signal: cancel.signal }));
    } catch {
      hung = true;
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    port,
    [Symbol.asyncDispose]: () => {
      for (const conn of held) conn.close();
      libc!.close(fd);
      return Promise.resolve();
    },
  };
}

/** A loopback listener that accepts connections and never writes a byte (no HTTP answer, no ServerHello). */
function silentListener(): AsyncDisposable & { port: number } {
  const { listener, port } = listenLoopback();
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  return {
    port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const conn of held) conn.close();
    },
  };
}

/** TCP_NODELAY and SO_KEEPALIVE of this process's one socket connected to 127.0.0.1:`port`. */
function socketOptionsTo(port: number): { nodelay: boolean; keepalive: boolean } {
  // Deno shows no descriptors (and /proc/net needs --allow-all): ask each descriptor for its peer.
  const fds: number[] = [];
  for (let fd = 0; fd < 4096; fd++) {
    const peer = new Uint8Array(128);
    if (libc!.getpeername(fd, peer, new Uint32Array([128])) !== 0) continue;
    // struct sockaddr_in: family 2, port (network order), 127.0.0.1.
    if (peer[0] === 2 && ((peer[2] << 8) | peer[3]) === port && peer[4] === 127) fds.push(fd);
  }
  assert.equal(fds.length, 1, `one socket of this process connected to port ${port}`);
  const option = (level: number, name: number) => {
    const value = new Int32Array(1);
    assert.equal(libc!.getsockopt(fds[0], level, name, value, new Uint32Array([4])), 0, "getsockopt()");
    return value[0] !== 0;
  };
  return {
    nodelay: option(6, /* IPPROTO_TCP */ 1 /* TCP_NODELAY */),
    keepalive: option(1, /* SOL_SOCKET */ 9 /* SO_KEEPALIVE */),
  };
}

/** `createFetch(options)`, whose disposal (which waits for requests in flight) fails if it takes over 5 s. */
function boundedFetch(options: HttpAgentOptions): SslFetch {
  const fetch = createFetch(options);
  return Object.assign(fetch, {
    [Symbol.asyncDispose]: () => within(fetch.close(), 5000, "the fetch's close (requests still in flight)"),
  });
}

/** Node's HTTPS server presenting the fixture certificate `name`. */
async function nodeServer(name = "server"): Promise<{ peer: Peer; origin: string }> {
  const peer = new Peer("node", [new URL("./_node_https_server.mjs", import.meta.url).pathname, name]);
  const [, port] = await peer.waitFor(/port (\d+)/);
  return { peer, origin: `https://localhost:${port}` };
}

function pattern(length: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, (_, i) => i % 251);
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16)).join(
    "",
  );
}

Deno.test(
  "createFetch against openssl s_server -www: a global Response, Request objects, the URL",
  freesAll(async () => {
    const { peer, port } = await startOpensslServer(["-www", "-naccept", "2"]);
    await using _peer = peer;
    using context = createSslClientContext(trustCa);
    await using fetch = createFetch({ sslCtx: context });
    const response = await within(fetch(`https://localhost:${port}/`), 5000, "the first fetch");
    assert.ok(response instanceof Response);
    assert.equal(response.status, 200);
    assert.equal(response.url, `https://localhost:${port}/`);
    assert.match(await response.text(), /s_server/);
    // Deno's own Request objects, which undici refuses, are converted.
    const second = await within(
      fetch(new Request(`https://localhost:${port}/again`, { headers: { "x-test": "1" } })),
      5000,
      "a fetch of a Request",
    );
    assert.equal(second.status, 200);
    await second.body?.cancel();
  }),
);

Deno.test(
  "a TLS failure is fetch's TypeError whose cause is the module's typed error",
  freesAll(async () => {
    using context = createSslClientContext(trustCa);
    {
      const { peer, port } = await startOpensslServer(["-www"], "wrong-host");
      await using _peer = peer;
      await using fetch = createFetch({ sslCtx: context });
      const error = await rejection(fetch(`https://localhost:${port}/`), 5000, "the fetch to the wrong host");
      assert.ok(error instanceof TypeError, String(error));
      assert.ok(error.cause instanceof SslVerificationFailure, String(error.cause));
      assert.equal(error.cause.verifyCode, 62, "hostname mismatch");
    }
    // A server that never answers the handshake: SslHandshakeTimeout.
    await using silent = silentListener();
    await using fetch = createFetch({ sslCtx: context, handshakeTimeout: 200 });
    const error = await rejection(fetch(`https://localhost:${silent.port}/`), 5000, "the handshake timeout");
    assert.ok(
      error instanceof TypeError && error.cause instanceof SslHandshakeTimeout,
      String((error as Error).cause ?? error),
    );
  }),
);

Deno.test(
  "nginx with TLS 1.0 only: a tls-v1 context talks to it, the default refuses it",
  freesAll(async () => {
    await using server = await startNginx(() =>
      `    ssl_protocols TLSv1;
    ssl_ciphers DEFAULT@SECLEVEL=0;
    location / { return 200 "legacy $ssl_protocol\\n"; }`
    );
    using legacy = createSslClientContext({
      ...trustCa,
      protocolVersion: "tls-v1",
      maxProtocolVersion: "tls-v1",
    });
    await using fetch = createFetch({ sslCtx: legacy });
    const response = await within(fetch(`${server.origin}/`), 5000, "the TLS 1.0 fetch");
    assert.equal(await response.text(), "legacy TLSv1\n");
    using modern = createSslClientContext(trustCa);
    await using strict = createFetch({ sslCtx: modern });
    const error = await rejection(strict(`${server.origin}/`), 5000, "the TLS 1.2+ fetch to fail");
    assert.ok(error instanceof TypeError && error.cause instanceof Error, String(error));
  }),
);

Deno.test(
  "nginx requiring a client certificate: 400 without one, 200 with an encrypted key's",
  freesAll(async () => {
    await using server = await startNginx(() =>
      `    ssl_verify_client on;
    ssl_client_certificate ${fixture("ca.pem")};
    location / { return 200 "hello $ssl_client_s_dn\\n"; }`
    );
    {
      using anonymous = createSslClientContext(trustCa);
      await using fetch = createFetch({ sslCtx: anonymous });
      const response = await within(fetch(`${server.origin}/`), 5000, "without a certificate");
      assert.equal(response.status, 400);
      await response.body?.cancel();
    }
    using context = createSslClientContext({
      ...trustCa,
      cert: fixtureText("client.pem"),
      key: fixtureText("client-encrypted.key"),
      password: "correct horse",
    });
    await using fetch = createFetch({ sslCtx: context });
    const response = await within(fetch(`${server.origin}/`), 5000, "with a certificate");
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "hello CN=test client\n");
  }),
);

Deno.test(
  "streaming both ways: a chunked upload echoed back, 16 MiB down, checksums intact",
  freesAll(async () => {
    const { peer, origin } = await nodeServer();
    await using _peer = peer;
    using context = createSslClientContext(trustCa);
    await using fetch = createFetch({ sslCtx: context });
    const upload = pattern(16 * 1024 * 1024);
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= upload.length) return controller.close();
        const size = Math.min(100_000, upload.length - offset);
        controller.enqueue(upload.slice(offset, offset + size));
        offset += size;
      },
    });
    const echoed = await within(fetch(`${origin}/echo`, { method: "POST", body }), 30_000, "the echo");
    const back = new Uint8Array(await within(echoed.arrayBuffer(), 30_000, "the echoed body"));
    assert.equal(back.length, upload.length);
    assert.equal(await sha256(back), await sha256(upload));
    const big = await within(fetch(`${origin}/big?bytes=${16 * 1024 * 1024}`), 5000, "the 16 MiB response");
    const down = new Uint8Array(await within(big.arrayBuffer(), 30_000, "16 MiB down"));
    assert.equal(await sha256(down), await sha256(pattern(16 * 1024 * 1024)));
    // A string body goes with its length, and comes back whole.
    const text = await within(
      fetch(`${origin}/echo`, { method: "POST", body: "plain text body" }),
      5000,
      "the echo of a string",
    );
    assert.equal(await within(text.text(), 5000, "the echoed string"), "plain text body");
  }),
);

Deno.test(
  "keep-alive: paced requests reuse one connection (one handshake, counted by the server)",
  freesAll(async () => {
    const { peer, origin } = await nodeServer();
    await using _peer = peer;
    using context = createSslClientContext(trustCa);
    await using fetch = createFetch({ sslCtx: context });
    for (let i = 0; i < 10; i++) {
      assert.equal(
        await within(fetch(`${origin}/hello`).then((r) => r.text()), 5000, `request ${i}`),
        "hello",
      );
      // Paced: undici returns a connection to its pool a moment after the body ends.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const count = await within(fetch(`${origin}/connections`).then((r) => r.text()), 5000, "the count");
    assert.equal(count, "1");
  }),
);

Deno.test(
  "redirects between two TLS origins are followed; manual gives the 302",
  freesAll(async () => {
    const first = await nodeServer();
    await using _first = first.peer;
    const second = await nodeServer();
    await using _second = second.peer;
    using context = createSslClientContext(trustCa);
    await using fetch = createFetch({ sslCtx: context });
    const target = `${second.origin}/hello`;
    const redirect = `${first.origin}/redirect?to=${encodeURIComponent(target)}`;
    const response = await within(fetch(redirect), 5000, "the redirected fetch");
    assert.equal(await within(response.text(), 5000, "the redirected body"), "hello");
    assert.equal(response.redirected, true);
    assert.equal(response.url, target);
    const manual = await within(fetch(redirect, { redirect: "manual" }), 5000, "the manual redirect");
    assert.equal(manual.status, 302);
    await manual.body?.cancel();
  }),
);

Deno.test(
  "aborting mid-body errors the body's read instead of leaving it pending",
  freesAll(async () => {
    const { peer, origin } = await nodeServer();
    await using _peer = peer;
    using context = createSslClientContext(trustCa);
    await using fetch = createFetch({ sslCtx: context });
    const controller = new AbortController();
    const response = await within(
      fetch(`${origin}/stall`, { signal: controller.signal }),
      5000,
      "the headers",
    );
    const reader = response.body!.getReader();
    const first = await within(reader.read(), 5000, "the first chunk");
    assert.match(new TextDecoder().decode(first.value), /first chunk/);
    const pending = reader.read();
    controller.abort();
    await assert.rejects(
      within(pending, 5000, "the read after the abort"),
      (error: Error) => error.name === "AbortError",
    );
  }),
);

Deno.test(
  "createHttpAgent serves undici's own API; createFetch checks its options and refuses after close",
  freesAll(async () => {
    const { peer, origin } = await nodeServer();
    await using _peer = peer;
    const { request } = await import("undici");
    using context = createSslClientContext(trustCa);
    const agent = createHttpAgent({ sslCtx: context });
    const { statusCode, body } = await within(
      request(`${origin}/hello`, { dispatcher: agent }),
      5000,
      "undici's request",
    );
    assert.equal(statusCode, 200);
    assert.equal(await body.text(), "hello");
    await within(agent.close(), 5000, "the agent's close");
    assert.throws(() => createFetch({ keepAliveTimeout: -1 }), RangeError);
    assert.throws(() => createFetch({ timeout: -1 }), RangeError);
    assert.throws(() => createFetch({ handshakeTimeout: Number.NaN }), RangeError);
    assert.throws(() => createFetch(null as never), TypeError);
    const fetch = createFetch({ sslCtx: context });
    await fetch.close();
    await assert.rejects(fetch(`${origin}/hello`), TypeError);
  }),
);

Deno.test("importing mod.ts does not load undici", async () => {
  const output = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", new URL("../mod.ts", import.meta.url).pathname],
      stdout: "piped",
    }).output(),
    30_000,
    "deno info",
  );
  assert.equal(output.code, 0);
  // The lock file's npm packages are listed whatever is imported; the modules are what loads.
  const { modules } = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  assert.ok(modules.length > 10, "mod.ts's own modules are listed");
  assert.deepEqual(modules.filter((module) => /undici|^npm:/.test(module.specifier)), []);
});

Deno.test(
  "sessions resume per host: from a context's sessionCache (shared by fetches), and with an SslCtxPointer",
  freesAll(async () => {
    const { peer, port } = await startOpensslServer(["-www", "-naccept", "5"]);
    await using _peer = peer;
    const url = `https://localhost:${port}/`;
    // s_server -www shows the session it served: "New" for a full handshake, "Reused" for a resumed one.
    const served = (fetch: (url: string) => Promise<Response>, what: string) =>
      within(fetch(url).then((response) => response.text()), 5000, what);
    {
      // The context keeps the sessions (per host and port), not the fetch: a second fetch on it resumes too.
      using context = createSslClientContext({ ...trustCa, sessionCache: true });
      {
        await using fetch = createFetch({ sslCtx: context });
        assert.match(await served(fetch, "the first fetch"), /^New, /m);
        assert.match(await served(fetch, "the second fetch"), /^Reused, /m);
      }
      await using another = createFetch({ sslCtx: context });
      assert.match(await served(another, "a fetch sharing the context"), /^Reused, /m);
    }
    // An SslCtxPointer keeps no sessions of its own: the fetch keeps the last one per host for it.
    const { makeSslCtx, setVerificationMode } = await import("../mod.ts");
    const { loadOpenssl } = await import("../ffi/mod.ts");
    using pointer = makeSslCtx({ sslSide: "client" });
    setVerificationMode(pointer, "client", "always");
    loadOpenssl().libssl.SSL_CTX_load_verify_locations(
      pointer.pointer,
      new TextEncoder().encode(`${fixture("ca.pem")}\0`),
      null,
    );
    await using fetch = createFetch({ sslCtx: pointer });
    assert.match(await served(fetch, "the first fetch with a pointer"), /^New, /m);
    assert.match(await served(fetch, "the second fetch with a pointer"), /^Reused, /m);
  }),
);

Deno.test(
  "review: fetch checks each URL's host, not a name the client context carries",
  freesAll(async () => {
    const { peer, port } = await startOpensslServer(["-www"], "wrong-host");
    await using _peer = peer;
    // The context names the certificate's host; the URL names another: the URL's host is what counts.
    using context = createSslClientContext({ ...trustCa, tlsextHostName: "wrong.example" });
    await using fetch = createFetch({ sslCtx: context });
    const error = await rejection(
      fetch(`https://localhost:${port}/`),
      10_000,
      "the fetch to a host the certificate is not for",
    );
    assert.ok(error instanceof TypeError, String(error));
    assert.ok(error.cause instanceof SslVerificationFailure, String(error.cause));
    assert.equal(error.cause.verifyCode, 62, "hostname mismatch");
  }),
);

Deno.test("review: createHttpAgent closes the client context it made itself", async () => {
  using objects = new FreeWatcher();
  const agent = createHttpAgent();
  assert.equal(objects.live.ctx.size, 1, "the agent's own client context");
  await within(agent.close(), 5000, "the agent's close");
  assert.equal(objects.live.ctx.size, 0, "the agent's client context is freed with the agent");
});

Deno.test({
  name: "review: the connect timeout bounds http: and https: connects that never complete",
  ignore: !linux,
  fn: freesAll(async () => {
    await using never = await unanswered();
    using context = createSslClientContext(trustCa);
    await using fetch = boundedFetch({ sslCtx: context, timeout: 200 });
    for (const scheme of ["http", "https"]) {
      const started = Date.now();
      const error = await rejection(
        fetch(`${scheme}://127.0.0.1:${never.port}/`),
        5000,
        `the ${scheme}: fetch to time out`,
      );
      assert.ok(
        error instanceof TypeError && error.cause instanceof Deno.errors.TimedOut,
        `${scheme}: ${String((error as Error).cause ?? error)}`,
      );
      assert.ok(Date.now() - started < 3000, `${scheme}: ${Date.now() - started} ms`);
    }
  }),
});

Deno.test({
  name: "review: without a timeout option, http: and https: connects give up after the default 10 s",
  ignore: !linux,
  fn: freesAll(async () => {
    await using never = await unanswered();
    using context = createSslClientContext(trustCa);
    await using fetch = boundedFetch({ sslCtx: context });
    const started = Date.now();
    const errors = await Promise.all(
      ["http", "https"].map((scheme) =>
        rejection(fetch(`${scheme}://127.0.0.1:${never.port}/`), 15_000, `the ${scheme}: fetch to time out`)
      ),
    );
    for (const error of errors) {
      assert.ok(
        error instanceof TypeError && error.cause instanceof Deno.errors.TimedOut,
        String(error.cause),
      );
      assert.match((error.cause as Error).message, /after 10000 ms/);
    }
    assert.ok(Date.now() - started >= 9_500, `gave up after ${Date.now() - started} ms`);
  }),
});

Deno.test({
  name: "review: the options' signal ends http: and https: connects and handshakes, aborted before or during",
  ignore: !linux,
  fn: freesAll(async () => {
    await using never = await unanswered();
    await using silent = silentListener();
    using context = createSslClientContext(trustCa);
    // fetch's TypeError, whose causes lead to the signal's reason (undici reports an AbortError as a cancelled
    // request, with the reason as its cause).
    const endedBy = (error: Error, reason: unknown) => {
      const causes: unknown[] = [];
      for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) causes.push(cause.cause);
      return error instanceof TypeError && causes.includes(reason);
    };
    for (const reason of [new DOMException("aborted", "AbortError"), new Error("shutting down")]) {
      // Aborted already: nothing connects, not even to a port that answers.
      await using fetch = boundedFetch({ sslCtx: context, signal: AbortSignal.abort(reason) });
      for (const scheme of ["http", "https"]) {
        const error = await rejection(
          fetch(`${scheme}://127.0.0.1:${silent.port}/`),
          2000,
          `the ${scheme}: fetch with an aborted signal to fail`,
        );
        assert.ok(endedBy(error, reason), `${scheme}: ${String(error.cause ?? error)}`);
      }
    }
    // Aborted during a connect that never completes (http:) and a handshake never answered (https:).
    const controller = new AbortController();
    await using fetch = boundedFetch({ sslCtx: context, signal: controller.signal });
    const pending = [
      rejection(fetch(`http://127.0.0.1:${never.port}/`), 5000, "the http: fetch to end on the abort"),
      rejection(fetch(`https://127.0.0.1:${silent.port}/`), 5000, "the https: fetch to end on the abort"),
    ];
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    for (const error of await Promise.all(pending)) {
      assert.ok(endedBy(error, controller.signal.reason), String(error.cause ?? error));
    }
  }),
});

Deno.test({
  name: "review: nodelay and keepalive reach the sockets of http: and https: connections",
  ignore: !linux,
  fn: freesAll(async () => {
    await using http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("hi"),
    );
    const { peer, origin } = await nodeServer();
    await using _peer = peer;
    using context = createSslClientContext(trustCa);
    for (const [nodelay, keepalive] of [[false, true], [true, false]]) {
      await using fetch = boundedFetch({ sslCtx: context, nodelay, keepalive });
      for (
        const [url, port] of [[`http://127.0.0.1:${http.addr.port}/`, http.addr.port], [
          `${origin}/hello`,
          Number(new URL(origin).port),
        ]] as const
      ) {
        // The body read, the connection waits in the pool, its socket open.
        await within(fetch(url).then((response) => response.text()), 5000, `the fetch of ${url}`);
        assert.deepEqual(socketOptionsTo(port), { nodelay, keepalive }, url);
      }
    }
  }),
});

Deno.test(
  "review: createFetch and createHttpAgent check every option at the call, naming it and what it got",
  freesAll(async () => {
    const { createSslServerContext, makeSslCtx, sslNew } = await import("../mod.ts");
    using client = createSslClientContext(trustCa);
    using server = createSslServerContext({
      certFile: fixture("server.pem"),
      keyFile: fixture("server.key"),
    });
    const closed = createSslClientContext(trustCa);
    closed.close();
    using pointer = makeSslCtx({ sslSide: "client" });
    using ssl = sslNew(pointer);
    const freed = makeSslCtx({ sslSide: "client" });
    freed[Symbol.dispose]();
    // [options, the error's class, what its message must say: the option's name, then what it got]
    const wrong: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
      [{ signal: "x" }, TypeError, /signal must be an AbortSignal, got "x"/],
      [{ signal: {} }, TypeError, /signal must be an AbortSignal.*got object/],
      [{ signal: null }, TypeError, /signal must be an AbortSignal.*got null/],
      [{ sslCtx: "bogus" }, TypeError, /sslCtx must be .*got "bogus"/],
      [{ sslCtx: 5 }, TypeError, /sslCtx must be .*got number/],
      [{ sslCtx: {} }, TypeError, /sslCtx must be .*got object/],
      [{ sslCtx: null }, TypeError, /sslCtx .*got null/],
      [{ sslCtx: ssl }, TypeError, /sslCtx .*got an SslPointer/],
      [{ sslCtx: server }, TypeError, /sslCtx .*got a server SslAbstractContext/],
      [{ sslCtx: closed }, TypeError, /sslCtx .*closed/],
      [{ sslCtx: freed }, TypeError, /freed/],
      [{ nodelay: "yes" }, TypeError, /nodelay must be a boolean, got "yes"/],
      [{ keepalive: 1 }, TypeError, /keepalive must be a boolean, got number/],
      [{ ctxConfigureCallback: "f" }, TypeError, /ctxConfigureCallback must be a function, got "f"/],
      [{ sslConfigureCallback: 1 }, TypeError, /sslConfigureCallback must be a function, got number/],
      [{ readTimeout: -5 }, TypeError, /readTimeout is not an option/],
      [{ writeTimeout: 1000 }, TypeError, /writeTimeout is not an option/],
      [{ tlsextHostName: "x" }, TypeError, /tlsextHostName is not an option/],
      [{ session: new Uint8Array(1) }, TypeError, /session is not an option/],
      [{ timeout: -1 }, RangeError, /timeout must be .*got -1/],
      [{ handshakeTimeout: Infinity }, RangeError, /handshakeTimeout must be .*got Infinity/],
      [{ keepAliveTimeout: 0 }, RangeError, /keepAliveTimeout must be .*got 0/],
      [{ keepAliveTimeout: "4000" }, TypeError, /keepAliveTimeout must be a number, got "4000"/],
      [{ keepAliveTimeout: 2 ** 31 }, RangeError, /keepAliveTimeout must be .*got 2147483648/],
      [{ connections: 1.5 }, RangeError, /connections must be .*got 1.5/],
      [{ connections: null }, TypeError, /connections must be a number, got null/],
    ];
    for (const make of [createFetch, createHttpAgent]) {
      for (const [options, type, message] of wrong) {
        assert.throws(
          () => make({ sslCtx: client, ...options } as HttpAgentOptions),
          (error: Error) => error.constructor === type && message.test(error.message),
          `${make.name}(${Deno.inspect(options)})`,
        );
      }
    }
    // What is right is taken, each kind of sslCtx included.
    for (
      const options of [
        {},
        { sslCtx: client, signal: new AbortController().signal, nodelay: false, keepalive: true },
        { sslCtx: "tls-v1-2", timeout: null, handshakeTimeout: 0, keepAliveTimeout: 1, connections: 2 },
        { sslCtx: true, ctxConfigureCallback: () => {}, sslConfigureCallback: () => {} },
        { sslCtx: pointer, timeout: undefined, signal: undefined },
      ] as HttpAgentOptions[]
    ) {
      await within(createFetch(options).close(), 5000, `the close of createFetch(${Deno.inspect(options)})`);
      await within(
        createHttpAgent(options).close(),
        5000,
        `the close of an agent (${Deno.inspect(options)})`,
      );
    }
  }),
);

/** Resolves after `ms`: time for a connect or a handshake to be under way. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test({
  name: "review: close() and destroy() end a connect or handshake whose request its own signal aborted",
  ignore: !linux,
  fn: freesAll(async () => {
    await using never = await unanswered();
    await using silent = silentListener();
    using context = createSslClientContext(trustCa);
    const { request } = await import("undici");
    // No limits of their own: without close() ending them, the connect and the handshake would never end.
    const unbounded = { sslCtx: context, timeout: null, handshakeTimeout: null };
    for (
      const [what, url] of [
        ["connect", `http://127.0.0.1:${never.port}/`],
        ["handshake", `https://127.0.0.1:${silent.port}/`],
      ]
    ) {
      {
        const fetch = createFetch(unbounded);
        const controller = new AbortController();
        const pending = rejection(
          fetch(url, { signal: controller.signal }),
          2000,
          `the ${what}'s fetch to fail`,
        );
        await pause(200);
        controller.abort();
        assert.equal((await pending).name, "AbortError");
        await within(fetch.close(), 2000, `createFetch's close() after the ${what}'s request was aborted`);
      }
      for (const method of ["close", "destroy"] as const) {
        const agent = createHttpAgent(unbounded);
        const controller = new AbortController();
        const pending = rejection(
          request(url, { dispatcher: agent, signal: controller.signal }),
          2000,
          `the ${what}'s undici request to fail`,
        );
        await pause(200);
        // undici's request() settles an aborted request only once its connect has ended: close() ends it.
        controller.abort();
        await Promise.all([
          within(agent[method](), 2000, `the agent's ${method}() after the ${what}'s request was aborted`),
          pending,
        ]);
      }
    }
  }),
});

Deno.test({
  name: "review: close() lets a request in flight finish, and fails a request still connecting",
  ignore: !linux,
  fn: freesAll(async () => {
    await using never = await unanswered();
    let arrived!: () => void;
    const got = new Promise<void>((resolve) => arrived = resolve);
    let release!: () => void;
    const released = new Promise<void>((resolve) => release = resolve);
    await using http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
      arrived();
      await released;
      return new Response("late");
    });
    // Disposed before the server, whose shutdown waits for the request: a failure must not leave it waiting.
    using _released = { [Symbol.dispose]: () => release() };
    using context = createSslClientContext(trustCa);
    const fetch = createFetch({ sslCtx: context, timeout: null });
    const inFlight = fetch(`http://127.0.0.1:${http.addr.port}/`);
    await within(got, 5000, "the server to get the request");
    const connecting = rejection(
      fetch(`http://127.0.0.1:${never.port}/`),
      2000,
      "the connecting request to fail",
    );
    await pause(200);
    let closed = false;
    const closing = fetch.close().then(() => closed = true);
    const error = await connecting;
    assert.ok(
      error instanceof TypeError && error.cause instanceof Deno.errors.Interrupted,
      String((error as Error).cause ?? error),
    );
    assert.match((error.cause as Error).message, /closed/);
    await pause(100);
    assert.equal(closed, false, "close() waits for the request in flight");
    release();
    const response = await within(inFlight, 5000, "the response to the request in flight");
    assert.equal(await within(response.text(), 5000, "its body"), "late");
    await within(closing, 5000, "close() once the request in flight is done");
  }),
});

Deno.test("review: configure callbacks that would not run, and a server SslCtxPointer, are refused at the call", async () => {
  const callback = () => {};
  using client = createSslClientContext({});
  for (const make of [createFetch, createHttpAgent] as const) {
    for (const options of [{ ctxConfigureCallback: callback }, { sslConfigureCallback: callback }]) {
      assert.throws(() => make(options), /run only with sslCtx true, a protocol symbol or an SslCtxPointer/);
      assert.throws(() => make({ ...options, sslCtx: client }), /run only with sslCtx true/);
    }
    using server = makeSslCtx({ sslSide: "server" });
    assert.throws(() => make({ sslCtx: server }), /made for sslSide "server": it cannot connect/);
    using own = makeSslCtx({ sslSide: "client" });
    assert.throws(() => make({ sslCtx: own, ctxConfigureCallback: callback }), /not for an SslCtxPointer/);
    // Names a fetch does not take (undici's own connectTimeout, a misspelling) would be dropped silently.
    for (const name of ["connectTimeout", "keepAliveTimeot", "sslSide"]) {
      assert.throws(() => make({ [name]: 1 } as HttpAgentOptions), new RegExp(`unknown option "${name}"`));
    }
  }
  // The error names the function that was called.
  assert.throws(
    () => createHttpAgent({ connectTimeout: 1 } as HttpAgentOptions),
    /^TypeError: createHttpAgent: /,
  );
  assert.throws(() => createFetch({ connectTimeout: 1 } as HttpAgentOptions), /^TypeError: createFetch: /);
  // Where they do run, they are taken.
  await using fetch = createFetch({ sslCtx: true, sslConfigureCallback: callback });
  assert.equal(typeof fetch, "function");
});
