/**
 * The options of `createFetch` and `createHttpAgent`, checked when the fetch or agent is made: a wrong value
 * fails that call, with the option's name and what it got, instead of every request later (or only the
 * `https:` ones). The checks are the module's own where it has them (`checkTimeout`, the protocol symbols).
 *
 * @module
 */

import { checkProtocolAndSide, methodSideOf, type SslProtocol } from "../ffi/ssl_ctx.ts";
import { SslCtxPointer, SslPointer } from "../ffi/pointers.ts";
import { SslAbstractContext } from "../streams/abstract_context.ts";
import { checkTimeout, MAX_TIMEOUT_MS } from "../streams/_deadline.ts";
import { checkBoolean, checkFunction, checkInteger, checkSignal, ownOptions } from "../ffi/_option_checks.ts";

/** What `sslCtx` may be for a fetch: every kind `openTcpStream` takes that can open more than one connection. */
export type FetchSslCtx = SslProtocol | SslCtxPointer | SslAbstractContext;

/** The options once checked: the connector's, and the pool's. */
export interface CheckedOptions {
  /** `undefined`: the fetch makes its own client context. */
  sslCtx: FetchSslCtx | undefined;
  ctxConfigureCallback: ((ctx: SslCtxPointer) => void) | undefined;
  sslConfigureCallback: ((ssl: SslPointer) => void) | undefined;
  timeout: number | undefined;
  handshakeTimeout: number | null;
  signal: AbortSignal | undefined;
  nodelay: boolean | undefined;
  keepalive: boolean | undefined;
  keepAliveTimeout: number;
  connections: number | null;
}

/** The connect and handshake timeouts when none is given: undici's own connect timeout. */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * `openTcpStream` options a fetch does not take, and why: honoured for `https:` only (or for every host at
 * once), they would do something else than asked.
 */
const NOT_OPTIONS: Record<string, string> = {
  tlsextHostName: "each certificate is checked against its URL's host",
  session: "sessions resume per host by themselves",
  readTimeout: "undici times its requests itself",
  writeTimeout: "undici times its requests itself",
};

/** Every option a fetch takes (HttpAgentOptions). */
const FETCH_OPTIONS = new Set([
  ...Object.keys(NOT_OPTIONS),
  "sslCtx",
  "ctxConfigureCallback",
  "sslConfigureCallback",
  "timeout",
  "handshakeTimeout",
  "signal",
  "nodelay",
  "keepalive",
  "keepAliveTimeout",
  "connections",
]);

/** A positive integer no larger than `max` (`undefined` gives `fallback`). */
function checkCount(name: string, value: unknown, fallback: number | null, max: number): number | null {
  return value === undefined ? fallback : checkInteger(name, value, 1, max);
}

function checkSslCtx(value: unknown): FetchSslCtx | undefined {
  if (value === undefined) return undefined;
  if (value === null || value instanceof SslPointer) {
    throw new TypeError(
      `sslCtx must be a client SslAbstractContext, an SslCtxPointer or a protocol symbol (a fetch opens many ` +
        `TLS connections; leave it out for the default), got ${value === null ? "null" : "an SslPointer"}`,
    );
  }
  if (value instanceof SslAbstractContext) {
    if (value.side !== "client") {
      throw new TypeError(
        `sslCtx must be a client SslAbstractContext, got a ${value.side} SslAbstractContext`,
      );
    }
    if (value.closed) throw new TypeError("sslCtx is an SslAbstractContext that was closed");
    return value;
  }
  if (value instanceof SslCtxPointer) {
    if (value.freed) throw new TypeError("sslCtx is an SslCtxPointer that was freed");
    // A context made with TLS_server_method cannot connect: every request would fail later.
    if (methodSideOf(value) === "server") {
      throw new TypeError('sslCtx is an SslCtxPointer made for sslSide "server": it cannot connect');
    }
    return value;
  }
  // The module's own check: a TypeError naming what it got, an SslCondition for "v2" and "v3".
  checkProtocolAndSide(value, "client");
  return value as SslProtocol;
}

/**
 * Checks the options of `createFetch` / `createHttpAgent` and fills in the defaults.
 *
 * @throws {TypeError} for an option of the wrong type, or one a fetch does not take.
 * @throws {RangeError} for a number out of range.
 * @throws {SslCondition} for `sslCtx: "v2"` or `"v3"`, which OpenSSL 3 lacks.
 */
export function checkAgentOptions(options: unknown, caller = "createFetch"): CheckedOptions {
  // Taken once; any other name would be dropped without a word (undici's own connectTimeout, a misspelling).
  const given = ownOptions(caller, options as Record<string, unknown>, FETCH_OPTIONS);
  for (const [name, why] of Object.entries(NOT_OPTIONS)) {
    if (given[name] !== undefined) throw new TypeError(`${name} is not an option of a fetch: ${why}`);
  }
  const signal = checkSignal("signal", given.signal);
  const timeout = given.timeout === undefined ? DEFAULT_TIMEOUT_MS : checkTimeout("timeout", given.timeout);
  const handshakeTimeout = given.handshakeTimeout === undefined
    ? DEFAULT_TIMEOUT_MS
    : checkTimeout("handshakeTimeout", given.handshakeTimeout) ?? null;
  const sslCtx = checkSslCtx(given.sslCtx);
  const ctxConfigureCallback = checkFunction<CheckedOptions["ctxConfigureCallback"]>(
    "ctxConfigureCallback",
    given.ctxConfigureCallback,
  );
  const sslConfigureCallback = checkFunction<CheckedOptions["sslConfigureCallback"]>(
    "sslConfigureCallback",
    given.sslConfigureCallback,
  );
  // A callback that would silently not run is refused: an abstract context (the fetch's own, or the caller's)
  // brings its own configuration and ignores both, and a context the caller made (an SslCtxPointer) is not
  // configured again (LispWorks' rule: ctx-configure-callback only for a context made for the connection).
  const abstract = sslCtx === undefined || sslCtx instanceof SslAbstractContext;
  if (abstract && (ctxConfigureCallback !== undefined || sslConfigureCallback !== undefined)) {
    throw new TypeError(
      "ctxConfigureCallback and sslConfigureCallback run only with sslCtx true, a protocol symbol or an " +
        "SslCtxPointer (sslConfigureCallback only, there); an SslAbstractContext (the fetch's own too) takes " +
        "opensslCtxConfigureCallback and opensslSslConfigureCallback when it is made",
    );
  }
  if (sslCtx instanceof SslCtxPointer && ctxConfigureCallback !== undefined) {
    throw new TypeError(
      "ctxConfigureCallback runs only for a context the fetch makes (sslCtx true or a protocol symbol), not " +
        "for an SslCtxPointer you made: configure it before passing it",
    );
  }
  return {
    sslCtx,
    ctxConfigureCallback,
    sslConfigureCallback,
    timeout,
    handshakeTimeout,
    signal,
    nodelay: checkBoolean("nodelay", given.nodelay),
    keepalive: checkBoolean("keepalive", given.keepalive),
    keepAliveTimeout: checkCount("keepAliveTimeout", given.keepAliveTimeout, 4000, MAX_TIMEOUT_MS)!,
    connections: checkCount("connections", given.connections, null, Number.MAX_SAFE_INTEGER),
  };
}
