// Hostile input: thousands of broken handshakes from a fixed seed (random
// bytes; a real ClientHello with bytes flipped, cut short or duplicated) sent
// to a server made with the module, while good clients are served in
// parallel. The server never crashes or hangs, and each bad connection ends
// in a typed error.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  listenSsl,
  makeSslCtx,
  openTcpStream,
  SocketError,
  sslNew,
} from "../../mod.ts";
import { liveNativeObjects, loadOpenssl } from "../../ffi/mod.ts";
import { TlsEngine } from "../../streams/_tls_engine.ts";
import { encoder, fixture, identity, xorshift } from "../_helpers.ts";

const CASES = 3000;
const CONCURRENCY = 24;

function realClientHello(): Uint8Array {
  const ctx = makeSslCtx({ sslSide: "client" });
  const ssl = sslNew(ctx);
  loadOpenssl().libssl.SSL_set_connect_state(ssl.pointer);
  const engine = new TlsEngine(ssl);
  engine.handshake();
  const hello = engine.takeOutput()!;
  engine.dispose();
  ssl.destroy();
  ctx.destroy();
  return hello;
}

function hostileCase(random: () => number, hello: Uint8Array): Uint8Array {
  const kind = random() % 4;
  if (kind === 0) {
    const bytes = new Uint8Array(1 + random() % 2000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff;
    // Half of them look like a handshake record at first glance.
    if (random() % 2 === 0) bytes.set([0x16, 0x03, 0x01].slice(0, bytes.length));
    return bytes;
  }
  const bytes = hello.slice();
  if (kind === 1) {
    for (let flips = 1 + random() % 5; flips > 0; flips--) {
      bytes[random() % bytes.length] ^= 1 << (random() % 8);
    }
    return bytes;
  }
  if (kind === 2) return bytes.subarray(0, random() % bytes.length);
  const from = random() % bytes.length;
  const to = from + random() % (bytes.length - from);
  return new Uint8Array([...bytes.subarray(0, to), ...bytes.subarray(from, to), ...bytes.subarray(to)]);
}

Deno.test({
  name: `${CASES} hostile handshakes are each refused with a typed error while good clients are served`,
  fn: async () => {
    const before = liveNativeObjects();
    {
      using serverContext = createSslServerContext(identity("server"));
      using clientContext = createSslClientContext({ ca: await Deno.readTextFile(fixture("ca.pem")) });
      const errors: unknown[] = [];
      const listener = listenSsl({
        port: 0,
        hostname: "127.0.0.1",
        sslCtx: serverContext,
        handshakeTimeout: 3000,
        onError: (error) => errors.push(error),
      });
      let served = 0;
      const serving = (async () => {
        const handlers: Promise<void>[] = [];
        for await (const stream of listener) {
          handlers.push((async () => {
            await using held = stream;
            const line = await held.readLine().catch(() => null);
            if (line !== null) await held.write(encoder.encode(`ok ${line}\n`));
            served++;
          })());
        }
        await Promise.all(handlers);
      })();
      const port = listener.addr.port;

      let good = 0;
      let stopGood = false;
      const goodClients = (async () => {
        while (!stopGood) {
          await using stream = await openTcpStream("localhost", port, { sslCtx: clientContext });
          await stream.write(encoder.encode(`good ${good}\n`));
          assert.equal(await stream.readLine(), `ok good ${good}`);
          good++;
        }
      })();

      const hello = realClientHello();
      const random = xorshift(20261128);
      const cases = Array.from({ length: CASES }, () => hostileCase(random, hello));
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const bytes = cases[next++];
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          await conn.write(bytes).catch(() => {});
          await conn.closeWrite().catch(() => {});
          // Whatever the server answers (an alert, nothing), it must end the connection.
          const sink = new Uint8Array(4096);
          while ((await conn.read(sink).catch(() => null)) !== null);
          conn.close();
        }
      }));
      stopGood = true;
      await goodClients;
      for (let waited = 0; errors.length < CASES && waited < 10_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      listener.close();
      await serving;
      await listener[Symbol.asyncDispose]();

      assert.equal(errors.length, CASES, "every hostile connection ended in an error");
      const untyped = errors.filter((error) =>
        !(error instanceof SocketError) && !(error instanceof Deno.errors.ConnectionReset)
      );
      assert.deepEqual(untyped.map(String), [], "every error is typed");
      assert.ok(good >= 20, `only ${good} good clients were served meanwhile`);
      const kinds = new Map<string, number>();
      for (const error of errors) {
        kinds.set((error as Error).name, (kinds.get((error as Error).name) ?? 0) + 1);
      }
      console.log(
        `${CASES} hostile cases: ${
          [...kinds].map(([name, count]) => `${count} ${name}`).join(", ")
        }; ${good} good clients served meanwhile`,
      );
      assert.equal(served, good);
    }
    assert.deepEqual(liveNativeObjects(), before);
  },
});
