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
import { createSslClientContext, type SslAbstractContext } from "../streams/abstract_context.ts";
import type { OpenTcpStreamOptions } from "../streams/open_tcp_stream.ts";
import { connector } from "./_connector.ts";
import { toGlobalResponse, toUndiciArguments } from "./_convert.ts";

// The module's types that these options refer to (types only: this entry point adds fetch, nothing else).
export type * from "../mod.ts";

/** undici's `Agent` (a `Dispatcher`): pass it as `dispatcher` to undici's `fetch`, `request` or `stream`. */
export type HttpAgent = Agent;

/** Options of `createHttpAgent` and `createFetch`: the TLS of each connection, and the pool. */
export interface HttpAgentOptions
  extends Omit<OpenTcpStreamOptions, "session" | "tlsextHostName" | "readTimeout" | "writeTimeout"> {
  /**
   * The TLS for `https:` origins: a client `SslAbstractContext` (its sessions resume per host when it has
   * `sessionCache`), `true`, a protocol symbol or an `SslCtxPointer`, as `openTcpStream` takes it. The
   * default is a client context of the fetch's own (system trust store, TLS 1.2 and up, ALPN http/1.1,
   * sessions resumed per host), closed with it.
   */
  sslCtx?: OpenTcpStreamOptions["sslCtx"];
  /**
   * Milliseconds a TLS handshake may take.
   * @default {10000}
   */
  handshakeTimeout?: number | null;
  /**
   * Milliseconds an idle connection stays in the pool for reuse.
   * @default {4000}
   */
  keepAliveTimeout?: number;
  /** The most connections per origin (none: no limit). */
  connections?: number;
}

/** A `fetch` over the module's TLS, with a pool to close. */
export interface SslFetch extends AsyncDisposable {
  /** `fetch`: a URL, string or `Request`, and `RequestInit`; resolves with a global `Response`. */
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The undici dispatcher it runs on. */
  readonly dispatcher: HttpAgent;
  /** Closes the pooled connections (and the context it made itself). Idempotent. */
  close(): Promise<void>;
}

/**
 * An undici `Agent` whose connections are the module's: for undici's own `fetch`, `request` or `stream`.
 * Close it when done.
 *
 * @param options the TLS and pool options.
 * @returns the agent; a client context it made itself (no `sslCtx` given) is closed by its `close()` or
 *   `destroy()`. The certificate is checked against each request's host, whatever `tlsextHostName` the
 *   context carries.
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
  const { agent, owned } = makeAgent(options);
  if (owned !== null) {
    // The client context made for the agent ends with it, however close/destroy are called (undici's
    // promise forms call themselves again with a callback).
    for (const method of ["close", "destroy"] as const) {
      const original = (agent[method] as (...args: unknown[]) => unknown).bind(agent);
      Object.assign(agent, {
        [method]: (...args: unknown[]) => {
          const last = args.at(-1);
          if (typeof last !== "function") return original(...args);
          return original(...args.slice(0, -1), (...results: unknown[]) => {
            owned.close();
            return last(...results);
          });
        },
      });
    }
  }
  return agent;
}

function makeAgent(options: HttpAgentOptions): { agent: Agent; owned: SslAbstractContext | null } {
  if (typeof options !== "object" || options === null) throw new TypeError("the options must be an object");
  const { keepAliveTimeout = 4000, connections, sslCtx, handshakeTimeout = 10_000, ...tls } = options;
  for (
    const [name, value] of [["keepAliveTimeout", keepAliveTimeout], ["connections", connections]] as const
  ) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
    }
  }
  const owned = sslCtx === undefined
    ? createSslClientContext({ sessionCache: true, alpnProtocols: ["http/1.1"] })
    : null;
  const agent = new Agent({
    keepAliveTimeout,
    connections: connections ?? null,
    // undici's callback type spells the two outcomes as a union of tuples; the connector calls it as documented.
    connect: connector({
      ...tls,
      sslCtx: owned ?? sslCtx,
      handshakeTimeout,
    }) as unknown as buildConnector.connector,
  });
  return { agent, owned };
}

/**
 * Makes a `fetch` whose TLS is the module's: `const fetch = createFetch({ sslCtx })` and the rest of the code
 * stays as it was. Request and Response are the global ones; redirects, streaming bodies both ways and
 * `AbortSignal` work as in `fetch`. Connections are pooled per origin (keep-alive) until `close()`, and
 * sessions resume per host.
 *
 * A TLS failure rejects with `fetch`'s `TypeError` whose `cause` is the module's typed error
 * (`SslVerificationFailure` with its `verifyCode`, `SslHandshakeTimeout`...). Requests sent back to back may
 * open a second connection before the first is idle again; paced ones reuse it.
 *
 * @param options the TLS of each connection and the pool.
 * @returns the fetch function; `await using` or `close()` ends its connections.
 * @throws {TypeError} or {RangeError} for wrong options.
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
  const { agent, owned } = makeAgent(options);
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= agent.close().finally(() => {
      owned?.close();
    });
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
