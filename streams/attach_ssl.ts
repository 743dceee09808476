/**
 * `attachSsl` and `detachSsl`: LispWorks' `attach-ssl` and `detach-ssl`, the
 * heart of the seed page. Which objects are made, which callbacks run, which
 * state is set and what is freed all follow the table in the README.
 *
 * @module
 */

import { callFailed, clearErrors } from "../ffi/_error_queue.ts";
import { cString } from "../ffi/_cstring.ts";
import {
  SSL_AD_HANDSHAKE_FAILURE,
  SSL_AD_UNRECOGNIZED_NAME,
  SSL_OP_NO_RENEGOTIATION,
} from "../ffi/constants.ts";
import { SocketError, SslCondition, SslFailure, SslHandshakeTimeout } from "../ffi/errors.ts";
import { loadOpenssl } from "../ffi/library.ts";
import { SSL_set_tlsext_host_name } from "../ffi/macros.ts";
import { describe, isAttached, SslCtxPointer, SslPointer } from "../ffi/pointers.ts";
import {
  checkProtocolAndSide,
  checkSide,
  newContextFor,
  sslNew,
  type SslProtocol,
  type SslSide,
} from "../ffi/ssl_ctx.ts";
import { offerSession } from "../ffi/connection_info.ts";
import { releaseContext, retainContext } from "../ffi/_lifetimes.ts";
import {
  bindServerSessions,
  checkClientBeforeHandshake,
  checkResumedPeer,
  contextId,
  functionId,
  isBothContext,
  nameToVerify,
  requireVerification,
} from "../ffi/_verify_policy.ts";
import { checkChosen, SslAbstractContext } from "./abstract_context.ts";
import { recordRoute } from "./_sni_routing.ts";
import { readClientHello } from "./_client_hello.ts";
import { checkTimeout, Deadline, MAX_TIMEOUT_MS, NO_DEADLINE } from "./_deadline.ts";
import { checkHostName, isIpLiteral } from "./_host_name.ts";
import { checkFunction, checkInteger, checkSignal, ownOptions } from "../ffi/_option_checks.ts";
import { serverHandshakeTimeout } from "./_server_defaults.ts";
import { type DetachedBytes, TlsSession } from "./_tls_session.ts";
import { internalsOf, SocketStream, type StreamInternals } from "./socket_stream.ts";

/**
 * What `sslCtx` takes: a protocol symbol (a new SSL_CTX and SSL, both freed
 * with the stream), an `SslCtxPointer` (a new SSL from it; the context is
 * never freed by the stream), an `SslPointer` (used as it is, never freed)
 * or an `SslAbstractContext` (a new SSL from its shared SSL_CTX, configured
 * by the context).
 */
export type SslCtxSpec = SslProtocol | SslCtxPointer | SslPointer | SslAbstractContext;

/** LispWorks' SSL keyword arguments, as `attachSsl` takes them. */
export interface SslOptions {
  /**
   * What SSL to use (see `SslCtxSpec`).
   * @default {true}
   */
  sslCtx?: SslCtxSpec;
  /**
   * Which end: picks the method of a new SSL_CTX and the state of a new SSL.
   * Ignored for an `SslPointer`.
   * @default {"server"}
   */
  sslSide?: SslSide;
  /** Called with the new SSL_CTX right after it is made; only when `sslCtx` is a symbol. */
  ctxConfigureCallback?: (ctx: SslCtxPointer) => void;
  /** Called with the new SSL right after it is made; not when `sslCtx` is an `SslPointer`. */
  sslConfigureCallback?: (ssl: SslPointer) => void;
  /**
   * Milliseconds the handshake may take; on expiry `SslHandshakeTimeout`, and the stream is closed. `null`
   * for no limit. When absent: none (LispWorks' default), except on a connection accepted by
   * `startUpServer`, which brings that server's `handshakeTimeout` (10 s unless it says otherwise).
   */
  handshakeTimeout?: number | null;
  /**
   * The server name for a client: sent as SNI (unless it is an IP literal)
   * and checked against the peer's certificate.
   */
  tlsextHostName?: string;
  /** Aborting it cancels the handshake (and the connect, in `openTcpStream`). */
  signal?: AbortSignal;
  /** A client session from `stream.session()` to offer for resumption. */
  session?: Uint8Array;
}

const DETACH_OPTION_KEYS: ReadonlySet<string> = new Set(["retryCount", "retryTimeout"]);

/** Options of `detachSsl`. */
export interface DetachSslOptions {
  /**
   * Further waits for the peer's close_notify; `null` sends ours and does not wait (what the peer sends
   * afterwards is read as plain bytes).
   * @default {5}
   */
  retryCount?: number | null;
  /**
   * Milliseconds each wait may take; `null` for no limit. Data that arrives meanwhile is kept (up to 16 MiB)
   * and does not use up a wait, but the whole detach gives up after ten times `(retryCount + 1) *
   * retryTimeout` however the peer keeps sending.
   * @default {100}
   */
  retryTimeout?: number | null;
}

/** The names `attachSsl` takes (`SslOptions`). */
export const SSL_OPTION_KEYS: ReadonlySet<string> = new Set([
  "sslCtx",
  "sslSide",
  "ctxConfigureCallback",
  "sslConfigureCallback",
  "handshakeTimeout",
  "tlsextHostName",
  "signal",
  "session",
]);

/**
 * Checks the values of the SSL options, with no stream yet: `attachSsl` runs it first, and so do the entry
 * points that connect, accept or listen before they attach (so a wrong option fails the call before any
 * socket is made or owned). Unknown names are each caller's to refuse (through `ownOptions`), since each
 * takes more.
 */
export function checkSslOptions(opts: SslOptions): void {
  const { sslCtx = true, sslSide = "server" } = opts;
  // Checked whatever sslCtx is, though only a protocol symbol or an SslCtxPointer takes it.
  checkSide("sslSide", sslSide);
  checkFunction("ctxConfigureCallback", opts.ctxConfigureCallback);
  checkFunction("sslConfigureCallback", opts.sslConfigureCallback);
  checkTimeout("handshakeTimeout", opts.handshakeTimeout);
  checkSignal("signal", opts.signal);
  if (opts.tlsextHostName !== undefined) {
    if (typeof opts.tlsextHostName !== "string" || opts.tlsextHostName === "") {
      throw new TypeError("tlsextHostName must be a non-empty string");
    }
    checkHostName(opts.tlsextHostName, "tlsextHostName");
  }
  if (opts.session !== undefined && !(opts.session instanceof Uint8Array)) {
    throw new TypeError("session must be a Uint8Array from stream.session()");
  }
  if (sslCtx instanceof SslAbstractContext) {
    if (sslCtx.closed) throw new TypeError("attachSsl: this SslAbstractContext is closed");
    return;
  }
  if (sslCtx instanceof SslPointer) {
    sslCtx.pointer; // throws TypeError if freed
    if (isAttached(sslCtx)) {
      throw new TypeError("attachSsl: this SslPointer is already attached to an open stream");
    }
    return;
  }
  if (sslCtx instanceof SslCtxPointer) {
    sslCtx.pointer; // throws TypeError if freed
    return;
  }
  checkProtocolAndSide(sslCtx, sslSide);
}

// The options, taken once (see ownOptions) and checked.
function checkOptions(stream: SocketStream, opts: SslOptions): SslOptions {
  if (!(stream instanceof SocketStream)) throw new TypeError("attachSsl needs a SocketStream");
  const given = ownOptions("attachSsl", opts, SSL_OPTION_KEYS);
  const inner = internalsOf(stream);
  if (inner.closing()) throw new Deno.errors.BadResource("attachSsl: the SocketStream is closed");
  if (inner.session) {
    throw new SocketError("attachSsl: this stream already has SSL; call detachSsl first to attach again");
  }
  if (inner.attaching) {
    throw new SocketError(
      "attachSsl: an attachSsl on this stream is under way (from one of its own callbacks?)",
    );
  }
  checkSslOptions(given);
  return given;
}

// SNI and the name the certificate must carry, for a client SSL the module made.
function setPeerName(ssl: SslPointer, host: string): void {
  const { libssl, libcrypto } = loadOpenssl();
  const name = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  clearErrors();
  if (isIpLiteral(name)) {
    // RFC 6066: no SNI for an IP; the IP is checked against the certificate's IP SANs.
    const param = libssl.SSL_get0_param(ssl.pointer);
    if (libcrypto.X509_VERIFY_PARAM_set1_ip_asc(param, cString(name, "tlsextHostName")) !== 1) {
      throw callFailed(`Setting the IP address ${name} to verify`);
    }
    return;
  }
  if (SSL_set_tlsext_host_name(ssl.pointer, name) !== 1) throw callFailed(`Setting SNI to ${name}`);
  if (libssl.SSL_set1_host(ssl.pointer, cString(name, "tlsextHostName")) !== 1) {
    throw callFailed(`Setting the host name ${name} to verify`);
  }
}

/** Where a client connection goes, for a client context's session cache: the name it verifies, and the port. */
function sessionCacheKey(stream: SocketStream, host: string | undefined): string {
  let address: Deno.Addr | undefined;
  try {
    address = stream.remoteAddr;
  } catch {
    address = undefined;
  }
  const port = address && "port" in address ? address.port : "";
  const name = host ?? (address && "hostname" in address ? address.hostname : "");
  return `${name.toLowerCase()} ${port}`;
}

/** What a module-made SSL needs to take either role. */
interface RoleSetup {
  /** The name to send and verify as a client. */
  host?: string;
  /** A session to offer as a client. */
  session?: Uint8Array;
  /** What its sessions are bound to besides the host: the context and the callbacks that configured it. */
  identity: string;
}

function currentRole(ssl: SslPointer): "client" | "server" {
  return loadOpenssl().libssl.SSL_is_server(ssl.pointer) === 1 ? "server" : "client";
}

/**
 * The rules for the role the SSL has now. A client verifies the chain and the name (unless turned off
 * explicitly), has a name to check, and offers a session only if it was made with the same identity, host
 * and verification. A server whose verification was changed for this connection keeps its sessions apart.
 */
function prepareRole(ssl: SslPointer, ctx: SslCtxPointer, role: RoleSetup): "client" | "server" {
  if (currentRole(ssl) === "server") {
    bindServerSessions(ssl, ctx);
    return "server";
  }
  if (role.host !== undefined && nameToVerify(ssl.pointer) === null) setPeerName(ssl, role.host);
  requireVerification(ssl, ctx);
  // A "both" context's client SSLs refuse renegotiation, as a client context's do (its server SSLs may start one).
  if (isBothContext(ctx.pointer)) loadOpenssl().libssl.SSL_set_options(ssl.pointer, SSL_OP_NO_RENEGOTIATION);
  const sessionContext = checkClientBeforeHandshake(ssl, role.identity);
  if (role.session !== undefined) offerSession(ssl.pointer, role.session, sessionContext);
  return "client";
}

/** A fatal alert sent before any SSL exists (record version 0x0303, as TLS 1.3 says). */
function fatalAlert(description: number): Uint8Array {
  return new Uint8Array([21, 3, 3, 0, 2, 2, description]);
}

// A chooser's answer, or what it threw (a deadline's own error is thrown, not returned).
type Outcome<T> = { value: T } | { error: unknown };

function settle<T>(run: () => T | Promise<T>, deadline: Deadline): Promise<Outcome<T>> {
  const settled = Promise.resolve().then(run).then(
    (value): Outcome<T> => ({ value }),
    (error): Outcome<T> => ({ error }),
  );
  return deadline.race(settled);
}

/**
 * Reads the client's ClientHello (bytes stay buffered for TLS) and picks the server context for it: the
 * `clientHelloCallback`'s choice, else the one `sni` maps the name to, else `router`. Either may answer with a
 * promise, awaited within the deadline. A callback that refuses gets the client a handshake_failure alert, a
 * chooser that fails an unrecognized_name one.
 */
async function route(
  router: SslAbstractContext,
  inner: StreamInternals,
  deadline: Deadline,
): Promise<{ context: SslAbstractContext; name: string | null }> {
  const hello = await readClientHello({
    bytes: () => inner.plainBytes(),
    ended: () => inner.plainEnded(),
    pull: () => deadline.race(inner.inbound.pull()),
  });
  const name = hello?.serverName ?? null;
  const refuse = (alert: number, why: string, cause: unknown) => {
    inner.outbound.post(fatalAlert(alert));
    inner.lingerOnClose();
    return new SslFailure(
      `TLS handshake refused: ${why} (${
        cause instanceof Error ? cause.message : String(cause)
      }); the client got ` +
        `${alert === SSL_AD_UNRECOGNIZED_NAME ? "an unrecognized_name" : "a handshake_failure"} alert`,
      { cause },
    );
  };
  // Every context the client lands on has its clientHelloCallback run (it may keep the client, hand it to
  // another context, or refuse it); only the router's sni is consulted, when no callback chose.
  const visited = new Set<SslAbstractContext>();
  let current = router;
  for (;;) {
    visited.add(current);
    let next = current;
    const callback = current.clientHelloCallback;
    if (callback !== undefined) {
      if (hello === null) {
        throw refuse(
          SSL_AD_HANDSHAKE_FAILURE,
          "clientHelloCallback cannot see this ClientHello",
          "unreadable",
        );
      }
      const outcome = await settle(() => callback({ ...hello }), deadline);
      if ("error" in outcome) {
        throw refuse(SSL_AD_HANDSHAKE_FAILURE, "clientHelloCallback refused the client", outcome.error);
      }
      try {
        next = checkChosen(outcome.value, current, "clientHelloCallback");
      } catch (error) {
        throw refuse(SSL_AD_HANDSHAKE_FAILURE, "clientHelloCallback answered wrongly", error);
      }
    }
    if (next === current && current === router) {
      const outcome = await settle(() => router.contextFor(name), deadline);
      if ("error" in outcome) {
        throw refuse(
          SSL_AD_UNRECOGNIZED_NAME,
          `choosing the server context for ${JSON.stringify(name)} failed`,
          outcome.error,
        );
      }
      next = outcome.value;
    }
    if (next === current) return { context: current, name };
    if (visited.has(next)) {
      throw refuse(SSL_AD_HANDSHAKE_FAILURE, "clientHelloCallbacks chose each other in a circle", "a loop");
    }
    current = next;
  }
}

/**
 * Adds TLS to a stream, LispWorks' `attach-ssl`.
 *
 * With a protocol symbol it makes an SSL_CTX (calling `ctxConfigureCallback`
 * with it) and an SSL (calling `sslConfigureCallback`), and frees both when
 * the stream closes. With an `SslCtxPointer` it makes only the SSL and never
 * frees the context. With an `SslPointer` it makes nothing, calls neither
 * callback, sets no state and frees nothing. With an `SslAbstractContext` it
 * makes an SSL from the context's shared SSL_CTX, with the context's side and
 * its own SSL callback (`sslSide` and the two callbacks here are ignored); a
 * server context with `sni` first reads the client's ClientHello and makes
 * the SSL from the context registered for the name it asks for. A new SSL
 * gets the connect state for "client" and the accept state for "server";
 * then the handshake runs here, bounded by `handshakeTimeout` and `signal`.
 * With "both" or an `SslPointer` the handshake waits for `handshake()` or the
 * first read or write.
 *
 * A client SSL the module makes verifies the server's chain and name unless
 * verification was turned off explicitly, and needs a name to check
 * (`tlsextHostName`); a `session` is offered only if it was made for the
 * same host, with the same context, verification and client certificate.
 *
 * Bytes already buffered on the plain stream go to TLS (STARTTLS loses
 * nothing). If setup or handshake fails, what was made is freed, the stream
 * is closed and the error is thrown; a call that is wrong from the start
 * changes nothing.
 *
 * @param stream a plain `SocketStream`.
 * @param options the SSL options.
 * @returns the `SslPointer` now in use.
 * @throws {TypeError} for wrong arguments (an unknown option too), a freed pointer, or a verifying client with
 *   no name to check.
 * @throws {SocketError} if the stream already has SSL.
 * @throws {SslCondition} for "v2"/"v3", or the condition that failed the handshake
 *   (`SslVerificationFailure`, `SslHandshakeTimeout`, `SslUnexpectedEof` ...).
 * @example STARTTLS as a client
 * ```ts
 * import { attachSsl, SocketStream } from "@comm/socket-stream";
 *
 * const stream = new SocketStream({ socket: await Deno.connect({ hostname: "mail.example.com", port: 25 }) });
 * // ... EHLO, STARTTLS over the plain stream ...
 * await attachSsl(stream, { sslSide: "client", tlsextHostName: "mail.example.com", handshakeTimeout: 10_000 });
 * ```
 */
export async function attachSsl(stream: SocketStream, options: SslOptions = {}): Promise<SslPointer> {
  const opts = checkOptions(stream, options);
  opts.signal?.throwIfAborted();
  const inner = internalsOf(stream);
  // Until the session is set the stream is attaching: a second attachSsl is refused (one from this call's own
  // configure callbacks too, which would put two sessions on one connection), and plain reads and writes wait.
  const attached = inner.beginAttach();
  const { sslCtx = true, sslSide = "server", ctxConfigureCallback, sslConfigureCallback } = opts;
  // Undefined: the default of the server that accepted the connection, if any; null: none.
  const ms =
    (opts.handshakeTimeout === undefined ? serverHandshakeTimeout(inner.transport) : opts.handshakeTimeout) ??
      undefined;
  using deadline = new Deadline({
    timeoutMs: ms,
    signal: opts.signal,
    onTimeout: () => new SslHandshakeTimeout(`The TLS handshake did not finish within ${ms} ms`),
  });

  let context: SslCtxSpec = sslCtx;
  let routedName: string | null = null;
  // A routing context is taken now, while the ClientHello comes: closing it meanwhile (a listener's
  // setContext) must not drop a client it already accepted.
  let held: ReturnType<SslAbstractContext["acquire"]> | null = null;
  if (sslCtx instanceof SslAbstractContext && sslCtx.routesByName) {
    held = sslCtx.acquire();
    try {
      ({ context, name: routedName } = await route(sslCtx, inner, deadline));
    } catch (error) {
      held.release();
      attached();
      stream.close();
      await stream.closed;
      throw error;
    }
    if (context !== sslCtx) {
      held.release();
      held = null;
    }
    if (inner.closing()) {
      held?.release();
      attached();
      throw new Deno.errors.BadResource("attachSsl: the SocketStream was closed");
    }
  }

  let session: TlsSession;
  let startsHandshake = false;
  let ctx: SslCtxPointer | null = null;
  let ssl: SslPointer | null = null;
  let ownsCtx = false;
  let ownsSsl = false;
  let release: (() => void) | undefined;
  let side: SslSide | null = null;
  let role: RoleSetup | null = null;
  let prepared: "client" | "server" | null = null;
  try {
    if (context instanceof SslPointer) {
      ssl = context;
      const raw = loadOpenssl().libssl.SSL_get_SSL_CTX(ssl.pointer);
      if (raw === null) throw new TypeError("attachSsl: this SslPointer has no SSL_CTX");
      ctx = SslCtxPointer.borrow(raw);
      // While the stream drives the caller's SSL, its context's callbacks must stay alive.
      const address = Deno.UnsafePointer.value(raw);
      retainContext(address);
      release = () => releaseContext(address);
    } else {
      // An abstract context brings its side, its shared SSL_CTX and its own SSL callback.
      const abstractContext = context instanceof SslAbstractContext ? context : null;
      const acquired = held ?? abstractContext?.acquire() ?? null;
      release = acquired?.release;
      side = abstractContext ? abstractContext.side : sslSide;
      if (acquired) {
        ctx = acquired.ctx;
      } else if (context instanceof SslCtxPointer) {
        ctx = context;
      } else {
        ctx = newContextFor(context as SslProtocol, sslSide);
        ownsCtx = true;
        ctxConfigureCallback?.(ctx);
      }
      ssl = sslNew(ctx);
      ownsSsl = true;
      if (abstractContext && sslCtx instanceof SslAbstractContext && sslCtx.routesByName) {
        recordRoute(ssl, routedName);
      }
      const { libssl } = loadOpenssl();
      if (side === "client") libssl.SSL_set_connect_state(ssl.pointer);
      if (side === "server") libssl.SSL_set_accept_state(ssl.pointer);
      const host = opts.tlsextHostName ?? abstractContext?.tlsextHostName;
      // A context whose client certificate is chosen per handshake resumes nothing: a session would carry the
      // certificate an earlier handshake chose.
      const resumes = !abstractContext?.choosesClientCertificates;
      // Asked even when the caller brings a session: the sessions the server issues on this connection go to
      // the context's cache all the same.
      const cached = resumes && side === "client"
        ? abstractContext?.cachedSessionFor(ssl, sessionCacheKey(stream, host))
        : undefined;
      role = {
        host,
        session: resumes ? opts.session ?? cached ?? abstractContext?.session : undefined,
        identity: abstractContext
          ? abstractContext.sessionIdentity
          : context instanceof SslCtxPointer
          ? `context ${contextId(ctx)} ${functionId(sslConfigureCallback)}`
          : `${String(context)} ${sslSide} ${functionId(ctxConfigureCallback)} ${
            functionId(sslConfigureCallback)
          }`,
      };
      // The name and SSL_VERIFY_PEER go on before the callback, so it can see them and change them.
      if (side === "client") {
        if (role.host !== undefined) setPeerName(ssl, role.host);
        requireVerification(ssl, ctx);
      }
      if (acquired) acquired.configure?.(ssl);
      else sslConfigureCallback?.(ssl);
      // What the SSL is now (a callback may have set the other state) decides the rules it gets.
      if (side !== "both") prepared = prepareRole(ssl, ctx, role);
      startsHandshake = side !== "both";
    }
    // A callback above may have closed the stream: its close found no session to end, so end this one here.
    if (inner.closing()) {
      throw new Deno.errors.BadResource("attachSsl: the SocketStream was closed during setup");
    }
    session = new TlsSession({ ssl, ctx, ownsSsl, ownsCtx, release }, inner.inbound, inner.outbound, inner);
  } catch (error) {
    if (ownsSsl && ssl && !ssl.freed) ssl.destroy();
    if (ownsCtx && ctx && !ctx.freed) ctx.destroy();
    release?.();
    attached();
    stream.close();
    await stream.closed;
    throw error;
  }

  if (role !== null) {
    // An SSL whose state is set later ("both", or changed after attachSsl): the rules for the role it has at
    // the first step, before any byte goes out.
    const [madeSsl, madeCtx, madeRole] = [ssl, ctx!, role];
    session.engine.beforeFirstStep(() => {
      if (currentRole(madeSsl) !== prepared) prepared = prepareRole(madeSsl, madeCtx, madeRole);
    });
    session.engine.afterHandshake(() => {
      if (currentRole(madeSsl) === "client") checkResumedPeer(madeSsl.pointer);
    });
  }
  inner.session = session;
  // Plain readers and writers that waited go on, and find the session.
  attached();
  try {
    // STARTTLS: what the plain stream already read belongs to TLS now.
    session.engine.feed(inner.takePlain());
    if (inner.plainEnded()) session.engine.endTransport();
    if (startsHandshake) await session.handshake(deadline);
  } catch (error) {
    stream.close();
    await stream.closed;
    throw error;
  }
  return ssl;
}

/**
 * Takes TLS off a stream and leaves it plain, LispWorks' `detach-ssl`: sends
 * close_notify, waits for the peer's (`retryCount` + 1 waits of `retryTimeout`
 * ms each), frees what `attachSsl` made and keeps every byte the peer sent
 * after its close_notify for the next plain read. On a plain stream it
 * returns at once.
 *
 * @param stream the stream.
 * @param opts how long to wait for the peer.
 * Reads made after the call read plain bytes; with `retryCount: null` it returns without waiting for a read
 * in progress either, which then reads plain bytes too.
 *
 * @throws {SslCondition} if the peer's close_notify does not come, or writes in flight do not reach the peer
 *   within the same budget; the stream is then closed.
 * @throws {TypeError} for an unknown option or a value of the wrong type.
 * @throws {RangeError} for a negative retry count or timeout.
 * @example End TLS and go on in plaintext
 * ```ts
 * import { detachSsl, openTcpStream } from "@comm/socket-stream";
 *
 * const stream = await openTcpStream("localhost", 8443, { sslCtx: true });
 * await detachSsl(stream, { retryCount: 10, retryTimeout: 200 });
 * await stream.write(new TextEncoder().encode("plain again\n"));
 * ```
 */
export async function detachSsl(stream: SocketStream, opts: DetachSslOptions = {}): Promise<void> {
  if (!(stream instanceof SocketStream)) throw new TypeError("detachSsl needs a SocketStream");
  const { retryCount = 5, retryTimeout = 100 } = ownOptions("detachSsl", opts, DETACH_OPTION_KEYS);
  if (retryCount !== null) {
    // null is a value of its own (send close_notify, do not wait): the message says so.
    if (typeof retryCount !== "number") {
      throw new TypeError(`retryCount must be a number or null, got ${describe(retryCount)}`);
    }
    checkInteger("retryCount", retryCount, 0, Number.MAX_SAFE_INTEGER);
  }
  // null, as for every timeout: no limit.
  const waitMs = checkTimeout("retryTimeout", retryTimeout) ?? Infinity;
  const inner = internalsOf(stream);
  // One detach at a time: a second call waits for the first, then finds the stream plain, or closed (the first
  // failed): that is not a detach that worked.
  if (inner.detaching) {
    while (inner.detaching) await inner.detaching;
    if (inner.closing()) {
      throw new Deno.errors.BadResource("detachSsl: the detach before this one failed and closed the stream");
    }
  }
  const session = inner.session;
  if (!session) return;
  if (inner.closing()) throw new Deno.errors.BadResource("detachSsl: the SocketStream is closed");
  const { promise: detached, resolve: detachDone } = Promise.withResolvers<void>();
  inner.detaching = detached;
  try {
    await detachSession(stream, inner, session, retryCount, waitMs);
  } finally {
    inner.detaching = null;
    detachDone();
  }
}

async function detachSession(
  stream: SocketStream,
  inner: StreamInternals,
  session: TlsSession,
  retryCount: number | null,
  waitMs: number,
): Promise<void> {
  let leftover: DetachedBytes;
  // Writes in flight finish first: their bytes go out before the close_notify. A peer that reads nothing
  // holds them up: they get the same budget as the wait for its close_notify.
  const budget = ((retryCount ?? 0) + 1) * waitMs;
  using writes = budget <= MAX_TIMEOUT_MS
    ? new Deadline({
      timeoutMs: budget,
      onTimeout: () =>
        new SslCondition(
          `detachSsl: the writes in flight did not reach the peer within ${budget} ms (it does not read); ` +
            "the stream is closed",
        ),
    })
    : NO_DEADLINE;
  try {
    if (retryCount === null) {
      await writes.race(session.writesDone());
      leftover = session.shutdownNow();
    } else {
      leftover = await session.shutdownAndWait(retryCount, waitMs, writes);
    }
  } catch (error) {
    // The budget is spent: the stream closes now, without close()'s drain of writes that already stalled.
    inner.cutOnClose();
    stream.close();
    await stream.closed;
    throw error;
  }
  // From here to the end nothing awaits: a read waiting on the session wakes only once the stream is plain.
  const ended = session.engine.transportEnded;
  inner.session = null;
  session.free();
  inner.restorePlain(leftover);
  if (ended) inner.endPlain();
  inner.afterDetachedReads(session.detach());
}
