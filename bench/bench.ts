/**
 * `deno task bench`: this module against Deno's built-in TLS and Node's `tls`,
 * interleaved in one run on 127.0.0.1, each figure the median of several
 * rounds with its spread. Writes `bench/results.md` and `bench/results.svg`.
 *
 *     deno task bench            # everything
 *     deno task bench bulk rtt   # some figures only
 *
 * @module
 */

import {
  benchContexts,
  connectWith,
  type DenoStack,
  fixture,
  listenOn,
  pem,
  secureAccepted,
} from "./_fixtures.ts";
import { loadOpenssl } from "../ffi/mod.ts";
import { attachSsl, opensslVersion, openTcpStream, SocketStream } from "../mod.ts";
import { memoryConnectionPair } from "./_memory_pipe.ts";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 7);
const BULK_BYTES = 512 * 1024 * 1024;
const SCALE_BYTES = 128 * 1024 * 1024;
const SCALE_COUNTS = [1, 10, 100, 1000];
const HANDSHAKES = 200;
const ROUND_TRIPS = 20000;
const IDLE_CONNECTIONS = 1000;
const { server: serverContext, client: clientContext } = benchContexts();

type Stack = "module" | "deno" | "node";
interface Figure {
  name: string;
  unit: string;
  higherIsBetter: boolean;
  stacks: Partial<Record<string, () => Promise<number>>>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(body: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await body();
  return (performance.now() - started) / 1000;
}

// ---------------------------------------------------------------- listeners
interface Server {
  port: number;
  accept(): Promise<
    { read(p: Uint8Array): Promise<number | null>; write(p: Uint8Array): Promise<number>; close(): void }
  >;
  close(): void;
}

function stackServer(stack: DenoStack): Server {
  const listener = listenOn(stack);
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accept: async () => await secureAccepted(stack, await listener.accept(), serverContext),
    close: () => listener.close(),
  };
}

const moduleServer = () => stackServer("module");
const denoServer = () => stackServer("deno");

function plainServer(): Server {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return { port: listener.addr.port, accept: () => listener.accept(), close: () => listener.close() };
}

const moduleClient = (port: number) => connectWith("module", port, clientContext) as Promise<SocketStream>;
const denoClient = (port: number) => connectWith("deno", port, clientContext);

// ---------------------------------------------------------------- node
async function nodeRun(args: string[]): Promise<Record<string, unknown>> {
  const { stdout, stderr, success } = await new Deno.Command("node", {
    args: ["--expose-gc", new URL("./_node_tls.mjs", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
}

// The module under OpenSSL 3.5 (Debian 13's, with its glibc 2.41), where tests/with_openssl_3_5.sh has prepared a
// Deno that loads it: its AES-GCM uses VAES where the CPU has it. Measured only when that Deno is there.
const MODULE_35 = "module, OpenSSL 3.5";
const deno35 = new URL("../.cache/openssl-3.5/bin/deno", import.meta.url).pathname;
// The script stamps its Deno with the version it copied; one made from another Deno is not this run's.
const hasOpenssl35 = (() => {
  try {
    const stamp = Deno.readTextFileSync(new URL("../.cache/openssl-3.5/stamp", import.meta.url));
    return Deno.statSync(deno35).isFile && stamp.startsWith(`deno ${Deno.version.deno} `);
  } catch {
    return false;
  }
})();

// The stack a bench script runs for an end.
const stackOf = (end: End): string => end === MODULE_35 ? "module" : end;

// ---------------------------------------------------------------- figures
// Each end in its own process (a core each, as across machines), reporting its own CPU time.
type End = "module" | "deno" | "node" | typeof MODULE_35;
const bulkCpu: Record<string, { client: number[]; server: number[] }> = {};
const ciphers = new Set<string>();

/** A bench process: its first JSON line, and its last once it has exited. */
function spawnPeer(end: End, script: string, args: string[]): {
  first: Promise<Record<string, unknown>>;
  last: Promise<Record<string, unknown>>;
} {
  const path = new URL(end === "node" ? "./_node_tls.mjs" : script, import.meta.url).pathname;
  const child =
    (end === "node"
      ? new Deno.Command("node", { args: ["--expose-gc", path, ...args], stdout: "piped", stderr: "piped" })
      : new Deno.Command(end === MODULE_35 ? deno35 : Deno.execPath(), {
        args: ["run", "-A", "--v8-flags=--expose-gc", path, ...args],
        stdout: "piped",
        stderr: "piped",
      })).spawn();
  const { promise: first, resolve: announce } = Promise.withResolvers<Record<string, unknown>>();
  const last = (async () => {
    const lines: string[] = [];
    let text = "";
    for await (const piece of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += piece;
      for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
        lines.push(text.slice(0, end));
        text = text.slice(end + 1);
        if (lines.length === 1) announce(JSON.parse(lines[0]));
      }
    }
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    if (!status.success || lines.length === 0) throw new Error(`${end} ${args.join(" ")}: ${stderr}`);
    return JSON.parse(lines.at(-1)!);
  })();
  last.catch(() => {});
  return { first: Promise.race([first, last]), last };
}

type Api = "read/write" | "Web Streams" | "Web Streams, BYOB reader" | "Web Streams reader at the server";

const SERVER_API: Record<Api, string> = {
  "read/write": "",
  "Web Streams": "streams",
  "Web Streams, BYOB reader": "byob",
  "Web Streams reader at the server": "reader",
};

async function bulkAcross(client: End, server: End, api: Api = "read/write"): Promise<number> {
  const streams = api !== "read/write";
  const receiver = spawnPeer(
    server,
    "./_bulk_peer.ts",
    server === "node" ? ["server", "once"] : ["server", stackOf(server), SERVER_API[api]],
  );
  const { port } = await receiver.first;
  const sender = spawnPeer(
    client,
    "./_bulk_peer.ts",
    client === "node"
      ? ["client", "bulk", String(BULK_BYTES), String(port)]
      : ["client", stackOf(client), String(port), String(BULK_BYTES), api === "Web Streams" ? "streams" : ""],
  );
  const [sent, received] = await Promise.all([sender.last, receiver.last]);
  if (received.total !== BULK_BYTES) {
    throw new Error(`bulk ${client} → ${server}: ${received.total} bytes arrived`);
  }
  for (const cipher of [sent.cipher, received.cipher]) if (typeof cipher === "string") ciphers.add(cipher);
  const key = `${client} → ${server}${streams ? `, ${api}` : ""}`;
  const cpu = bulkCpu[key] ??= { client: [], server: [] };
  cpu.client.push((sent.cpu as number) / (BULK_BYTES / 1e9));
  cpu.server.push((received.cpu as number) / (BULK_BYTES / 1e9));
  return BULK_BYTES / (sent.seconds as number) / 1e6;
}

/** Bytes per second libcrypto's AES-256-GCM does on one core, or `undefined` without the openssl tool. */
async function aesGcmSpeed(): Promise<number | undefined> {
  const run = await new Deno.Command("openssl", {
    args: ["speed", "-evp", "aes-256-gcm", "-bytes", "16384", "-seconds", "2"],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  // The last line: "AES-256-GCM  3830448.13k" (thousands of bytes per second).
  const match = run && new TextDecoder().decode(run.stdout).match(/AES-256-GCM\s+([\d.]+)k\s*$/m);
  return match ? Number(match[1]) * 1000 : undefined;
}

// Many connections at once, both ends in one fresh process per run.
const scaleMemory: Record<string, number[]> = {};

async function scaleRun(end: End, count: number): Promise<number> {
  const args = end === "node"
    ? ["scale", String(count), String(SCALE_BYTES)]
    : [end, String(count), String(SCALE_BYTES)];
  const { mbps, peakKib } = await spawnPeer(end, "./_scale.ts", args).last;
  (scaleMemory[`${end} ×${count}`] ??= []).push(peakKib as number);
  return mbps as number;
}

const handshakeLatencies: Record<string, number[]> = {};

async function handshakesWith(
  name: string,
  server: Server,
  connect: (
    port: number,
    session?: Uint8Array,
  ) => Promise<
    { close(): void; session?: () => Uint8Array | null; read?(p: Uint8Array): Promise<number | null> }
  >,
  resume = false,
): Promise<number> {
  const serving = (async () => {
    for (let i = 0; i < HANDSHAKES; i++) {
      const conn = await server.accept().catch(() => null);
      if (conn) {
        if (resume) await conn.write(new Uint8Array(1)).catch(() => {});
        conn.close();
      }
    }
  })();
  const latencies: number[] = [];
  let session: Uint8Array | undefined;
  for (let i = 0; i < HANDSHAKES; i++) {
    const started = performance.now();
    const conn = await connect(server.port, session);
    latencies.push(performance.now() - started);
    if (resume) {
      await conn.read?.(new Uint8Array(1));
      session = conn.session?.() ?? session;
    }
    conn.close();
  }
  await serving;
  server.close();
  (handshakeLatencies[name] ??= []).push(...latencies);
  return HANDSHAKES / (latencies.reduce((a, b) => a + b, 0) / 1000);
}

async function nodeHandshakes(mode: "handshakes" | "resume"): Promise<number> {
  const { latencies } = await nodeRun(["self", mode, String(HANDSHAKES)]) as { latencies: number[] };
  (handshakeLatencies[`node ${mode}`] ??= []).push(...latencies);
  return HANDSHAKES / (latencies.reduce((a, b) => a + b, 0) / 1000);
}

// Runs `body` against `openssl s_server` (TLS 1.3, the bench's certificate) on a free loopback port.
async function withSServer<T>(body: (port: number) => Promise<T>): Promise<T> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const server = new Deno.Command("openssl", {
    args: [
      "s_server",
      "-accept",
      `127.0.0.1:${port}`,
      "-cert",
      fixture("server.pem"),
      "-key",
      fixture("server.key"),
      "-tls1_3",
      "-quiet",
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (let tries = 0; tries < 200; tries++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch {
        await sleep(10);
      }
    }
    return await body(port);
  } finally {
    server.kill();
    await server.stdin.close().catch(() => {});
    await server.status;
  }
}

function opensslSTime(): Promise<number> {
  return withSServer(async (port) => {
    // s_time's own "real seconds" is whole seconds (time(2)), off by up to one in three: the wall clock around
    // the run (process start included, which costs s_time a percent or so) counts instead.
    const started = performance.now();
    const { stdout } = await new Deno.Command("openssl", {
      args: ["s_time", "-connect", `127.0.0.1:${port}`, "-new", "-time", "3", "-CAfile", fixture("ca.pem")],
      stdout: "piped",
      stderr: "null",
    }).output();
    const seconds = (performance.now() - started) / 1000;
    const match = new TextDecoder().decode(stdout).match(/(\d+) connections in \d+ real seconds/);
    return match ? Number(match[1]) / seconds : NaN;
  });
}

// The module's client alone against the s_server that s_time measures: each end's own cost, with OpenSSL's
// server in another process as s_time has it.
// The system's CA bundle with the test CA added, as SSL_CERT_FILE: a context made per connection (sslCtx: true,
// the seed's way) then loads a real system store, as it would for a user.
function systemBundleWithTestCa(): string {
  const system = Deno.UnsafePointerView.getCString(loadOpenssl().libcrypto.X509_get_default_cert_file()!);
  const directory = new URL("./out/", import.meta.url).pathname;
  Deno.mkdirSync(directory, { recursive: true });
  let bundle = "";
  try {
    bundle = Deno.readTextFileSync(system);
  } catch {
    // No system bundle: the test CA alone.
  }
  const path = `${directory}system-and-test-ca.pem`;
  Deno.writeTextFileSync(path, `${bundle}\n${pem.ca}`);
  return path;
}

async function moduleHandshakesWithOwnContexts(): Promise<number> {
  const previous = Deno.env.get("SSL_CERT_FILE");
  Deno.env.set("SSL_CERT_FILE", systemBundleWithTestCa());
  try {
    return await handshakesWith(
      "module, a context per connection",
      moduleServer(),
      (port) => openTcpStream("localhost", port, { sslCtx: true }),
    );
  } finally {
    if (previous === undefined) Deno.env.delete("SSL_CERT_FILE");
    else Deno.env.set("SSL_CERT_FILE", previous);
  }
}

function moduleClientToSServer(): Promise<number> {
  return withSServer(async (port) => {
    for (let i = 0; i < 10; i++) (await openTcpStream("localhost", port, { sslCtx: clientContext })).close();
    const seconds = await timed(async () => {
      for (let i = 0; i < HANDSHAKES; i++) {
        (await openTcpStream("localhost", port, { sslCtx: clientContext })).close();
      }
    });
    return HANDSHAKES / seconds;
  });
}

async function roundTrips(
  server: Server,
  connect: (
    port: number,
  ) => Promise<
    { read(p: Uint8Array): Promise<number | null>; write(p: Uint8Array): Promise<number>; close(): void }
  >,
): Promise<number> {
  const echoing = server.accept().then(async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    for (let count = await conn.read(buffer); count !== null; count = await conn.read(buffer)) {
      await conn.write(buffer.subarray(0, count));
    }
    conn.close();
  }).catch(() => {});
  const conn = await connect(server.port);
  const message = new Uint8Array(1024).fill(1);
  const reply = new Uint8Array(64 * 1024);
  const seconds = await timed(async () => {
    for (let i = 0; i < ROUND_TRIPS; i++) {
      await conn.write(message);
      for (let got = 0; got < 1024;) got += (await conn.read(reply)) ?? 1024;
    }
  });
  conn.close();
  await echoing;
  server.close();
  return ROUND_TRIPS / seconds;
}

/** The module's round trips over an in-process pipe: its TLS layer's own cost, without sockets. */
async function memoryRoundTrips(): Promise<number> {
  const [a, b] = memoryConnectionPair();
  const client = new SocketStream({ socket: a });
  const server = new SocketStream({ socket: b });
  await Promise.all([
    attachSsl(client, { sslCtx: clientContext, sslSide: "client", tlsextHostName: "localhost" }),
    attachSsl(server, { sslCtx: serverContext, sslSide: "server" }),
  ]);
  return await roundTrips(
    { port: 0, accept: () => Promise.resolve(server), close: () => {} },
    () => Promise.resolve(client),
  );
}

async function idleMemory(stack: "module" | "deno"): Promise<number> {
  // A fresh process each: a heap that earlier figures left behind would blur the difference.
  const { stdout, success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL("./_idle.ts", import.meta.url).pathname,
      stack,
      String(IDLE_CONNECTIONS),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout)).kib;
}

const hasNode = await new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" })
  .output()
  .then((result) => result.success, () => false);

const figures: Figure[] = [
  {
    name: "bulk",
    unit: `MB/s, ${BULK_BYTES / 2 ** 20} MiB in 64 KiB writes, client → server, one process per end`,
    higherIsBetter: true,
    stacks: Object.fromEntries(
      ([
        ["module", "module"],
        ["deno", "deno"],
        ["node", "node"],
        ["module", "deno"],
        ["deno", "module"],
        ["module", "node"],
        ["node", "module"],
        [MODULE_35, "deno"],
        [MODULE_35, MODULE_35],
      ] as [End, End][])
        .filter((pair) => hasNode || !pair.includes("node"))
        .filter((pair) => hasOpenssl35 || !pair.includes(MODULE_35))
        .map(([client, server]) => [`${client} → ${server}`, () => bulkAcross(client, server)])
        .concat(
          (["Web Streams", "Web Streams, BYOB reader", "Web Streams reader at the server"] as Api[]).map((
            api,
          ) => [
            `module → module, ${api}`,
            () => bulkAcross("module", "module", api),
          ]),
          // Deno's own TLS through its readable: what the Web Streams contract costs a stack that is not this one.
          [[
            "deno → deno, Web Streams reader at the server",
            () => bulkAcross("deno", "deno", "Web Streams reader at the server"),
          ]],
        ),
    ),
  },
  {
    name: "handshakes",
    unit: "full TLS 1.3 handshakes/s, ECDSA P-256, verified, sequential",
    higherIsBetter: true,
    stacks: {
      "module": () => handshakesWith("module", moduleServer(), moduleClient),
      "deno": () => handshakesWith("deno", denoServer(), denoClient),
      "node": hasNode ? () => nodeHandshakes("handshakes") : undefined,
      "openssl s_time → s_server": opensslSTime,
      "module client → s_server": moduleClientToSServer,
      "module, sslCtx: true (a client context per connection, system store)": moduleHandshakesWithOwnContexts,
    },
  },
  {
    name: "resumption",
    unit: "resumed TLS 1.3 handshakes/s, sequential",
    higherIsBetter: true,
    stacks: {
      "module": () =>
        handshakesWith(
          "module resume",
          moduleServer(),
          (port, session) => openTcpStream("localhost", port, { sslCtx: clientContext, session }),
          true,
        ),
      "node": hasNode ? () => nodeHandshakes("resume") : undefined,
    },
  },
  {
    name: "rtt",
    unit: "1 KiB request/response round trips/s on one connection",
    higherIsBetter: true,
    stacks: {
      "module": () => roundTrips(moduleServer(), moduleClient),
      "deno": () => roundTrips(denoServer(), denoClient),
      "node": hasNode
        ? async () => ROUND_TRIPS / ((await nodeRun(["self", "rtt", String(ROUND_TRIPS)])).seconds as number)
        : undefined,
      // References: the same round trips without TLS, so the cost of each TLS layer shows, and the module
      // without sockets.
      "module over an in-memory pipe": memoryRoundTrips,
      "deno plain TCP": () =>
        roundTrips(plainServer(), (port) => Deno.connect({ hostname: "127.0.0.1", port })),
      "node plain TCP": hasNode
        ? async () =>
          ROUND_TRIPS / ((await nodeRun(["self", "rtt-plain", String(ROUND_TRIPS)])).seconds as number)
        : undefined,
    },
  },
  {
    name: "idle",
    unit: `KiB resident per idle connection end, ${IDLE_CONNECTIONS} connections`,
    higherIsBetter: false,
    stacks: {
      "module": () => idleMemory("module"),
      "deno": () => idleMemory("deno"),
      "node": hasNode
        ? async () => ((await nodeRun(["idle", "", String(IDLE_CONNECTIONS)])).rssPerEnd as number) / 1024
        : undefined,
    },
  },
  {
    name: "scale",
    unit: `MB/s with N connections at once, ${
      SCALE_BYTES / 2 ** 20
    } MiB shared out, both ends in one process`,
    higherIsBetter: true,
    stacks: Object.fromEntries(
      SCALE_COUNTS.flatMap((count) =>
        (["module", "deno", "node"] as End[])
          .filter((end) => hasNode || end !== "node")
          .map((end) => [`${end} ×${count}`, () => scaleRun(end, count)])
      ),
    ),
  },
];

// ---------------------------------------------------------------- run
const wanted = new Set(Deno.args);
const selected = figures.filter((figure) => wanted.size === 0 || wanted.has(figure.name));
const samples = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const figure of selected) {
    for (const [stack, run] of Object.entries(figure.stacks)) {
      if (!run) continue;
      // One round of memory is enough: it is not noisy and takes long.
      if (figure.name === "idle" && round > 0) continue;
      const key = `${figure.name}|${stack}`;
      const value = await run();
      samples.set(key, [...(samples.get(key) ?? []), value]);
      console.error(`round ${round + 1}/${ROUNDS} ${figure.name} ${stack}: ${value.toFixed(1)}`);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const lines: string[] = [];
lines.push("# Benchmark results", "");
lines.push(
  `Machine: ${navigator.hardwareConcurrency} cores, ${Deno.build.target}; Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ${opensslVersion()}; ${
    hasNode
      ? `Node ${(await new Deno.Command("node", { args: ["--version"] }).output().then((r) =>
        new TextDecoder().decode(r.stdout).trim()
      ))}`
      : "Node: not found, skipped"
  }.`,
  "",
  `Each figure is the median of ${ROUNDS} interleaved rounds (memory: one round), min–max in brackets; client and server`,
  "run in separate processes for bulk, in one process elsewhere (Node in its own). Ratios are this module's median",
  "over the peer's.",
  "",
);
const ratios: { label: string; ratio: number }[] = [];
const fixed = (value: number | undefined, digits = 1) => value === undefined ? "–" : value.toFixed(digits);
const medianOf = (key: string) => {
  const values = samples.get(key);
  return values ? median(values) : undefined;
};

/** Ours over theirs (their/ours when smaller is better), as a line and a bar of the chart. */
// A ratio for the results, and for the chart unless `charted` is false (a reference that is not the module's).
function ratio(figure: Figure, label: string, ours: string, theirs: string, charted = true): void {
  const [a, b] = [medianOf(`${figure.name}|${ours}`), medianOf(`${figure.name}|${theirs}`)];
  if (a === undefined || b === undefined) return;
  const value = figure.higherIsBetter ? a / b : b / a;
  if (charted) ratios.push({ label, ratio: value });
  lines.push(
    "",
    `${label} (${ours} over ${theirs}): **${value.toFixed(2)}x**${
      figure.higherIsBetter ? "" : " (smaller is better; shown as theirs/ours)"
    }.`,
  );
}

for (const figure of selected) {
  lines.push(`## ${figure.name}: ${figure.unit}`, "");
  if (figure.name === "scale") {
    const ends = (["module", "deno", "node"] as End[]).filter((end) => samples.has(`scale|${end} ×1`));
    lines.push(
      `| connections | ${ends.map((end) => `${end} MB/s`).join(" | ")} | ${
        ends.map((end) => `${end} peak KiB/conn`).join(" | ")
      } |`,
      `| --- |${" --- |".repeat(2 * ends.length)}`,
    );
    for (const count of SCALE_COUNTS) {
      lines.push(
        `| ${count} | ${ends.map((end) => fixed(medianOf(`scale|${end} ×${count}`))).join(" | ")} | ${
          ends.map((end) =>
            fixed(scaleMemory[`${end} ×${count}`] && median(scaleMemory[`${end} ×${count}`]), 0)
          )
            .join(" | ")
        } |`,
      );
    }
    lines.push(
      "",
      "Peak KiB/conn: the highest resident memory during the transfer above the settled start, over N (both ends).",
    );
    for (const peer of ["deno", "node"]) {
      ratio(figure, `scale ×1000 vs ${peer}`, "module ×1000", `${peer} ×1000`);
    }
    lines.push("");
    continue;
  }
  const bulk = figure.name === "bulk";
  lines.push(
    bulk
      ? "| client → server | MB/s median | spread | client CPU s/GB (core busy) | server CPU s/GB (core busy) |\n| --- | --- | --- | --- | --- |"
      : "| stack | median | spread |\n| --- | --- | --- |",
  );
  for (const stack of Object.keys(figure.stacks)) {
    const values = samples.get(`${figure.name}|${stack}`);
    if (!values) continue;
    const cpu = bulk ? bulkCpu[stack] : undefined;
    // CPU seconds per GB times GB per second: the share of a core that end kept busy (near 100%: the limit).
    const busy = (perGb: number[]) =>
      ` ${median(perGb).toFixed(2)} (${(median(perGb) * median(values) / 10).toFixed(0)}%) |`;
    lines.push(
      `| ${stack} | ${median(values).toFixed(1)} | ${Math.min(...values).toFixed(1)}–${
        Math.max(...values).toFixed(1)
      } |${cpu ? busy(cpu.client) + busy(cpu.server) : ""}`,
    );
  }
  if (bulk) {
    lines.push("", `Cipher suites seen: ${[...ciphers].join(", ") || "not reported"}.`);
    const floor = await aesGcmSpeed();
    if (floor) {
      lines.push(
        "",
        `libcrypto's AES-256-GCM alone (\`openssl speed -evp aes-256-gcm\`, 16 KiB blocks): ${
          (floor / 1e9).toFixed(2)
        } GB/s, so ${
          (1e9 / floor).toFixed(2)
        } CPU s/GB of any OpenSSL-based end goes to encrypting or decrypting.`,
      );
    }
    for (const peer of ["deno", "node"]) {
      ratio(figure, `bulk as client vs ${peer}`, `module → ${peer}`, `${peer} → ${peer}`);
      ratio(figure, `bulk as server vs ${peer}`, `${peer} → module`, `${peer} → ${peer}`);
      ratio(figure, `bulk both ends vs ${peer}`, "module → module", `${peer} → ${peer}`);
    }
    ratio(figure, "bulk as client vs deno, module on OpenSSL 3.5", `${MODULE_35} → deno`, "deno → deno");
    ratio(
      figure,
      "bulk both ends vs deno, module on OpenSSL 3.5",
      `${MODULE_35} → ${MODULE_35}`,
      "deno → deno",
    );
    ratio(figure, "Web Streams vs read/write", "module → module, Web Streams", "module → module");
    ratio(
      figure,
      "BYOB reader vs read/write",
      "module → module, Web Streams, BYOB reader",
      "module → module",
    );
    ratio(
      figure,
      "default reader at the server vs read/write",
      "module → module, Web Streams reader at the server",
      "module → module",
    );
    ratio(
      figure,
      "Deno's own default reader at the server vs its read/write",
      "deno → deno, Web Streams reader at the server",
      "deno → deno",
      false,
    );
  } else {
    for (const peer of ["deno", "node", "openssl s_time → s_server"]) {
      ratio(figure, `${figure.name} vs ${peer.replace(" → s_server", "")}`, "module", peer);
    }
    if (figure.name === "handshakes") {
      ratio(
        figure,
        "client handshakes vs openssl s_time, both to s_server",
        "module client → s_server",
        "openssl s_time → s_server",
      );
    }
  }
  if (figure.name === "handshakes" || figure.name === "resumption") {
    for (const [name, values] of Object.entries(handshakeLatencies)) {
      if ((figure.name === "resumption") !== name.includes("resume")) continue;
      lines.push(
        "",
        `Latency ${name}: p50 ${percentile(values, 0.5).toFixed(2)} ms, p99 ${
          percentile(values, 0.99).toFixed(2)
        } ms.`,
      );
    }
  }
  lines.push("");
}
const markdown = lines.join("\n");
console.log(markdown);

// A bar chart of the ratios: 1.0 is parity.
const barHeight = 22;
// The labels' column fits the longest label (about 6.6 px a character at 12 px), the bars get 380 px.
const labelWidth = Math.max(220, Math.ceil(Math.max(...ratios.map(({ label }) => label.length)) * 6.6) + 12);
const width = labelWidth + 420;
const scale = (value: number) => Math.min(value, 3) / 3 * (width - labelWidth - 40);
const bars = ratios.map(({ label, ratio }, i) => {
  const y = 30 + i * barHeight;
  const colour = ratio >= 1 ? "#2e7d32" : "#c62828";
  return `<text x="0" y="${y + 15}" font-size="12">${label}</text>` +
    `<rect x="${labelWidth}" y="${y + 3}" width="${scale(ratio).toFixed(1)}" height="${
      barHeight - 6
    }" fill="${colour}"/>` +
    `<text x="${(labelWidth + 6 + scale(ratio)).toFixed(1)}" y="${y + 15}" font-size="12">${
      ratio.toFixed(2)
    }x</text>`;
}).join("\n");
const parity = labelWidth + scale(1);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${
  40 + ratios.length * barHeight
}" font-family="sans-serif">
<text x="0" y="16" font-size="14" font-weight="bold">@comm/socket-stream / peer (higher is better; 1.0 = parity)</text>
${bars}
<line x1="${parity}" y1="26" x2="${parity}" y2="${
  30 + ratios.length * barHeight
}" stroke="#555" stroke-dasharray="3,3"/>
</svg>
`;
if (wanted.size === 0) {
  await Deno.writeTextFile(new URL("./results.md", import.meta.url), markdown);
  await Deno.writeTextFile(new URL("./results.svg", import.meta.url), svg);
  // Committed as `deno fmt` leaves them, so `deno task check` stays clean after a run.
  await new Deno.Command(Deno.execPath(), {
    args: [
      "fmt",
      "--quiet",
      ...["./results.md", "./results.svg"].map((name) => new URL(name, import.meta.url).pathname),
    ],
  }).output();
}
