// A server in a process of its own, for resumption across processes: a server context with the ticket keys
// given in hex as the first argument (none: its own random ones), serving an echo of one chunk per
// connection on 127.0.0.1. Prints "port N" once it listens; runs until killed.
import { createSslServerContext, makeInstance } from "../mod.ts";
import { fixture } from "./_helpers.ts";

const hex = Deno.args[0];
const ticketKeys = hex ? Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16)) : undefined;
const context = createSslServerContext({
  certFile: fixture("server.pem"),
  keyFile: fixture("server.key"),
  ...(ticketKeys ? { ticketKeys } : {}),
});
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`port ${listener.addr.port}`);
for await (const socket of listener) {
  (async () => {
    const stream = await makeInstance("socket-stream", { socket, sslCtx: context });
    const buffer = new Uint8Array(256);
    const count = await stream.read(buffer);
    if (count !== null) await stream.write(buffer.subarray(0, count));
    await stream.close();
  })().catch(() => {});
}
