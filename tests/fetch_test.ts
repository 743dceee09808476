// createFetch: fetch over the module's TLS, against real servers on loopback: openssl s_server -www, nginx
// with TLS 1.0 only and nginx requiring a client certificate, and Node's https server for streaming bodies
// both ways (chunked, 16 MiB), keep-alive reuse, redirects between two TLS origins and an abort mid-body.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  SslAbstractContext,
  SslHandshakeTimeout,
  SslVerificationFailure,
} from "../mod.ts";
import { createFetch, createHttpAgent } from "../fetch/mod.ts";
import {
  fixture,
  fixtureText,
  FreeWatcher,
  listenLoopback,
  Peer,
  startNginx,
  startOpensslServer,
  trustCa,
  within,
} from "./_helpers.ts";

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

Deno.test("createFetch against openssl s_server -www: a global Response, Request objects, the URL", async () => {
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
});

Deno.test("a TLS failure is fetch's TypeError whose cause is the module's typed error", async () => {
  {
    const { peer, port } = await startOpensslServer(["-www"], "wrong-host");
    await using _peer = peer;
    await using fetch = createFetch({ sslCtx: createSslClientContext(trustCa) });
    const error = await fetch(`https://localhost:${port}/`).then(() => null, (error) => error);
    assert.ok(error instanceof TypeError, String(error));
    assert.ok(error.cause instanceof SslVerificationFailure, String(error.cause));
    assert.equal(error.cause.verifyCode, 62, "hostname mismatch");
  }
  // A server that never answers the handshake: SslHandshakeTimeout.
  const { listener, port } = listenLoopback();
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  await using fetch = createFetch({ sslCtx: createSslClientContext(trustCa), handshakeTimeout: 200 });
  const error = await within(
    fetch(`https://localhost:${port}/`).then(() => null, (error) => error),
    5000,
    "timeout",
  );
  assert.ok(
    error instanceof TypeError && error.cause instanceof SslHandshakeTimeout,
    String(error?.cause ?? error),
  );
  listener.close();
  await accepting;
  for (const conn of held) conn.close();
});

Deno.test("nginx with TLS 1.0 only: a tls-v1 context talks to it, the default refuses it", async () => {
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
  await using strict = createFetch({ sslCtx: createSslClientContext(trustCa) });
  const error = await strict(`${server.origin}/`).then(() => null, (error) => error);
  assert.ok(error instanceof TypeError && error.cause instanceof Error, String(error));
});

Deno.test("nginx requiring a client certificate: 400 without one, 200 with an encrypted key's", async () => {
  await using server = await startNginx(() =>
    `    ssl_verify_client on;
    ssl_client_certificate ${fixture("ca.pem")};
    location / { return 200 "hello $ssl_client_s_dn\\n"; }`
  );
  {
    await using fetch = createFetch({ sslCtx: createSslClientContext(trustCa) });
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
});

Deno.test("streaming both ways: a chunked upload echoed back, 16 MiB down, checksums intact", async () => {
  const { peer, origin } = await nodeServer();
  await using _peer = peer;
  await using fetch = createFetch({ sslCtx: createSslClientContext(trustCa) });
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
  const big = await fetch(`${origin}/big?bytes=${16 * 1024 * 1024}`);
  const down = new Uint8Array(await within(big.arrayBuffer(), 30_000, "16 MiB down"));
  assert.equal(await sha256(down), await sha256(pattern(16 * 1024 * 1024)));
  // A string body goes with its length, and comes back whole.
  const text = await fetch(`${origin}/echo`, { method: "POST", body: "plain text body" });
  assert.equal(await text.text(), "plain text body");
});

Deno.test("keep-alive: paced requests reuse one connection (one handshake, counted by the server)", async () => {
  const { peer, origin } = await nodeServer();
  await using _peer = peer;
  await using fetch = createFetch({ sslCtx: createSslClientContext(trustCa) });
  for (let i = 0; i < 10; i++) {
    assert.equal(await (await fetch(`${origin}/hello`)).text(), "hello");
    // Paced: undici returns a connection to its pool a moment after the body ends.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(await (await fetch(`${origin}/connections`)).text(), "1");
});

Deno.test("redirects between two TLS origins are followed; manual gives the 302", async () => {
  const first = await nodeServer();
  await using _first = first.peer;
  const second = await nodeServer();
  await using _second = second.peer;
  await using fetch = createFetch({ sslCtx: createSslClientContext(trustCa) });
  const target = `${second.origin}/hello`;
  const response = await fetch(`${first.origin}/redirect?to=${encodeURIComponent(target)}`);
  assert.equal(await response.text(), "hello");
  assert.equal(response.redirected, true);
  assert.equal(response.url, target);
  const manual = await fetch(`${first.origin}/redirect?to=${encodeURIComponent(target)}`, {
    redirect: "manual",
  });
  assert.equal(manual.status, 302);
  await manual.body?.cancel();
});

Deno.test("aborting mid-body errors the body's read instead of leaving it pending", async () => {
  const { peer, origin } = await nodeServer();
  await using _peer = peer;
  await using fetch = createFetch({ sslCtx: createSslClientContext(trustCa) });
  const controller = new AbortController();
  const response = await fetch(`${origin}/stall`, { signal: controller.signal });
  const reader = response.body!.getReader();
  const first = await within(reader.read(), 5000, "the first chunk");
  assert.match(new TextDecoder().decode(first.value), /first chunk/);
  const pending = reader.read();
  controller.abort();
  await assert.rejects(
    within(pending, 5000, "the read after the abort"),
    (error: Error) => error.name === "AbortError",
  );
});

Deno.test("createHttpAgent serves undici's own API; createFetch checks its options and refuses after close", async () => {
  const { peer, origin } = await nodeServer();
  await using _peer = peer;
  const { request } = await import("undici");
  const agent = createHttpAgent({ sslCtx: createSslClientContext(trustCa) });
  const { statusCode, body } = await request(`${origin}/hello`, { dispatcher: agent });
  assert.equal(statusCode, 200);
  assert.equal(await body.text(), "hello");
  await agent.close();
  assert.throws(() => createFetch({ keepAliveTimeout: -1 }), RangeError);
  assert.throws(() => createFetch(null as never), TypeError);
  const fetch = createFetch({ sslCtx: createSslClientContext(trustCa) });
  await fetch.close();
  await assert.rejects(fetch(`${origin}/hello`), TypeError);
});

Deno.test("importing mod.ts does not load undici", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../mod.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  assert.equal(output.code, 0);
  // The lock file's npm packages are listed whatever is imported; the modules are what loads.
  const { modules } = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  assert.ok(modules.length > 10, "mod.ts's own modules are listed");
  assert.deepEqual(modules.filter((module) => /undici|^npm:/.test(module.specifier)), []);
});

Deno.test("sessions resume per host: an abstract context with sessionCache, and an SslCtxPointer", async () => {
  const { peer, port } = await startOpensslServer(["-www", "-naccept", "4"]);
  await using _peer = peer;
  const { makeSslCtx, setVerificationMode } = await import("../mod.ts");
  const { loadOpenssl } = await import("../ffi/mod.ts");
  using pointer = makeSslCtx({ sslSide: "client" });
  setVerificationMode(pointer, "client", "always");
  loadOpenssl().libssl.SSL_CTX_load_verify_locations(
    pointer.pointer,
    new TextEncoder().encode(`${fixture("ca.pem")}\0`),
    null,
  );
  for (const sslCtx of [createSslClientContext({ ...trustCa, sessionCache: true }), pointer]) {
    await using fetch = createFetch({ sslCtx });
    // s_server -www shows the session it served: "New" for a full handshake, "Reused" for a resumed one.
    const first = await (await within(fetch(`https://localhost:${port}/`), 5000, "the first fetch")).text();
    const second = await (await within(fetch(`https://localhost:${port}/`), 5000, "the second fetch")).text();
    assert.match(first, /^New, /m);
    assert.match(second, /^Reused, /m, String(sslCtx));
    if (sslCtx instanceof SslAbstractContext) sslCtx.close();
  }
});

Deno.test("review: fetch checks each URL's host, not a name the client context carries", async () => {
  const { peer, port } = await startOpensslServer(["-www"], "wrong-host");
  await using _peer = peer;
  // The context names the certificate's host; the URL names another: the URL's host is what counts.
  using context = createSslClientContext({ ...trustCa, tlsextHostName: "wrong.example" });
  await using fetch = createFetch({ sslCtx: context });
  const error = await within(
    fetch(`https://localhost:${port}/`).then(() => null, (error) => error),
    10_000,
    "the fetch to a host the certificate is not for",
  );
  assert.ok(error instanceof TypeError, String(error));
  assert.ok(error.cause instanceof SslVerificationFailure, String(error.cause));
  assert.equal(error.cause.verifyCode, 62, "hostname mismatch");
});

Deno.test("review: createHttpAgent closes the client context it made itself", async () => {
  using objects = new FreeWatcher();
  const agent = createHttpAgent();
  assert.equal(objects.live.ctx.size, 1, "the agent's own client context");
  await agent.close();
  // Only what this test made: other tests here leave their contexts to the garbage collector.
  assert.equal(objects.live.ctx.size, 0, "the agent's client context is freed with the agent");
});
