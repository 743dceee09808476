// One end of a bulk transfer in its own process, so each end has a core and its CPU time is its own:
//   deno run ... bench/_bulk_peer.ts server <module|deno> [streams|byob|reader] prints {port}, then {cpu, cipher}
//   deno run ... bench/_bulk_peer.ts client <module|deno> <port> <bytes> [streams]
//                                                                       prints {seconds, cpu, cipher}
// The client sends <bytes> in 64 KiB writes and half-closes; the server drains, answers with the count and
// exits. CPU is user + system seconds of this process, from the handshake's end to the last byte.
// "streams" reads through the readable's default reader (and the client writes through its writable); "byob"
// reads through a BYOB reader, with a read/write client (since the session that added "reader"; the client
// wrote through its writable before, so earlier results of that row are not comparable); "reader"
// reads the same way with a read/write client, so Deno's own TLS can be measured too: its readable closes the
// connection at the end, and such a server does not answer (the client then sees the end of the stream).
import process from "node:process";
import {
  benchContexts,
  connectWith,
  type DenoStack,
  listenOn,
  secureAccepted,
  type StackConnection as Conn,
} from "./_fixtures.ts";

const [role, stack] = Deno.args as [string, DenoStack];
const [portText, bytesText, api] = role === "server" ? ["", "", Deno.args[2]] : Deno.args.slice(2);
const { server: serverContext, client: clientContext } = benchContexts();
const print = (value: unknown) => console.log(JSON.stringify(value));
const cpuSince = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
};

// Deno's TLS does not say which cipher it negotiated: the module's end of a pairing reports it.
const cipherOf = (conn: Conn) => "cipher" in conn ? conn.cipher : null;

if (role === "server") {
  const listener = listenOn(stack);
  print({ port: (listener.addr as Deno.NetAddr).port });
  const conn = await secureAccepted(stack, await listener.accept(), serverContext);
  const start = process.cpuUsage();
  let total = 0;
  if (api === "streams" || api === "reader") {
    for await (const piece of conn.readable) total += piece.length;
  } else if (api === "byob") {
    // A BYOB reader hands its buffer back and forth: no fresh memory per chunk.
    const reader = conn.readable.getReader({ mode: "byob" });
    let buffer = new Uint8Array(256 * 1024);
    for (let read = await reader.read(buffer); !read.done; read = await reader.read(buffer)) {
      total += read.value.length;
      buffer = new Uint8Array(read.value.buffer);
    }
    reader.releaseLock();
  } else {
    const buffer = new Uint8Array(256 * 1024);
    for (let count = await conn.read(buffer); count !== null; count = await conn.read(buffer)) total += count;
  }
  const closedByReadable = api === "reader" && stack === "deno";
  if (!closedByReadable) await conn.write(new TextEncoder().encode(String(total)));
  const cpu = cpuSince(start);
  const cipher = cipherOf(conn);
  if (!closedByReadable) conn.close();
  listener.close();
  print({ cpu, total, cipher });
} else {
  const port = Number(portText);
  const bytes = Number(bytesText);
  const conn = await connectWith(stack, port, clientContext);
  const chunk = new Uint8Array(64 * 1024).fill(7);
  const start = process.cpuUsage();
  const started = performance.now();
  if (api === "streams") {
    const writer = conn.writable.getWriter();
    for (let sent = 0; sent < bytes; sent += chunk.length) await writer.write(chunk);
    await writer.close();
  } else {
    for (let sent = 0; sent < bytes; sent += chunk.length) await conn.write(chunk);
    await conn.closeWrite();
  }
  await conn.read(new Uint8Array(64));
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSince(start);
  const cipher = cipherOf(conn);
  conn.close();
  print({ seconds, cpu, cipher });
}
