// The read buffer policy: small while idle, grows under load, and does not
// reallocate on every read for messages just over the small size.
import assert from "node:assert/strict";
import { AdaptiveBuffer } from "../streams/_adaptive_buffer.ts";

Deno.test("a read buffer grows eightfold while reads fill it, up to its maximum", () => {
  const reads = new AdaptiveBuffer(1024, 128 * 1024);
  const sizes = [];
  for (let i = 0; i < 5; i++) {
    sizes.push(reads.buffer.length);
    reads.borrow(reads.buffer.length);
  }
  assert.deepEqual(sizes, [1024, 8192, 65536, 131072, 131072]);
});

Deno.test("messages just over the idle size settle in one buffer instead of reallocating per read", () => {
  const reads = new AdaptiveBuffer(1024, 128 * 1024);
  // A 1046-byte record arrives as 1024 bytes and a 22-byte tail, then whole.
  reads.borrow(1024);
  reads.borrow(22);
  const settled = reads.buffer;
  for (let i = 0; i < 10; i++) reads.borrow(1046);
  assert.equal(reads.buffer, settled);
  assert.equal(settled.length, 8192);
});

Deno.test("reads of exactly the idle size settle in the grown buffer instead of swinging between sizes", () => {
  // 1024-byte messages on a plain stream (or 1002 bytes of TLS plaintext, one 1024-byte record): the first
  // fills the idle buffer, and a read that would fit the idle buffer exactly must not shrink the grown one,
  // or every third read would allocate again.
  const reads = new AdaptiveBuffer(1024, 128 * 1024);
  reads.borrow(1024);
  const settled = reads.buffer;
  assert.equal(settled.length, 8192);
  for (let i = 0; i < 10; i++) reads.borrow(1024);
  assert.equal(reads.buffer, settled);
});

Deno.test("two sparse reads in a row bring the buffer back to its idle size", () => {
  const reads = new AdaptiveBuffer(1024, 128 * 1024);
  for (let i = 0; i < 4; i++) reads.borrow(reads.buffer.length);
  assert.equal(reads.buffer.length, 128 * 1024);
  reads.borrow(500);
  assert.equal(reads.buffer.length, 128 * 1024, "one sparse read is not enough");
  reads.borrow(300);
  assert.equal(reads.buffer.length, 1024);
});

Deno.test("take hands over a mostly full buffer and copies a sparse one", () => {
  const reads = new AdaptiveBuffer(1024, 64 * 1024);
  const full = reads.buffer;
  const handed = reads.take(1024);
  assert.equal(handed.buffer, full.buffer, "no copy of a full buffer");
  assert.notEqual(reads.buffer.buffer, full.buffer, "and a fresh one for the next read");
  reads.buffer.set([1, 2, 3]);
  const small = reads.take(3);
  assert.deepEqual([...small], [1, 2, 3]);
  assert.equal(small.buffer.byteLength, 3, "a sparse chunk is a copy of its own size");
});
