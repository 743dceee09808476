// Full duplex under load: 16 MiB each way at the same time, written in random
// sizes down to one byte, checked with SHA-256 at the far end.
import assert from "node:assert/strict";
import { loadOpenssl } from "../ffi/mod.ts";
import type { SocketStream } from "../mod.ts";
import { FreeWatcher, patternBytes, readAll, sha256, tlsPair, xorshift } from "./_helpers.ts";

const SIZE = 16 * 1024 * 1024;

/** Writes `data` in pseudo-random sizes (1 byte to 256 KiB, many of them tiny). */
async function writeInRandomSizes(
  stream: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
  seed: number,
): Promise<number> {
  const random = xorshift(seed);
  let writes = 0;
  for (let offset = 0; offset < data.length; writes++) {
    const pick = random() % 8;
    const size = pick === 0 ? 1 : pick < 3 ? 1 + random() % 64 : 1 + random() % (256 * 1024);
    const end = Math.min(data.length, offset + size);
    assert.equal(await stream.write(data.subarray(offset, end)), end - offset);
    offset = end;
  }
  return writes;
}

Deno.test("16 MiB each way at the same time, random write sizes, checksums match", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const up = patternBytes(SIZE, 11);
  const down = patternBytes(SIZE, 22);
  const [upWrites, downWrites, received, sent] = await Promise.all([
    writeInRandomSizes(client, up, 1).then(async (writes) => {
      await client.closeWrite();
      return writes;
    }),
    writeInRandomSizes(server, down, 2).then(async (writes) => {
      await server.closeWrite();
      return writes;
    }),
    readAll(server),
    readAll(client),
  ]);
  assert.ok(upWrites > 100 && downWrites > 100);
  assert.equal(received.length, SIZE);
  assert.equal(sent.length, SIZE);
  assert.equal(await sha256(received.slice()), await sha256(up));
  assert.equal(await sha256(sent.slice()), await sha256(down));
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});

Deno.test("one-byte writes arrive in order", async () => {
  const [client, server] = await tlsPair();
  const data = patternBytes(2000, 5);
  const reading = readAll(server);
  for (let i = 0; i < data.length; i++) await client.write(data.subarray(i, i + 1));
  await client.closeWrite();
  assert.deepEqual(await reading, data);
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
});

// The size a memory BIO's buffer has grown to (BUF_MEM.max): it never shrinks while the connection lives.
function bioCapacities(stream: SocketStream): { read: number; write: number } {
  const { libssl, libcrypto } = loadOpenssl();
  const capacity = (bio: Deno.PointerValue) => {
    const cell = new BigUint64Array(1);
    libcrypto.BIO_ctrl(bio, 115, /* BIO_C_GET_BUF_MEM_PTR */ 0n, Deno.UnsafePointer.of(cell));
    const bufMem = Deno.UnsafePointer.create(cell[0]);
    assert.ok(bufMem);
    return Number(new Deno.UnsafePointerView(bufMem).getBigUint64(16)); // { length, data, max, flags }
  };
  const ssl = stream.ssl!.pointer;
  return { read: capacity(libssl.SSL_get_rbio(ssl)), write: capacity(libssl.SSL_get_wbio(ssl)) };
}

Deno.test("the memory BIOs stay near a record's size through large reads and writes", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  const data = patternBytes(4 * 1024 * 1024, 5);
  // 1 MiB writes and 1 MiB reads: large transport reads and large SSL writes at both ends.
  const pump = async (from: SocketStream, to: SocketStream) => {
    const into = new Uint8Array(1024 * 1024);
    const receiving = (async () => {
      let total = 0;
      while (total < data.length) total += (await to.read(into)) ?? 0;
      return total;
    })();
    for (let offset = 0; offset < data.length; offset += 1024 * 1024) {
      await from.write(data.subarray(offset, offset + 1024 * 1024));
    }
    return await receiving;
  };
  assert.deepEqual(await Promise.all([pump(client, server), pump(server, client)]), [
    data.length,
    data.length,
  ]);
  for (const stream of [client, server]) {
    const { read, write } = bioCapacities(stream);
    // Fed a record or two at a time (20 KiB at most on top of a partial record), written a record at a time.
    assert.ok(read <= 64 * 1024, `read BIO grew to ${read} bytes`);
    assert.ok(write <= 32 * 1024, `write BIO grew to ${write} bytes`);
  }
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  objects.assertAllFreed();
});
