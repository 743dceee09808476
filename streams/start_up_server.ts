/**
 * `startUpServer`: LispWorks' `start-up-server`, a TCP server that hands each
 * accepted connection to a function, with a graceful shutdown.
 *
 * @module
 */

import { describe } from "../ffi/pointers.ts";
import { checkFunction, checkPort, checkSignal, ownOptions } from "../ffi/_option_checks.ts";
import { checkNoNul } from "../ffi/_cstring.ts";
import { checkTimeout, settleWithin } from "./_deadline.ts";
import { AcceptBackoff, acceptedWith, SERVER_HANDSHAKE_TIMEOUT_MS } from "./_server_defaults.ts";
import { streamOwning } from "./socket_stream.ts";

/** Options of `startUpServer`. */
export interface StartUpServerOptions {
  /** Called with each accepted connection; the server counts it open until this settles. */
  function: (conn: Deno.TcpConn) => unknown | Promise<unknown>;
  /** The TCP port (0 picks a free one; `announce` tells which). */
  service: number;
  /**
   * The address to listen on.
   * @default {"0.0.0.0"}
   */
  address?: string;
  /** Called once with the listening address. */
  announce?: (addr: Deno.NetAddr) => void;
  /** Aborting it stops the server gracefully. */
  signal?: AbortSignal;
  /**
   * Milliseconds open connections may finish after the abort before they are cut.
   * @default {5000}
   */
  gracePeriod?: number;
  /**
   * The handshake timeout for TLS over the connections this server accepts, when `createSslSocketStream`,
   * `makeInstance` or `attachSsl` is given none: a client that connects and never finishes its handshake
   * cannot hold a handler forever. `null` for no limit.
   * @default {10000}
   */
  handshakeTimeout?: number | null;
  /**
   * Told when accepting fails (for instance when the process runs out of descriptors); the server pauses
   * (10 ms, doubling up to 1 s) and accepts again.
   */
  onError?: (error: unknown) => void;
}

/** What a stopped server did. */
export interface ServerSummary {
  /** Connections handed to `function`. */
  served: number;
  /** Connections still open when the grace period ended, closed by the server. */
  cut: number;
}

/** How long cut connections' handlers may take to notice before the server resolves anyway. */
const CUT_SETTLE_MS = 2000;

const START_UP_SERVER_KEYS: ReadonlySet<string> = new Set([
  "function",
  "service",
  "address",
  "announce",
  "signal",
  "gracePeriod",
  "handshakeTimeout",
  "onError",
]);

// Tells onError, which must not stop the server by throwing.
function reportQuietly(onError: ((error: unknown) => void) | undefined, error: unknown): void {
  try {
    onError?.(error);
  } catch {
    // The server goes on.
  }
}

// Closes a connection; a TLS stream over it sends close_notify first. Resolves when closed.
function closeQuietly(conn: Deno.Conn): Promise<void> {
  const stream = streamOwning(conn);
  try {
    if (stream) {
      stream.close();
      return stream.closed;
    }
    conn.close();
  } catch {
    // Already closed.
  }
  return Promise.resolve();
}

/**
 * Listens on `address:service` and calls `function` with each accepted
 * connection, LispWorks' `start-up-server`. A connection counts as open until
 * `function` has settled and any `SocketStream` made over it is closed. When
 * `signal` aborts, the server stops accepting, gives open connections
 * `gracePeriod` ms to finish, then closes the rest (a `SocketStream` sends
 * close_notify first) and resolves with what it did. A `function` that throws
 * has its connection closed; the server goes on.
 *
 * @param options the function, the port, and how to stop.
 * @returns once stopped: `{ served, cut }`.
 * @throws {TypeError} or {RangeError} for wrong options; Deno's errors if it cannot listen.
 * @example A TLS echo server until Ctrl-C
 * ```ts
 * import { createSslServerContext, createSslSocketStream, startUpServer } from "@comm/socket-stream";
 *
 * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key" });
 * const stop = new AbortController();
 * Deno.addSignalListener("SIGINT", () => stop.abort());
 * const { served, cut } = await startUpServer({
 *   service: 8443,
 *   signal: stop.signal,
 *   announce: (addr) => console.log(`listening on ${addr.port}`),
 *   function: async (conn) => {
 *     const stream = await createSslSocketStream(conn, context, { errorp: true });
 *     await stream.readable.pipeTo(stream.writable);
 *   },
 * });
 * console.log(served, cut);
 * ```
 */
export async function startUpServer(options: StartUpServerOptions): Promise<ServerSummary> {
  const {
    function: handle,
    service,
    address = "0.0.0.0",
    announce,
    signal,
    gracePeriod = 5000,
    handshakeTimeout = SERVER_HANDSHAKE_TIMEOUT_MS,
    onError,
  } = ownOptions("startUpServer", options, START_UP_SERVER_KEYS);
  checkSignal("signal", signal);
  if (typeof address !== "string" || address === "") {
    throw new TypeError(`startUpServer: address must be a non-empty string, got ${describe(address)}`);
  }
  checkNoNul(address, "startUpServer's address");
  if (typeof handle !== "function") {
    throw new TypeError(`startUpServer needs function, got ${describe(handle)}`);
  }
  checkPort("startUpServer", "service", service);
  checkTimeout("gracePeriod", gracePeriod);
  const handshakeMs = checkTimeout("handshakeTimeout", handshakeTimeout) ?? null;
  checkFunction("announce", announce);
  checkFunction("onError", onError);
  signal?.throwIfAborted();
  const listener = Deno.listen({ hostname: address, port: service, transport: "tcp" });
  let stopped!: () => void;
  const stopping = new Promise<void>((resolve) => stopped = resolve);
  const stop = () => {
    stopped();
    listener.close();
  };
  signal?.addEventListener("abort", stop, { once: true });
  const backoff = new AcceptBackoff();
  const open = new Map<Deno.TcpConn, Promise<void>>();
  let served = 0;
  try {
    announce?.(listener.addr);
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (signal?.aborted || error instanceof Deno.errors.BadResource) break;
        // A failed accept (too many files, a reset in the backlog) does not stop the server: it is reported,
        // and the server pauses before it accepts again.
        reportQuietly(onError, error);
        await backoff.failed(stopping);
        continue;
      }
      backoff.succeeded();
      acceptedWith(conn, handshakeMs);
      served++;
      // Open until the function has settled and a SocketStream made over the connection is closed.
      const done = (async () => {
        try {
          await handle(conn);
        } catch {
          await closeQuietly(conn);
        }
        await streamOwning(conn)?.closed;
      })();
      open.set(conn, done);
      done.finally(() => open.delete(conn));
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    try {
      listener.close();
    } catch {
      // Closed by the abort.
    }
  }
  await settleWithin(Promise.allSettled(open.values()), gracePeriod);
  const cut = open.size;
  const closing = [...open.keys()].map(closeQuietly);
  await Promise.allSettled(closing);
  await settleWithin(Promise.allSettled(open.values()), CUT_SETTLE_MS);
  return { served, cut };
}
