/**
 * The connections undici's dispatcher runs HTTP over: `SocketStream`s from `openTcpStream`, TLS with the fetch's
 * options for `https:` and plain for `http:`, both with the same TCP options (connect timeout, signal, nodelay,
 * keepalive), each as the Node `Duplex` undici expects. undici's own `connectTimeout` never reaches a connector
 * of one's own, so the connect timeout is `openTcpStream`'s.
 *
 * Sessions: an `SslAbstractContext` keeps its own per host and port (`sessionCache`), and the connector leaves
 * them to it. The other kinds (`true`, a protocol symbol, an `SslCtxPointer`) keep none, so for them the
 * connector keeps the last session of each host and port and offers it to the next connection there.
 *
 * @module
 */

import { Duplex } from "node:stream";
import { openTcpStream, type OpenTcpStreamOptions } from "../streams/open_tcp_stream.ts";
import type { SocketStream } from "../streams/socket_stream.ts";
import { SslAbstractContext } from "../streams/abstract_context.ts";

/** What undici's `connect` hands a connector (the subset used here). */
export interface ConnectRequest {
  hostname: string;
  host?: string;
  protocol: string;
  port: string | number;
  servername?: string | null;
}

/** undici's connector: calls back with the socket, or the error. */
export type Connector = (
  request: ConnectRequest,
  callback: (error: Error | null, socket: Duplex | null) => void,
) => void;

/** A Duplex over a web stream pair; `close` runs once it is destroyed or ends. */
function duplexOver(
  pair: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  close: () => void,
): Duplex {
  // deno-lint-ignore no-explicit-any
  const duplex = Duplex.fromWeb(pair as any) as Duplex;
  duplex.once("close", close);
  return duplex;
}

function portOf(request: ConnectRequest): number {
  const port = Number(request.port);
  return Number.isInteger(port) && port > 0 ? port : request.protocol === "http:" ? 80 : 443;
}

/** A connector, and the way to end what it has under way. */
export interface ConnectorHandle {
  /** undici's `connect` option. */
  connect: Connector;
  /**
   * Ends every connect and handshake in progress with `reason` (and fails every later one); resolves once
   * each has settled, its socket and SSL closed. Idempotent: later calls keep the first reason.
   */
  end(reason: Error): Promise<void>;
}

/**
 * A connector opening connections with `options` (the `openTcpStream` options: TLS ones for `https:` only, TCP
 * ones for both), and keeping one session per host for a TLS context that keeps none itself.
 *
 * undici gives a connector no request and no signal: a request aborted during its connect leaves the connect
 * running, and undici's `close()` waits for it. So every connect also races a signal of the connector's own,
 * which `end()` aborts (the fetch's `close()` and `destroy()` call it).
 */
export function connector(options: OpenTcpStreamOptions): ConnectorHandle {
  const ending = new AbortController();
  const signal = options.signal === undefined
    ? ending.signal
    : AbortSignal.any([options.signal, ending.signal]);
  const { timeout, nodelay, keepalive } = options;
  const tcp: OpenTcpStreamOptions = { timeout, nodelay, keepalive, signal };
  const sessions = options.sslCtx instanceof SslAbstractContext ? null : new Map<string, Uint8Array>();
  const underWay = new Set<Promise<void>>();
  const connect: Connector = (request, callback) => {
    const port = portOf(request);
    // undici gives IPv6 literals in brackets.
    const hostname = request.hostname.replace(/^\[(.*)\]$/, "$1");
    const key = `${hostname.toLowerCase()} ${port}`;
    const tls = request.protocol === "http:" ? null : {
      ...options,
      signal,
      // The certificate is checked against the URL's host (or the name undici gives), never a name the client
      // context carries: a context's tlsextHostName would vouch for every origin, redirect targets too.
      tlsextHostName: request.servername || hostname,
      ...(sessions?.has(key) ? { session: sessions.get(key) } : {}),
    };
    const opening = openTcpStream(hostname, port, tls ?? tcp);
    opening.then(
      (stream) => {
        // The session is kept once the first bytes of the response are in, by when TLS 1.3 tickets have come.
        const readable = tls === null || sessions === null
          ? stream.readable
          : stream.readable.pipeThrough(firstChunkThen(() => keepSession(stream, key, sessions)));
        callback(null, duplexOver({ readable, writable: stream.writable }, () => closeQuietly(stream)));
      },
      (error) => callback(error, null),
    );
    // Settles after undici has the outcome (the callbacks above run first).
    const settled = opening.then(() => {}, () => {});
    underWay.add(settled);
    settled.then(() => underWay.delete(settled));
  };
  return {
    connect,
    end(reason) {
      ending.abort(reason);
      return Promise.all(underWay).then(() => {});
    },
  };
}

/** A pass-through that runs `then` once, when the first chunk goes by. */
function firstChunkThen(then: () => void): TransformStream<Uint8Array, Uint8Array> {
  let done = false;
  return new TransformStream({
    transform(chunk, controller) {
      if (!done) {
        done = true;
        then();
      }
      controller.enqueue(chunk);
    },
  });
}

// The connection's session, for the next connection to the same host and port.
function keepSession(stream: SocketStream, key: string, sessions: Map<string, Uint8Array>): void {
  try {
    const session = stream.session();
    if (session !== null) {
      sessions.delete(key);
      sessions.set(key, session);
      if (sessions.size > 1000) sessions.delete(sessions.keys().next().value!);
    }
  } catch {
    // Closed already, or never handshaken: nothing to keep.
  }
}

function closeQuietly(closable: { close(): unknown }): void {
  try {
    closable.close();
  } catch {
    // Already closed.
  }
}
