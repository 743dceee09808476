/**
 * `deno task bench`: the module against Deno's built-in TLS and Node's `tls`,
 * in the same run, interleaved, on 127.0.0.1. Reports medians and ratios.
 * A first version (bulk and sequential handshakes); issue 5 extends it.
 *
 * @module
 */

import { makeInstance, makeSslCtx, openTcpStream } from "../mod.ts";
import { loadOpenssl, SSL_FILETYPE_PEM } from "../ffi/mod.ts";

const ROUNDS = 5;
const BULK_BYTES = 256 * 1024 * 1024;
const HANDSHAKES = 300;
const fixture = (name: string) => new URL(`../tests/fixtures/${name}`, import.meta.url).pathname;
const cPath = (path: string) => new TextEncoder().encode(`${path}\0`);
const { libssl } = loadOpenssl();

using serverCtx = makeSslCtx({ sslSide: "server" });
libssl.SSL_CTX_use_certificate_chain_file(serverCtx.pointer, cPath(fixture("server.pem")));
libssl.SSL_CTX_use_PrivateKey_file(serverCtx.pointer, cPath(fixture("server.key")), SSL_FILETYPE_PEM);
using clientCtx = makeSslCtx({ sslSide: "client" });
libssl.SSL_CTX_load_verify_locations(clientCtx.pointer, cPath(fixture("ca.pem")), null);
const pem = {
  cert: Deno.readTextFileSync(fixture("server.pem")),
  key: Deno.readTextFileSync(fixture("server.key")),
  ca: Deno.readTextFileSync(fixture("ca.pem")),
};

type Stack = "module" | "deno" | "node";
type Measure = (stack: Stack) => Promise<number>; // seconds

async function drain(stream: { read(p: Uint8Array): Promise<number | null> }): Promise<number> {
  const buffer = new Uint8Array(256 * 1024);
  let total = 0;
  for (let count = await stream.read(buffer); count !== null; count = await stream.read(buffer)) {
    total += count;
  }
  return total;
}

async function timed(body: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await body();
  return (performance.now() - started) / 1000;
}

async function node(mode: string, amount: number): Promise<number> {
  const { stdout, success, stderr } = await new Deno.Command("node", {
    args: [
      new URL("./_node_tls.mjs", import.meta.url).pathname,
      mode,
      String(amount),
      fixture("server.pem"),
      fixture("server.key"),
      fixture("ca.pem"),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout)).seconds;
}

const bulk: Measure = async (stack) => {
  if (stack === "node") return await node("bulk", BULK_BYTES);
  const chunk = new Uint8Array(64 * 1024).fill(7);
  if (stack === "deno") {
    const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: pem.cert, key: pem.key });
    const received = listener.accept().then(async (conn) => {
      const total = await drain(conn);
      conn.close();
      return total;
    });
    const seconds = await timed(async () => {
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: listener.addr.port,
        caCerts: [pem.ca],
      });
      for (let sent = 0; sent < BULK_BYTES; sent += chunk.length) await conn.write(chunk);
      await conn.closeWrite();
      await received;
      conn.close();
    });
    listener.close();
    return seconds;
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = listener.accept().then(async (socket) => {
    const stream = await makeInstance("socket-stream", { socket, sslCtx: serverCtx });
    const total = await drain(stream);
    await stream[Symbol.asyncDispose]();
    return total;
  });
  const seconds = await timed(async () => {
    const stream = await openTcpStream("localhost", listener.addr.port, { sslCtx: clientCtx });
    for (let sent = 0; sent < BULK_BYTES; sent += chunk.length) await stream.write(chunk);
    await stream.closeWrite();
    await received;
    await stream[Symbol.asyncDispose]();
  });
  listener.close();
  return seconds;
};

const handshakes: Measure = async (stack) => {
  if (stack === "node") return await node("handshakes", HANDSHAKES);
  if (stack === "deno") {
    const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: pem.cert, key: pem.key });
    const serving = (async () => {
      for (let i = 0; i < HANDSHAKES; i++) {
        const conn = await listener.accept();
        await conn.handshake().catch(() => {});
        conn.close();
      }
    })();
    const seconds = await timed(async () => {
      for (let i = 0; i < HANDSHAKES; i++) {
        const conn = await Deno.connectTls({
          hostname: "localhost",
          port: listener.addr.port,
          caCerts: [pem.ca],
        });
        await conn.handshake();
        conn.close();
      }
    });
    await serving;
    listener.close();
    return seconds;
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for (let i = 0; i < HANDSHAKES; i++) {
      const socket = await listener.accept();
      const stream = await makeInstance("socket-stream", { socket, sslCtx: serverCtx }).catch(() => null);
      await stream?.[Symbol.asyncDispose]();
    }
  })();
  const seconds = await timed(async () => {
    for (let i = 0; i < HANDSHAKES; i++) {
      const stream = await openTcpStream("localhost", listener.addr.port, { sslCtx: clientCtx });
      stream.close();
    }
  });
  await serving;
  listener.close();
  return seconds;
};

const hasNode = await new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" })
  .output()
  .then((result) => result.success, () => false);
const stacks: Stack[] = hasNode ? ["module", "deno", "node"] : ["module", "deno"];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const results: Record<string, Record<Stack, number[]>> = {};
const only = Deno.args[0];
for (const [name, measure] of [["bulk", bulk], ["handshakes", handshakes]] as const) {
  if (only && only !== name) continue;
  results[name] = { module: [], deno: [], node: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const stack of stacks) results[name][stack].push(await measure(stack));
  }
}

console.log(
  `machine: ${navigator.hardwareConcurrency} cores, ${Deno.build.target}; Deno ${Deno.version.deno}`,
);
if (!hasNode) console.log("node: not found, skipped");
console.log(`median of ${ROUNDS} interleaved rounds, client and server in one process each, 127.0.0.1\n`);
console.log("| figure | this module | Deno TLS | Node tls | module / Deno | module / Node |");
console.log("|---|---|---|---|---|---|");
const rate = (name: string, stack: Stack) => {
  const seconds = median(results[name][stack]);
  return name === "bulk" ? BULK_BYTES / seconds / 1e6 : HANDSHAKES / seconds;
};
for (
  const [name, unit] of [["bulk", "MB/s (256 MiB, 64 KiB writes)"], [
    "handshakes",
    "handshakes/s (TLS 1.3, P-256)",
  ]]
) {
  if (only && only !== name) continue;
  const [m, d] = [rate(name, "module"), rate(name, "deno")];
  const n = hasNode ? rate(name, "node") : NaN;
  console.log(
    `| ${unit} | ${m.toFixed(0)} | ${d.toFixed(0)} | ${hasNode ? n.toFixed(0) : "-"} | ${
      (m / d).toFixed(2)
    }x | ${hasNode ? (m / n).toFixed(2) + "x" : "-"} |`,
  );
}
