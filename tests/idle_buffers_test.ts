// Record buffers: a busy connection keeps its own (no malloc and free per record), an idle one gives them
// back within about 100 ms (the sweep in streams/_idle_buffers.ts), and a connection that gave them back works
// on as before.
import assert from "node:assert/strict";
import { nativeBytesInUse, nativeHeapReadable } from "./stress/_native_heap.ts";
import { FreeWatcher, readBytes, tlsPair, within } from "./_helpers.ts";
import type { SocketStream } from "../mod.ts";

const PAIRS = 100;
// OpenSSL's read and write buffers are about 17 KiB each; 200 SSLs hold at least 200 * 16 KiB of them.
const BUFFERS_AT_LEAST = 2 * PAIRS * 16 * 1024;

async function roundTrip(client: SocketStream, server: SocketStream): Promise<void> {
  await client.write(new Uint8Array(1024).fill(7));
  const request = await readBytes(server, 1024);
  await server.write(request);
  assert.deepEqual(await readBytes(client, 1024), request);
}

Deno.test({
  name: "idle connections give their record buffers back, and work on afterwards" +
    (nativeHeapReadable() ? "" : " (ignored: reading the C heap needs glibc's mallinfo2)"),
  ignore: !nativeHeapReadable(),
  fn: async () => {
    using objects = new FreeWatcher();
    const pairs = await within(
      Promise.all(Array.from({ length: PAIRS }, () => tlsPair())),
      20_000,
      "100 TLS pairs",
    );
    // Every pair at once: each SSL allocates both record buffers, and no sweep passes between the round trips
    // and the first reading.
    await within(
      Promise.all(pairs.map(([client, server]) => roundTrip(client, server))),
      20_000,
      "round trips",
    );
    const busy = nativeBytesInUse();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const idle = nativeBytesInUse();
    assert.ok(
      busy - idle >= BUFFERS_AT_LEAST,
      `the C heap went from ${busy} to ${idle} bytes after 400 ms idle: at least ${BUFFERS_AT_LEAST} of ` +
        "record buffers should have gone back",
    );
    // Buffers come back as needed.
    await within(Promise.all(pairs.map(([client, server]) => roundTrip(client, server))), 20_000, "again");
    for (const [client, server] of pairs) {
      await client[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
    }
    objects.assertAllFreed();
  },
});
