// Options that a mutation review found no test would miss: each case fails when its option is ignored (or,
// for timings, when it is several times off). startUpServer's gracePeriod is checked in server_test.ts.
import assert from "node:assert/strict";
import { createSslServerContext, detachSsl, listenSsl, openTcpStream, SslCondition } from "../mod.ts";
import {
  identity,
  listenLoopback,
  rejection,
  runSClient,
  serveOnce,
  tlsPair,
  trustTestCa,
  within,
} from "./_helpers.ts";

Deno.test("detachSsl's retryCount and retryTimeout: retryCount + 1 waits of retryTimeout ms for a peer that never answers", async () => {
  const [client, server] = await within(tlsPair(), 5000, "the handshake");
  // The server never reads, so it never answers close_notify: 2 waits of 150 ms, not the default 6 of 100.
  const started = performance.now();
  const failure = await rejection(detachSsl(client, { retryCount: 1, retryTimeout: 150 }), 5000, "detachSsl");
  const elapsed = performance.now() - started;
  assert.ok(failure instanceof SslCondition, String(failure));
  assert.match(failure.message, /within 2 waits of 150 ms/);
  assert.ok(elapsed >= 280 && elapsed < 550, `gave up after ${elapsed} ms, not 300`);
  await client.closed;
  await server[Symbol.asyncDispose]();
});

Deno.test("LIBCRYPTO_PATH is honoured: a path that does not exist fails, naming it", async () => {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const { code, stdout, stderr } = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["eval", `import { opensslVersion } from "${mod}"; console.log(opensslVersion());`],
      env: { LIBSSL_PATH: "libssl.so.3", LIBCRYPTO_PATH: "/nonexistent/libcrypto.so.3" },
      stdout: "piped",
      stderr: "piped",
    }).output(),
    10_000,
    "a child with LIBCRYPTO_PATH set",
  );
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.notEqual(code, 0, output);
  assert.match(output, /Cannot load libcrypto: tried \/nonexistent\/libcrypto\.so\.3; set LIBCRYPTO_PATH/);
});

const libc = Deno.dlopen("libc.so.6", {
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
});

/** The descriptor of this process's TCP socket bound to local port `port` (asking each number, as /proc needs -A). */
function descriptorOf(port: number): number {
  for (let fd = 3; fd < 4096; fd++) {
    const address = new Uint8Array(128);
    const length = new Uint32Array([128]);
    if (libc.symbols.getsockname(fd, address, new Uint8Array(length.buffer)) !== 0) continue;
    const family = new DataView(address.buffer).getUint16(0, true);
    if ((family === 2 || family === 10) && new DataView(address.buffer).getUint16(2, false) === port) {
      return fd;
    }
  }
  throw new Error(`no socket on local port ${port}`);
}

function socketOption(fd: number, level: number, option: number): number {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  assert.equal(
    libc.symbols.getsockopt(fd, level, option, new Uint8Array(value.buffer), new Uint8Array(length.buffer)),
    0,
  );
  return value[0];
}

const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const SOL_SOCKET = 1;
const SO_KEEPALIVE = 9;

Deno.test("openTcpStream's nodelay and keepalive reach the socket, and so do setNoDelay and setKeepAlive", async () => {
  const { listener, port } = listenLoopback();
  try {
    for (const [nodelay, keepalive] of [[false, true], [true, false]]) {
      const accepted = listener.accept();
      const stream = await within(
        openTcpStream("127.0.0.1", port, { nodelay, keepalive }),
        5000,
        "a connection",
      );
      const fd = descriptorOf((stream.localAddr as Deno.NetAddr).port);
      assert.equal(socketOption(fd, IPPROTO_TCP, TCP_NODELAY) !== 0, nodelay, "nodelay");
      assert.equal(socketOption(fd, SOL_SOCKET, SO_KEEPALIVE) !== 0, keepalive, "keepalive");
      stream.setNoDelay(!nodelay);
      stream.setKeepAlive(!keepalive);
      assert.equal(socketOption(fd, IPPROTO_TCP, TCP_NODELAY) !== 0, !nodelay, "setNoDelay");
      assert.equal(socketOption(fd, SOL_SOCKET, SO_KEEPALIVE) !== 0, !keepalive, "setKeepAlive");
      await stream[Symbol.asyncDispose]();
      (await accepted).close();
    }
  } finally {
    listener.close();
  }
});

Deno.test("a context's groups decide the key exchange (openssl s_client sees secp384r1, not X25519)", async () => {
  using context = createSslServerContext({ ...identity("server"), groups: "P-384" });
  await using server = serveOnce(context);
  const { output } = await runSClient(server.port, ["-brief"], "x\n");
  assert.match(output, /Server Temp Key: ECDH, secp384r1/, output);
});

Deno.test("listenSsl's hostname, readTimeout and writeTimeout reach the listener and its streams", async () => {
  using context = createSslServerContext(identity("server"));
  await using listener = listenSsl({
    port: 0,
    hostname: "::1",
    sslCtx: context,
    readTimeout: 150,
    writeTimeout: 250,
  });
  assert.equal(listener.addr.hostname, "::1");
  const connecting = openTcpStream("::1", listener.addr.port, {
    sslCtx: true,
    tlsextHostName: "localhost",
    ctxConfigureCallback: trustTestCa,
  });
  const next = listener[Symbol.asyncIterator]().next();
  const client = await within(connecting, 5000, "the client's handshake");
  const { value: served } = await within(next, 5000, "the listener's stream");
  assert.ok(served);
  assert.equal(served.readTimeout, 150);
  assert.equal(served.writeTimeout, 250);
  const started = performance.now();
  const failure = await rejection(served.read(new Uint8Array(1)), 2000, "a read with readTimeout 150");
  assert.ok(failure instanceof Deno.errors.TimedOut, String(failure));
  assert.ok(performance.now() - started < 1000);
  await served[Symbol.asyncDispose]();
  await client[Symbol.asyncDispose]();
});
