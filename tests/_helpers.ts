/**
 * Shared test helpers: fixtures, real TLS peers as child processes, loopback
 * listeners, and the leak check.
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeInstance, type SocketStream, type SocketStreamInit, type SslCtxPointer } from "../mod.ts";
import {
  CRYPTO_EX_INDEX_SSL,
  CRYPTO_EX_INDEX_SSL_CTX,
  liveNativeObjects,
  loadOpenssl,
  SSL_FILETYPE_PEM,
} from "../ffi/mod.ts";

/**
 * The backstop for waits without a bound of their own: every test in a file that imports these helpers fails,
 * with its name, once it has run this long, instead of holding the run until CI's limit. Waits that can hang
 * have their own, tighter bounds (`within`, `rejection`), which name what they waited for. (Deno then reports
 * each test at this file's line; the name, and the stack of a failure, point into the test's own file.)
 */
const TEST_LIMIT_MS = 180_000;

{
  type TestFn = (t: Deno.TestContext) => void | Promise<void>;
  const register = Deno.test as unknown as (...args: unknown[]) => void;
  const bound = (name: string, fn: TestFn): TestFn => (t) =>
    within(Promise.resolve(fn(t)), TEST_LIMIT_MS, `the test "${name}" to finish (a wait in it has no bound)`);
  (Deno as unknown as { test: unknown }).test = (...args: unknown[]) => {
    const fnAt = args.findIndex((arg) => typeof arg === "function");
    const options = args.find((arg) => typeof arg === "object" && arg !== null) as
      | { name?: string; fn?: TestFn }
      | undefined;
    const name = typeof args[0] === "string" ? args[0] : options?.name ?? "unnamed";
    if (fnAt >= 0) args[fnAt] = bound(name, args[fnAt] as TestFn);
    else if (options?.fn) args[args.indexOf(options)] = { ...options, fn: bound(name, options.fn) };
    return register(...args);
  };
}

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** The absolute path of a file in tests/fixtures. */
export function fixture(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

function cPath(path: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${path}\0`);
}

/** A certificate chain and its key from tests/fixtures, as context options: `...identity("client")`. */
export function identity(name: string): { certFile: string; keyFile: string } {
  return { certFile: fixture(`${name}.pem`), keyFile: fixture(`${name}.key`) };
}

/** Loads a certificate chain and key into a context (for ctxConfigureCallback). */
export function useCertificate(ctx: SslCtxPointer, name = "server"): void {
  const { libssl } = loadOpenssl();
  assert.equal(libssl.SSL_CTX_use_certificate_chain_file(ctx.pointer, cPath(fixture(`${name}.pem`))), 1);
  assert.equal(
    libssl.SSL_CTX_use_PrivateKey_file(ctx.pointer, cPath(fixture(`${name}.key`)), SSL_FILETYPE_PEM),
    1,
  );
}

/** Trusts the test CA on a context (instead of SSL_CERT_FILE). */
export function trustTestCa(ctx: SslCtxPointer, name = "ca"): void {
  const { libssl } = loadOpenssl();
  assert.equal(libssl.SSL_CTX_load_verify_locations(ctx.pointer, cPath(fixture(`${name}.pem`)), null), 1);
}

/** Runs `body` with SSL_CERT_FILE pointing at the test CA, then restores it. */
export async function withTestCaAsSystemStore<T>(body: () => Promise<T>, name = "ca"): Promise<T> {
  const previous = Deno.env.get("SSL_CERT_FILE");
  Deno.env.set("SSL_CERT_FILE", fixture(`${name}.pem`));
  try {
    return await body();
  } finally {
    if (previous === undefined) Deno.env.delete("SSL_CERT_FILE");
    else Deno.env.set("SSL_CERT_FILE", previous);
  }
}

/**
 * Asserts that two byte arrays hold the same bytes: the count, then the first difference. (node:assert's
 * deepEqual diffs failing arrays element by element: gigabytes of memory for a few hundred KiB.)
 */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = "bytes"): void {
  assert.equal(actual.length, expected.length, `${what}: byte count`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: first difference at byte ${i} (${actual[i]}, not ${expected[i]})`);
    }
  }
}

/** Asserts that every SSL and SSL_CTX the module made has been freed. */
export function assertNoLiveObjects(): void {
  assert.deepEqual(liveNativeObjects(), { sslCtx: 0, ssl: 0 });
}

/** A loopback listener on a free port. */
export function listenLoopback(): { listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>; port: number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return { listener, port: listener.addr.port };
}

/** A port that was free a moment ago (for peers that cannot report theirs). */
export function freePort(): number {
  const { listener, port } = listenLoopback();
  listener.close();
  return port;
}

/** Waits until something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** A child process peer, killed and awaited on dispose. */
export class Peer implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly #stdout: ReadableStreamDefaultReader<string>;
  #output = "";
  #stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor(command: string, args: string[], env: Record<string, string> = {}) {
    this.process = new Deno.Command(command, {
      args,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdout = this.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stdin = this.process.stdin.getWriter();
    this.process.stderr.pipeTo(
      new WritableStream({ write: (chunk) => void (this.#output += decoder.decode(chunk)) }),
    )
      .catch(() => {});
  }

  /** Everything the peer printed so far (stdout and stderr). */
  get output(): string {
    return this.#output;
  }

  /** Reads stdout until `pattern` matches; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const match = this.#output.match(pattern);
      if (match) return match;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`peer did not print ${pattern}; it printed:\n${this.#output}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        this.#stdout.read(),
        new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), left)),
      ]);
      clearTimeout(timer);
      if (chunk === null) continue;
      if (chunk.done) {
        const final = this.#output.match(pattern);
        if (final) return final;
        throw new Error(`peer exited before printing ${pattern}; it printed:\n${this.#output}`);
      }
      this.#output += chunk.value;
    }
  }

  /** Writes to the peer's stdin. */
  async send(text: string): Promise<void> {
    await this.#stdin.write(encoder.encode(text));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.#stdin.close().catch(() => {});
    await this.process.status;
    // Drain what is left so no read stays pending.
    for (;;) {
      const chunk = await this.#stdout.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) break;
      this.#output += chunk.value;
    }
  }
}

/** Starts `openssl s_server` on a free loopback port; resolves once it accepts. */
export async function startOpensslServer(
  extraArgs: string[] = [],
  cert = "server",
): Promise<{ peer: Peer; port: number }> {
  const peer = new Peer("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    fixture(`${cert}.pem`),
    "-key",
    fixture(`${cert}.key`),
    "-naccept",
    "1",
    ...extraArgs,
  ]);
  const [, port] = await peer.waitFor(/ACCEPT [^\n]*:(\d+)/);
  return { peer, port: Number(port) };
}

/** Reads from `stream` until `expected` bytes came or it ended. */
export async function readBytes(
  stream: { read(p: Uint8Array): Promise<number | null> },
  expected: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(expected);
  let filled = 0;
  while (filled < expected) {
    const count = await stream.read(out.subarray(filled));
    if (count === null) break;
    filled += count;
  }
  return out.subarray(0, filled);
}

/** Reads until `text` has appeared, or the stream ended. */
export async function readUntil(
  stream: { read(p: Uint8Array): Promise<number | null> },
  text: string,
): Promise<string> {
  let seen = "";
  const buffer = new Uint8Array(4096);
  while (!seen.includes(text)) {
    const count = await stream.read(buffer);
    if (count === null) break;
    seen += decoder.decode(buffer.subarray(0, count));
  }
  return seen;
}

/** Reads everything until the end of the stream. */
export async function readAll(stream: { read(p: Uint8Array): Promise<number | null> }): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const count = await stream.read(buffer);
    if (count === null) break;
    parts.push(buffer.slice(0, count));
  }
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** SHA-256 of the bytes, as hex. */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A deterministic pseudo-random generator (xorshift32) of unsigned 32-bit numbers. */
export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** Deterministic pseudo-random bytes, so failures repeat. */
export function patternBytes(length: number, seed = 0x9e3779b9): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  const random = xorshift(seed);
  for (let i = 0; i < length; i++) out[i] = random() & 0xff;
  return out;
}

/** Two connected loopback TCP connections: [client end, server end]. */
export async function loopbackPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const { listener, port } = listenLoopback();
  try {
    const [client, server] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port }),
      listener.accept(),
    ]);
    return [client, server];
  } finally {
    listener.close();
  }
}

/**
 * Watches OpenSSL make and free SSL_CTX and SSL objects, through ex_data new and free callbacks that OpenSSL
 * itself calls from SSL_CTX_new / SSL_new and SSL_CTX_free / SSL_free: a count that does not trust the
 * module's own bookkeeping.
 */
export class FreeWatcher implements Disposable {
  readonly freedCtx: bigint[] = [];
  readonly freedSsl: bigint[] = [];
  /** Objects made while watched and not freed yet, by kind. */
  readonly live = { ctx: new Set<bigint>(), ssl: new Set<bigint>() };
  readonly #callbacks: { close(): void }[] = [];
  readonly #indexes: [number, number][] = [];

  constructor() {
    const { libcrypto } = loadOpenssl();
    for (
      const [classIndex, freed, live] of [
        [CRYPTO_EX_INDEX_SSL_CTX, this.freedCtx, this.live.ctx],
        [CRYPTO_EX_INDEX_SSL, this.freedSsl, this.live.ssl],
      ] as const
    ) {
      // void new_func / free_func(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
      const definition = {
        parameters: ["pointer", "pointer", "pointer", "i32", "i64", "pointer"],
        result: "void",
      } as const;
      const made = new Deno.UnsafeCallback(definition, (parent) => {
        live.add(Deno.UnsafePointer.value(parent));
      });
      const gone = new Deno.UnsafeCallback(definition, (parent) => {
        const address = Deno.UnsafePointer.value(parent);
        freed.push(address);
        live.delete(address);
      });
      const index = libcrypto.CRYPTO_get_ex_new_index(classIndex, 0n, null, made.pointer, null, gone.pointer);
      assert.ok(index >= 0);
      this.#callbacks.push(made, gone);
      this.#indexes.push([classIndex, index]);
    }
  }

  /** Whether OpenSSL freed the object at `pointer` while watched. */
  sawFreed(address: bigint, kind: "ctx" | "ssl"): boolean {
    return (kind === "ctx" ? this.freedCtx : this.freedSsl).includes(address);
  }

  /** Asserts that OpenSSL freed every SSL and SSL_CTX made while watched, and the module agrees. */
  assertAllFreed(): void {
    assert.deepEqual(
      { sslCtx: this.live.ctx.size, ssl: this.live.ssl.size },
      { sslCtx: 0, ssl: 0 },
      "OpenSSL still holds SSL / SSL_CTX objects made during the test",
    );
    assertNoLiveObjects();
  }

  [Symbol.dispose](): void {
    const { libcrypto } = loadOpenssl();
    for (const [classIndex, index] of this.#indexes) libcrypto.CRYPTO_free_ex_index(classIndex, index);
    for (const callback of this.#callbacks) callback.close();
  }
}

/** The address of a live wrapper's object, to compare after it is freed. */
export function addressOf(wrapper: { pointer: Deno.PointerObject }): bigint {
  return Deno.UnsafePointer.value(wrapper.pointer);
}

/** Options of `tlsPair`: extra initargs per side, and a way to wrap each side's connection. */
export interface TlsPairOptions {
  client?: Omit<SocketStreamInit, "socket">;
  server?: Omit<SocketStreamInit, "socket">;
  wrapClient?: (conn: Deno.TcpConn) => Deno.Conn;
  wrapServer?: (conn: Deno.TcpConn) => Deno.Conn;
}

/** A module client and a module server, handshaken over loopback: [client, server]. */
export async function tlsPair(options: TlsPairOptions = {}): Promise<[SocketStream, SocketStream]> {
  const [clientConn, serverConn] = await loopbackPair();
  return await Promise.all([
    makeInstance("socket-stream", {
      socket: options.wrapClient?.(clientConn) ?? clientConn,
      sslCtx: true,
      sslSide: "client",
      tlsextHostName: "localhost",
      ctxConfigureCallback: trustTestCa,
      ...options.client,
    }),
    makeInstance("socket-stream", {
      socket: options.wrapServer?.(serverConn) ?? serverConn,
      sslCtx: true,
      ctxConfigureCallback: (ctx) => useCertificate(ctx),
      ...options.server,
    }),
  ]);
}

/** A connection whose `read` and `write` go through the given hooks (a scripted transport). */
export function wrapConn(
  conn: Deno.TcpConn,
  hooks: { read?: (p: Uint8Array) => Promise<number | null>; write?: (p: Uint8Array) => Promise<number> },
): Deno.Conn {
  const wrapped = Object.create(conn) as Deno.Conn;
  wrapped.read = hooks.read ?? ((p) => conn.read(p));
  wrapped.write = hooks.write ?? ((p) => conn.write(p));
  wrapped.close = () => conn.close();
  wrapped.closeWrite = () => conn.closeWrite();
  return wrapped;
}

/** The text of a fixture file. */
export function fixtureText(name: string): string {
  return Deno.readTextFileSync(fixture(name));
}

/** Context options that trust the test CA (spread into createSslClientContext / createSslServerContext). */
export const trustCa = { ca: fixtureText("ca.pem") };

/**
 * A one-connection module server with the given sslCtx (and other initargs);
 * `served` resolves to the server's stream or the error that ended its handshake.
 */
export function serveOnce(
  sslCtx: SocketStreamInit["sslCtx"],
  init: Omit<SocketStreamInit, "socket" | "sslCtx"> = {},
): {
  port: number;
  served: Promise<SocketStream | Error>;
  [Symbol.asyncDispose](): Promise<void>;
} {
  const { listener, port } = listenLoopback();
  const served = listener.accept().then((socket) =>
    makeInstance("socket-stream", { ...init, socket, sslCtx })
  )
    .catch((error) => error as Error);
  return {
    port,
    served,
    async [Symbol.asyncDispose]() {
      listener.close();
      const result = await served;
      if (!(result instanceof Error)) await result[Symbol.asyncDispose]();
    },
  };
}

/** `serveOnce` with a context made from `true` that presents the fixture certificate `name`. */
export function serveCertificate(name = "server"): ReturnType<typeof serveOnce> {
  return serveOnce(true, { ctxConfigureCallback: (ctx) => useCertificate(ctx, name) });
}

/** Reads one chunk and writes it back. */
export async function echoOnce(stream: SocketStream): Promise<void> {
  const buffer = new Uint8Array(256);
  const count = await stream.read(buffer);
  if (count !== null) await stream.write(buffer.subarray(0, count));
}

/** Writes `text` and reads as many bytes back. */
export async function roundTrip(stream: SocketStream, text: string): Promise<string> {
  await stream.write(encoder.encode(text));
  return decoder.decode(await readBytes(stream, encoder.encode(text).length));
}

/** Starts `gnutls-serv --echo` with the fixture certificate `cert` on a free port; resolves once it accepts. */
export async function startGnutlsServer(
  extraArgs: string[] = [],
  cert = "server",
): Promise<{ peer: Peer; port: number }> {
  const port = freePort();
  const peer = new Peer("gnutls-serv", [
    "--echo",
    "--port",
    String(port),
    "--x509certfile",
    fixture(`${cert}.pem`),
    "--x509keyfile",
    fixture(`${cert}.key`),
    ...extraArgs,
  ]);
  await waitForPort(port);
  return { peer, port };
}

/** Writes every byte: a `Deno.Conn` may take fewer than it is given. */
export async function writeAll(
  stream: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await stream.write(bytes.subarray(offset));
}

/** Starts stunnel4 with `config` (one or more services); resolves once it says its configuration loaded. */
export async function startStunnel(config: string): Promise<AsyncDisposable & { log(): string }> {
  const directory = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${directory}/stunnel.conf`,
    `foreground = yes\npid =\ndebug = 5\noutput = ${directory}/stunnel.log\n${config}`,
  );
  const peer = new Peer("stunnel4", [`${directory}/stunnel.conf`]);
  const log = () => {
    try {
      return Deno.readTextFileSync(`${directory}/stunnel.log`);
    } catch {
      return "";
    }
  };
  // No probe connection: stunnel would forward it to the service behind it.
  for (let waited = 0; !/Configuration successful/.test(log()) && waited < 5000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    log,
    async [Symbol.asyncDispose]() {
      await peer[Symbol.asyncDispose]();
      await Deno.remove(directory, { recursive: true });
    },
  };
}

/** Connects to a loopback port once it accepts, retrying a refused connect. */
export async function connectWhenListening(port: number): Promise<Deno.TcpConn> {
  for (let tries = 0;; tries++) {
    try {
      return await Deno.connect({ hostname: "127.0.0.1", port });
    } catch (error) {
      if (tries > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A plain TCP echo server on loopback (for stunnel to forward to). */
export function plainEcho(): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn.readable.pipeTo(conn.writable).catch(() => {}));
  })();
  return {
    port: listener.addr.port,
    close: async () => {
      listener.close();
      await accepting.catch(() => {});
      await Promise.allSettled(conns);
    },
  };
}

/** `promise`, or a failure naming `what` after `ms`: every wait in a test is bounded. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error `promise` rejects with (a failure naming `what` if it resolves, or takes longer than `ms`). */
export async function rejection(promise: Promise<unknown>, ms: number, what: string): Promise<Error> {
  try {
    await within(promise, ms, what);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("timed out after")) throw error;
    return error as Error;
  }
  throw new Error(`${what} succeeded; it should have failed`);
}

/** Runs `openssl s_client` to the port with `args`; resolves with what it printed once it exits. */
export async function runSClient(
  port: number,
  args: string[],
  input = "",
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", fixture("ca.pem"), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(input));
  await writer.close();
  const { code, stdout, stderr } = await within(child.output(), 10_000, `openssl s_client ${args.join(" ")}`);
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** nginx on a free port with the fixture server certificate, and `block` inside its TLS server block. */
export async function startNginx(
  block: (port: number, directory: string) => string,
): Promise<AsyncDisposable & { origin: string }> {
  const directory = await Deno.makeTempDir();
  const port = freePort();
  await Deno.writeTextFile(
    `${directory}/nginx.conf`,
    `daemon off;
master_process off;
worker_processes 1;
pid ${directory}/nginx.pid;
error_log ${directory}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${directory};
  proxy_temp_path ${directory};
  fastcgi_temp_path ${directory};
  uwsgi_temp_path ${directory};
  scgi_temp_path ${directory};
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${fixture("server.pem")};
    ssl_certificate_key ${fixture("server.key")};
${block(port, directory)}
  }
}
`,
  );
  const peer = new Peer("nginx", [
    "-c",
    `${directory}/nginx.conf`,
    "-p",
    directory,
    "-e",
    `${directory}/error.log`,
  ]);
  await waitForPort(port);
  return {
    origin: `https://localhost:${port}`,
    async [Symbol.asyncDispose]() {
      await peer[Symbol.asyncDispose]();
      await Deno.remove(directory, { recursive: true });
    },
  };
}
