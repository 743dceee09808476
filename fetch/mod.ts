/**
 * HTTPS through the module's OpenSSL: `createFetch` makes a function with `fetch`'s signature whose TLS
 * connections are `SocketStream`s made from the context you give (client certificates with encrypted keys,
 * TLS 1.0 appliances, pins, key logs: whatever a context can do), and `createHttpAgent` the undici
 * dispatcher behind it. HTTP itself is undici's (npm, pinned), never written here.
 *
 * @example
 * ```ts
 * import { createSslClientContext } from "@comm/socket-stream";
 * import { createFetch } from "@comm/socket-stream/fetch";
 *
 * using context = createSslClientContext({ certFile: "client.pem", keyFile: "client.key", password: "secret" });
 * await using fetch = createFetch({ sslCtx: context });
 * const response = await fetch("https://api.internal.example/status");
 * console.log(response.status, await response.text());
 * ```
 *
 * @module
 */

import { Agent, type buildConnector, fetch as undiciFetch } from "undici";
import { createSslClientContext } from "../streams/abstract_context.ts";
import type { OpenTcpStreamOptions } from "../streams/open_tcp_stream.ts";
import { connector } from "./_connector.ts";
import { checkAgentOptions } from "./_options.ts";
import type { SslAbstractContext, SslCtxPointer, SslProtocol } from "../mod.ts";
import { toGlobalResponse, toUndiciArguments } from "./_convert.ts";

// The module's types that these options refer to (types only: this entry point adds fetch, nothing else).
export type * from "../mod.ts";

/**
 * undici's `Agent` (a `Dispatcher`), as `createHttpAgent` makes it: pass it as `dispatcher` to undici's `fetch`,
 * `request` or `stream`, and close it when done.
 *
 * @example Streaming a download with undici's `stream`
 * ```ts
 * import { createHttpAgent, type HttpAgent } from "@comm/socket-stream/fetch";
 * import { stream } from "npm:undici@7.16.0";
 * import { Writable } from "node:stream";
 *
 * const agent: HttpAgent = createHttpAgent();
 * let bytes = 0;
 * await stream("https://example.com/", { method: "GET", dispatcher: agent }, () =>
 *   new Writable({
 *     write(chunk: Uint8Array, _encoding, done) {
 *       bytes += chunk.length;
 *       done();
 *     },
 *   }));
 * console.log(bytes);
 * await agent.close();
 * ```
 */
export type HttpAgent = Agent;

/**
 * Options of `createHttpAgent` and `createFetch`: the TLS of each `https:` connection, the TCP of every
 * connection (`timeout`, `signal`, `nodelay`, `keepalive` apply to `http:` and `https:` alike), and the pool.
 *
 * @example A private CA, tight timeouts, a pool of four per origin
 * ```ts
 * import { createSslClientContext } from "@comm/socket-stream";
 * import { createFetch, type HttpAgentOptions } from "@comm/socket-stream/fetch";
 *
 * using context = createSslClientContext({ ca: "-----BEGIN CERTIFICATE-----...", sessionCache: true });
 * const shutdown = new AbortController();
 * const options: HttpAgentOptions = {
 *   sslCtx: context,
 *   timeout: 2_000, // the TCP connect
 *   handshakeTimeout: 5_000, // the TLS handshake
 *   signal: shutdown.signal, // ends connects and handshakes in progress, refuses later ones
 *   keepalive: true,
 *   keepAliveTimeout: 30_000,
 *   connections: 4,
 * };
 * await using fetch = createFetch(options);
 * console.log((await fetch("https://internal.example/health")).status);
 * ```
 */
export interface HttpAgentOptions extends
  Omit<
    OpenTcpStreamOptions,
    "session" | "tlsextHostName" | "readTimeout" | "writeTimeout" | "timeout" | "signal"
  > {
  /**
   * The TLS for `https:` origins: a client `SslAbstractContext` (its sessions resume per host when it has
   * `sessionCache`), `true`, a protocol symbol or an `SslCtxPointer`, as `openTcpStream` takes it. The
   * default is a client context of the fetch's own (system trust store, TLS 1.2 and up, ALPN http/1.1,
   * sessions resumed per host), closed with it. Not an `SslPointer` (one connection's SSL) nor `null`.
   */
  sslCtx?: SslProtocol | SslCtxPointer | SslAbstractContext;
  /**
   * Milliseconds the TCP connect may take, for `http:` and `https:` alike (undici's own `connectTimeout` does
   * not apply to this agent's connections); on expiry the request fails, `fetch` rejecting with a `TypeError`
   * whose `cause` is `Deno.errors.TimedOut`. `null` for no limit.
   * @default {10000}
   */
  timeout?: number | null;
  /**
   * Milliseconds a TLS handshake may take (after the connect); on expiry the `cause` is `SslHandshakeTimeout`.
   * `null` for no limit.
   * @default {10000}
   */
  handshakeTimeout?: number | null;
  /**
   * Aborting it ends every connect and handshake of the agent in progress and fails each later one with the
   * signal's reason: `fetch`'s `TypeError` has it as `cause`, or, for an `AbortError`, as the `cause` of the
   * "Request was cancelled." `DOMException` undici puts there. A request's own signal is `RequestInit.signal`.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds an idle connection stays in the pool for reuse.
   * @default {4000}
   */
  keepAliveTimeout?: number;
  /** The most connections per origin (none: no limit). */
  connections?: number;
}

/**
 * A `fetch` over the module's TLS, as `createFetch` makes it, with a pool to close.
 *
 * @example Handing it to code that takes a `fetch`
 * ```ts
 * import { createFetch, type SslFetch } from "@comm/socket-stream/fetch";
 *
 * async function status(fetch: typeof globalThis.fetch, url: string): Promise<number> {
 *   const response = await fetch(url);
 *   await response.body?.cancel();
 *   return response.status;
 * }
 *
 * const fetch: SslFetch = createFetch(); // the system trust store, TLS 1.2 and up
 * try {
 *   console.log(await status(fetch, "https://example.com/"));
 * } finally {
 *   await fetch.close();
 * }
 * ```
 */
export interface SslFetch extends AsyncDisposable {
  /** `fetch`: a URL, string or `Request`, and `RequestInit`; resolves with a global `Response`. */
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The undici dispatcher it runs on. */
  readonly dispatcher: HttpAgent;
  /**
   * Closes the fetch: requests already sent finish (it resolves after them), connects and TLS handshakes
   * still in progress are ended (a request waiting for one fails, its `cause` a `Deno.errors.Interrupted`),
   * then the pooled connections are closed, and the context it made itself. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * An undici `Agent` whose connections are the module's: for undici's own `fetch`, `request` or `stream`.
 * Close it when done.
 *
 * @param options the TLS and pool options.
 * @returns the agent; its `close()` and `destroy()` also end the connects and handshakes in progress (as
 *   `SslFetch.close` says), and close a client context it made itself (no `sslCtx` given). The certificate is
 *   checked against each request's host, whatever `tlsextHostName` the context carries.
 * @throws {TypeError} or {RangeError} for wrong options, as `createFetch`.
 * @example
 * ```ts
 * import { createHttpAgent } from "@comm/socket-stream/fetch";
 * import { request } from "npm:undici@7.16.0";
 *
 * const agent = createHttpAgent({ sslCtx: "tls-v1" }); // a TLS 1.0 appliance
 * const { statusCode } = await request("https://printer.local/", { dispatcher: agent });
 * await agent.close();
 * ```
 */
export function createHttpAgent(options: HttpAgentOptions = {}): HttpAgent {
  return makeAgent(options, "createHttpAgent");
}

function makeAgent(options: HttpAgentOptions, caller: "createFetch" | "createHttpAgent"): Agent {
  // Checked here, not at each connect: a wrong value fails createFetch, not every request.
  const { keepAliveTimeout, connections, sslCtx, ...tcpAndTls } = checkAgentOptions(options, caller);
  const owned = sslCtx === undefined
    ? createSslClientContext({ sessionCache: true, alpnProtocols: ["http/1.1"] })
    : null;
  const { connect, end } = connector({ ...tcpAndTls, sslCtx: owned ?? sslCtx });
  const agent = new Agent({
    keepAliveTimeout,
    connections,
    // undici's callback type spells the two outcomes as a union of tuples; the connector calls it as documented.
    connect: connect as unknown as buildConnector.connector,
  });
  // close() and destroy() first tell undici (which then takes no new request and, for close(), lets the
  // requests already sent finish), then end the connects and handshakes still under way: undici would wait for
  // them, even for one whose request was aborted, as long as the connect timeout (for ever with `null`). They
  // call back once undici is done and those have settled, after closing the client context made for the agent.
  // undici's promise forms call themselves again with a callback, which is where this happens.
  let ended: Promise<void> | undefined;
  const endConnects = () =>
    ended ??= end(new Deno.errors.Interrupted("The connection was not made: the fetch was closed"));
  for (const method of ["close", "destroy"] as const) {
    const original = (agent[method] as (...args: unknown[]) => unknown).bind(agent);
    Object.assign(agent, {
      [method]: (...args: unknown[]) => {
        const last = args.at(-1);
        if (typeof last !== "function") return original(...args);
        const result = original(...args.slice(0, -1), (...results: unknown[]) => {
          endConnects().then(() => {
            // The caller hears back even if closing the agent's own context fails. (A callback that throws
            // fails as it would from undici itself: uncaught.)
            try {
              owned?.close();
            } finally {
              last(...results);
            }
          });
        });
        endConnects();
        return result;
      },
    });
  }
  return agent;
}

/**
 * Makes a `fetch` whose TLS is the module's: `const fetch = createFetch({ sslCtx })` and the rest of the code
 * stays as it was. Request and Response are the global ones; redirects, streaming bodies both ways and
 * `AbortSignal` work as in `fetch`. Connections are pooled per origin (keep-alive) until `close()`, and
 * sessions resume per host.
 *
 * A TLS failure rejects with `fetch`'s `TypeError` whose `cause` is the module's typed error
 * (`SslVerificationFailure` with its `verifyCode`, `SslHandshakeTimeout`...), a connect that takes longer than
 * `timeout` (10 s unless given, `http:` and `https:` alike) with `Deno.errors.TimedOut` as the `cause`.
 * Requests sent back to back may open a second connection before the first is idle again; paced ones reuse it.
 *
 * @param options the TLS of each connection and the pool.
 * @returns the fetch function; `await using` or `close()` ends its connections.
 * @throws {TypeError} for an option of the wrong type (each is checked here, not at the first request), or
 *   an `openTcpStream` option a fetch does not take (`tlsextHostName`, `session`, `readTimeout`,
 *   `writeTimeout`).
 * @throws {RangeError} for a timeout, `keepAliveTimeout` or `connections` out of range.
 * @throws {SslCondition} for `sslCtx: "v2"` or `"v3"`, which OpenSSL 3 lacks.
 * @example mTLS with an encrypted key
 * ```ts
 * import { createSslClientContext } from "@comm/socket-stream";
 * import { createFetch } from "@comm/socket-stream/fetch";
 *
 * using context = createSslClientContext({ cert: "...", key: "...", password: "secret", ca: "..." });
 * await using fetch = createFetch({ sslCtx: context });
 * const response = await fetch("https://localhost:8443/", { method: "POST", body: "hello" });
 * ```
 */
export function createFetch(options: HttpAgentOptions = {}): SslFetch {
  const agent = makeAgent(options, "createFetch");
  let closing: Promise<void> | undefined;
  const close = () => closing ??= agent.close();
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (closing !== undefined) throw new TypeError("fetch failed: this fetch was closed");
    const [url, undiciInit, signal] = toUndiciArguments(input, init);
    const response = await undiciFetch(url, { ...undiciInit, dispatcher: agent });
    return toGlobalResponse(response, signal);
  };
  return Object.assign(fetch, {
    dispatcher: agent,
    close,
    [Symbol.asyncDispose]: close,
  });
}
