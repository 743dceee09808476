// Load: 1000 concurrent connections to a module server, each echoing 1 MiB
// with a checksum, five rounds. After every round all native objects are
// freed (the BIOs go with their SSL), the C heap holds no more than it did,
// and resident memory stays flat once glibc has returned its free pages.
import assert from "node:assert/strict";
import { createSslClientContext, createSslServerContext, listenSsl, openTcpStream } from "../../mod.ts";
import { liveNativeObjects } from "../../ffi/mod.ts";
import { fixture, identity, patternBytes, readBytes, sha256 } from "../_helpers.ts";
import { nativeBytesInUse, nativeHeapReadable, residentAfterTrim } from "./_native_heap.ts";

const CONNECTIONS = 1000;

async function round(
  port: number,
  clientContext: ReturnType<typeof createSslClientContext>,
  size: number,
): Promise<void> {
  const payload = patternBytes(size, size);
  const expected = await sha256(payload);
  const results = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    await using stream = await openTcpStream("localhost", port, {
      sslCtx: clientContext,
      handshakeTimeout: 60_000,
    });
    const [, echoed] = await Promise.all([stream.write(payload), readBytes(stream, size)]);
    return await sha256(echoed.slice());
  }));
  assert.ok(results.every((digest) => digest === expected), "every echo came back intact");
}

// Its memory checks read glibc's mallinfo2: where it is missing the test cannot check what it promises, so it
// is ignored, and says why in its name, rather than pass.
const heapReadable = nativeHeapReadable();

Deno.test({
  name: `${CONNECTIONS} concurrent connections echo 1 MiB each with nothing lost, five rounds, memory flat` +
    (heapReadable ? "" : " (ignored: glibc's mallinfo2 and malloc_trim are not available to check memory)"),
  ignore: !heapReadable,
  fn: async () => {
    const before = liveNativeObjects();
    const rss: number[] = [];
    const inUse: number[] = [];
    const heap: number[] = [];
    const trimmed: number[] = [];
    {
      using serverContext = createSslServerContext(identity("server"));
      using clientContext = createSslClientContext({ ca: await Deno.readTextFile(fixture("ca.pem")) });
      const listener = listenSsl({
        port: 0,
        hostname: "127.0.0.1",
        sslCtx: serverContext,
        handshakeTimeout: 60_000,
      });
      const serving = (async () => {
        const handlers: Promise<void>[] = [];
        for await (const stream of listener) {
          handlers.push((async () => {
            await using held = stream;
            await held.readable.pipeTo(held.writable).catch(() => {});
          })());
        }
        await Promise.all(handlers);
      })();
      for (let pass = 0; pass < 5; pass++) {
        const size = 1024 * 1024;
        await round(listener.addr.port, clientContext, size);
        // Let the server's halves finish closing.
        for (let waited = 0; liveNativeObjects().ssl !== before.ssl && waited < 10_000; waited += 50) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(liveNativeObjects().ssl, before.ssl, "every SSL of the round was freed");
        // Collect what the round left: a few full collections with the event loop turning between them.
        for (let i = 0; i < 3; i++) {
          (globalThis as { gc?: () => void }).gc?.();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const usage = Deno.memoryUsage();
        rss.push(usage.rss);
        heap.push(usage.heapUsed);
        let native = "";
        if (nativeHeapReadable()) {
          // ArrayBuffers live in the C heap too: take them out, so the shared write pool's size of the moment
          // (it shrinks to its recent peak now and then) does not pass for native memory kept.
          inUse.push(nativeBytesInUse() - usage.external);
          trimmed.push(residentAfterTrim());
          native = `, C heap in use besides ArrayBuffers ${
            mib(inUse[pass])
          }, rss once glibc returned free pages ${mib(trimmed[pass])}`;
        }
        console.log(
          `round ${pass + 1}: rss ${mib(usage.rss)}, JS heap ${mib(usage.heapUsed)}, external ${
            mib(usage.external)
          }${native}`,
        );
      }
      listener.close();
      await serving;
      await listener[Symbol.asyncDispose]();
    }
    assert.deepEqual(liveNativeObjects(), before);
    // What the module keeps: the C heap in use besides ArrayBuffers (OpenSSL, Deno's native side) is where
    // round 2 left it (round 1 warms up caches). Growing 1.5 MiB over three rounds of 1000 connections is 512
    // bytes per connection and fails; a clean run moves by 0.2 MiB or less, and one malloc(1024) per connection
    // made it fail (+3.3 MiB).
    const growth = inUse[4] - inUse[1];
    assert.ok(growth < 1.5 * 2 ** 20, `C heap in use grew by ${mib(growth)}: ${inUse.map(mib).join(", ")}`);
    // And the JS heap is flat.
    assert.ok(heap[4] <= heap[1] * 1.05, `JS heap grew: ${heap.map(mib).join(", ")}`);
    // Resident memory, once glibc hands back its free pages, has no trend (it moves by +-10% with where the V8
    // heap and the write pool stand; the C heap check above is the fine one). Without the trim, glibc keeps each
    // round's peak (2000 busy connection ends) as free chunks, and plain RSS rises and falls with where those
    // chunks landed: it is reported above, not checked.
    assert.ok(
      trimmed[4] <= Math.max(trimmed[1], trimmed[2], trimmed[3]) * 1.15,
      `resident memory grew: ${trimmed.map(mib).join(", ")}`,
    );
  },
});

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
