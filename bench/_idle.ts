// One idle-memory measurement in a fresh process: `deno run ... bench/_idle.ts <module|deno> <count>`.
// Prints the resident KiB per connection end (both ends live in this process).
import { makeInstance, openTcpStream } from "../mod.ts";
import { benchContexts, pem } from "./_fixtures.ts";

const [stack, countText] = Deno.args;
const count = Number(countText);
const { server: serverContext, client: clientContext } = benchContexts();
const listener = stack === "module"
  ? Deno.listen({ hostname: "127.0.0.1", port: 0 })
  : Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: pem.cert, key: pem.key });
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const held: { read(p: Uint8Array): Promise<number | null> }[] = [];
const accepting = (async () => {
  for (let i = 0; i < count; i++) {
    const socket = await listener.accept();
    const conn = stack === "module"
      ? await makeInstance("socket-stream", { socket, sslCtx: serverContext })
      : socket;
    if (stack !== "module") await (conn as Deno.TlsConn).handshake();
    held.push(conn);
    conn.read(new Uint8Array(1024)).catch(() => null);
  }
})();
// Warm up the code paths, then measure from a settled heap.
await new Promise((resolve) => setTimeout(resolve, 100));
gc();
const before = Deno.memoryUsage().rss;
for (let i = 0; i < count; i++) {
  const conn = stack === "module"
    ? await openTcpStream("localhost", listener.addr.port, { sslCtx: clientContext })
    : await Deno.connectTls({ hostname: "localhost", port: listener.addr.port, caCerts: [pem.ca] });
  if (stack !== "module") await (conn as Deno.TlsConn).handshake();
  held.push(conn);
  conn.read(new Uint8Array(1024)).catch(() => null);
}
await accepting;
await new Promise((resolve) => setTimeout(resolve, 500));
gc();
console.log(JSON.stringify({ kib: (Deno.memoryUsage().rss - before) / (2 * count) / 1024 }));
Deno.exit(0);
