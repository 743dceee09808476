// Full duplex under load: 16 MiB each way at the same time, written in random
// sizes down to one byte, checked with SHA-256 at the far end.
import assert from "node:assert/strict";
import { loadOpenssl } from "../ffi/mod.ts";
import type { SocketStream } from "../mod.ts";
import { addressOf, COPY_SLACK, fastCopyStart } from "../streams/_copy_alignment.ts";
import {
  assertSameBytes,
  FreeWatcher,
  patternBytes,
  readAll,
  sha256,
  tlsPair,
  wrapConn,
  xorshift,
} from "./_helpers.ts";

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

// A memory BIO's BUF_MEM { length, data, max, flags }, read at `offset`.
function bufMemField(bio: Deno.PointerValue, offset: 8 | 16): number {
  const cell = new BigUint64Array(1);
  loadOpenssl().libcrypto.BIO_ctrl(bio, 115, /* BIO_C_GET_BUF_MEM_PTR */ 0n, Deno.UnsafePointer.of(cell));
  const bufMem = Deno.UnsafePointer.create(cell[0]);
  assert.ok(bufMem);
  return Number(new Deno.UnsafePointerView(bufMem).getBigUint64(offset));
}

// The size a memory BIO's buffer has grown to (BUF_MEM.max): it never shrinks while the connection lives.
function bioCapacities(stream: SocketStream): { read: number; write: number } {
  const { libssl } = loadOpenssl();
  const ssl = stream.ssl!.pointer;
  return {
    read: bufMemField(libssl.SSL_get_rbio(ssl), 16),
    write: bufMemField(libssl.SSL_get_wbio(ssl), 16),
  };
}

// glibc 2.36's memcpy of 2 KiB or more is ten times slower on some CPUs when the destination lies 1 to 31
// bytes past the source, modulo 4096 (see streams/_copy_alignment.ts).
const slowDistance = (destination: number, source: number) => {
  const distance = (((destination - source) % 4096) + 4096) % 4096;
  return distance >= 1 && distance <= 31;
};

Deno.test("fastCopyStart keeps four records of any cipher out of memcpy's slow distances", () => {
  // Full records: TLS 1.3 (AES-GCM, ChaCha20), TLS 1.2 AES-GCM, TLS 1.2 CBC with SHA-384.
  const recordSizes = [16406, 16413, 16469];
  const random = xorshift(7);
  for (let i = 0; i < 20000; i++) {
    const destination = 0x7f0000000000 + (random() % 0x100000) * 16;
    const source = 0x550000000000 + (random() % 0x100000) * 8 + (i % 16);
    const start = fastCopyStart(destination, source);
    assert.ok(start >= 0 && start <= COPY_SLACK && Number.isInteger(start), `start ${start}`);
    for (const size of recordSizes) {
      for (let record = 0; record < 4; record++) {
        const at = destination + start + record * size;
        assert.ok(!slowDistance(at, source), `record ${record} of ${size} bytes at ${at} from ${source}`);
      }
    }
  }
});

Deno.test("a sending end's socket writes start where the copy out of its write BIO is fast", async () => {
  const written: { address: number; length: number }[] = [];
  const [client, server] = await tlsPair({
    wrapClient: (conn) =>
      wrapConn(conn, {
        write: (bytes) => {
          written.push({ address: addressOf(bytes), length: bytes.length });
          return conn.write(bytes);
        },
      }),
  });
  try {
    const data = patternBytes(1024 * 1024, 9);
    const reading = readAll(server);
    for (let offset = 0; offset < data.length; offset += 64 * 1024) {
      await client.write(data.subarray(offset, offset + 64 * 1024));
    }
    // Where the write BIO's records are copied from (its buffer stopped growing at the first full record).
    const source = bufMemField(loadOpenssl().libssl.SSL_get_wbio(client.ssl!.pointer), 8);
    await client.closeWrite();
    assertSameBytes(await reading, data);
    const gatherings = written.filter(({ length }) => length >= 4 * 16406);
    assert.equal(gatherings.length, 16, `socket writes: ${written.map(({ length }) => length)}`);
    for (const { address } of gatherings) {
      const distance = (((address - source) % 4096) + 4096) % 4096;
      assert.equal(distance, 256, `socket write at ${address}, BIO at ${source}`);
    }
  } finally {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  }
});

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

Deno.test("a transport that detaches the buffers it was given loses no byte, on its connection or another", async () => {
  // The shared write pool must not hand a detached buffer to anyone: before, the next write with it resolved
  // having sent nothing.
  const [client, server] = await tlsPair({
    wrapClient: (conn) =>
      wrapConn(conn, {
        write: async (bytes) => {
          const written = await conn.write(bytes.slice());
          (bytes.buffer as ArrayBuffer).transfer();
          return written;
        },
      }),
  });
  const [other, otherServer] = await tlsPair();
  try {
    const first = patternBytes(200_000, 3);
    const reading = readAll(server);
    assert.equal(await client.write(first), first.length);
    await client.closeWrite();
    assertSameBytes(await reading, first);
    const second = patternBytes(300_000, 4);
    const readingOther = readAll(otherServer);
    assert.equal(await other.write(second), second.length);
    await other.closeWrite();
    assertSameBytes(await readingOther, second);
  } finally {
    for (const stream of [client, server, other, otherServer]) await stream[Symbol.asyncDispose]();
  }
});
