// One idle-memory measurement in a fresh process: `deno run ... bench/_idle.ts <module|deno> <count>`.
// Prints the resident KiB per connection end (both ends live in this process).
import { benchContexts, connectWith, type DenoStack, listenOn, secureAccepted } from "./_fixtures.ts";

const [stack, countText] = Deno.args as [DenoStack, string];
const count = Number(countText);
const { server: serverContext, client: clientContext } = benchContexts();
const listener = listenOn(stack);
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const held: { read(p: Uint8Array): Promise<number | null> }[] = [];
// A few connections before the measurement: what every process pays once (code compiled, modules loaded,
// pools made) is not what one more connection costs.
const WARM_UP = 20;
const accepting = (async () => {
  for (let i = 0; i < WARM_UP + count; i++) {
    const conn = await secureAccepted(stack, await listener.accept(), serverContext);
    held.push(conn);
    conn.read(new Uint8Array(1024)).catch(() => null);
  }
})();
async function connect(connections: number): Promise<void> {
  for (let i = 0; i < connections; i++) {
    const conn = await connectWith(stack, (listener.addr as Deno.NetAddr).port, clientContext);
    held.push(conn);
    conn.read(new Uint8Array(1024)).catch(() => null);
  }
}
await connect(WARM_UP);
// Then measure from a settled heap.
await new Promise((resolve) => setTimeout(resolve, 500));
gc();
const before = Deno.memoryUsage().rss;
await connect(count);
await accepting;
await new Promise((resolve) => setTimeout(resolve, 500));
gc();
console.log(JSON.stringify({ kib: (Deno.memoryUsage().rss - before) / (2 * count) / 1024 }));
Deno.exit(0);
