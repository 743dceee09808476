// Throughput and memory with many connections at once, in a fresh process:
//   deno run ... bench/_scale.ts <module|deno> <connections> <total bytes>
// Both ends live here. All connections are made first; then each client sends its share of <total bytes> in
// 64 KiB writes and half-closes, each server end drains and answers with the count. Prints {mbps, peakKib}:
// MB/s over the transfer, and the peak resident KiB per connection (both ends) above the settled start.
import {
  benchContexts,
  connectWith,
  type DenoStack,
  listenOn,
  secureAccepted,
  type StackConnection as Conn,
} from "./_fixtures.ts";

const [stack, countText, totalText] = Deno.args as [DenoStack, string, string];
const count = Number(countText);
const share = Math.ceil(Number(totalText) / count);
const { server: serverContext, client: clientContext } = benchContexts();

const listener = listenOn(stack);
const port = (listener.addr as Deno.NetAddr).port;

async function serveOne(conn: Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let total = 0;
  for (let got = await conn.read(buffer); got !== null; got = await conn.read(buffer)) total += got;
  await conn.write(new TextEncoder().encode(String(total)));
  conn.close();
}

const served: Promise<void>[] = [];
const accepting = (async () => {
  for (let i = 0; i < count; i++) {
    // Handshakes run side by side: the next accept does not wait for this one's.
    served.push(secureAccepted(stack, await listener.accept(), serverContext).then(serveOne));
  }
})();

(globalThis as { gc?: () => void }).gc?.();
await new Promise((resolve) => setTimeout(resolve, 100));
const before = Deno.memoryUsage().rss;
const clients: Conn[] = [];
// Connect in batches so the listen backlog is never the limit.
for (let i = 0; i < count; i += 50) {
  clients.push(
    ...await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, () => connectWith(stack, port, clientContext)),
    ),
  );
}
await accepting;

let peak = Deno.memoryUsage().rss;
const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
const chunk = new Uint8Array(64 * 1024).fill(7);
const started = performance.now();
await Promise.all(clients.map(async (conn) => {
  for (let sent = 0; sent < share; sent += chunk.length) {
    await conn.write(chunk.subarray(0, Math.min(chunk.length, share - sent)));
  }
  await conn.closeWrite();
  await conn.read(new Uint8Array(64));
}));
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, Deno.memoryUsage().rss);
await Promise.all(served);
for (const conn of clients) conn.close();
console.log(JSON.stringify({ mbps: share * count / seconds / 1e6, peakKib: (peak - before) / count / 1024 }));
Deno.exit(0);
