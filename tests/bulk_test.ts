// Full duplex under load: 16 MiB each way at the same time, written in random
// sizes down to one byte, checked with SHA-256 at the far end.
import assert from "node:assert/strict";
import { assertNoLiveObjects, patternBytes, readAll, sha256, tlsPair, xorshift } from "./_helpers.ts";

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
  assertNoLiveObjects();
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
