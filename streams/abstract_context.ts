/**
 * Abstract contexts, LispWorks 8's `create-ssl-client-context` and
 * `create-ssl-server-context`: one configured SSL_CTX that serves every
 * connection made from it, usable as `sslCtx` everywhere.
 *
 * @module
 */

import { alpnSelectCallback, encodeAlpn } from "../ffi/_alpn.ts";
import { callFailed } from "../ffi/_error_queue.ts";
import {
  SSL_OP_NO_RENEGOTIATION,
  SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
  SSL_VERIFY_NONE,
  SSL_VERIFY_PEER,
} from "../ffi/constants.ts";
import { describeMessage, watchContextMessages } from "../ffi/_messages.ts";
import { loadOpenssl } from "../ffi/library.ts";
import { describe, type SslCtxPointer, type SslPointer } from "../ffi/pointers.ts";
import { newContextFor, setServerSessionContext } from "../ffi/ssl_ctx.ts";
import { checkStapledResponses, requestOcsp, stapleResponses } from "../ffi/_ocsp.ts";
import { markVerifyingByDefault, recordVerificationChoice } from "../ffi/_verify_policy.ts";
import { releaseWhenFreed } from "../ffi/_lifetimes.ts";
import { sha256Hex } from "../ffi/_digest.ts";
import { type PemOrDer, readCertificatesAny } from "../ffi/_pem.ts";
import { acceptPsk, offerPsk } from "../ffi/_psk.ts";
import { chooseClientCertificates } from "../ffi/_client_certificates.ts";
import { cString } from "../ffi/_cstring.ts";
import {
  disableServerResumption,
  setNumTickets,
  setSessionTimeout,
  setTicketKeys,
  ticketKeysOf,
  watchNewSessions,
} from "../ffi/_sessions.ts";

import {
  type AnyContextOptions,
  checkOptions,
  checkTicketKeys,
  CLIENT_KEYS,
  configurationOf,
  SERVER_KEYS,
  type SniContexts,
  type SslClientContextOptions,
  type SslContextOptions,
  type SslServerContextOptions,
} from "./_context_options.ts";
import { ownOptions } from "../ffi/_option_checks.ts";
import {
  applyKeylog,
  applyProtocolAndCiphers,
  loadIdentity,
  loadTrust,
  setVerify,
} from "./_context_setup.ts";
import { installNameCheck, type SniChooser, sniChooser } from "./_sni_routing.ts";
import type { ClientHelloCallback } from "./_context_options.ts";

export type {
  ClientHelloCallback,
  SniContexts,
  SslClientContextOptions,
  SslContextOptions,
  SslServerContextOptions,
};

/**
 * A configured SSL_CTX shared by every connection made from it, LispWorks'
 * `ssl-abstract-context`. Pass it as `sslCtx` to `openTcpStream`,
 * `makeInstance` or `attachSsl`; there `sslSide` and the plain
 * `ctxConfigureCallback` / `sslConfigureCallback` are ignored (the context
 * has its own side and callbacks). The SSL_CTX is freed once the context is
 * closed and the last connection using it is gone.
 *
 * @example
 * ```ts
 * import { createSslClientContext } from "@comm/socket-stream";
 *
 * using context = createSslClientContext({ protocolVersion: "tls-v1-3", alpnProtocols: ["h2", "http/1.1"] });
 * console.log(context.side); // "client"
 * ```
 */
export class SslAbstractContext implements Disposable {
  /** Which end its connections are. */
  readonly side: "client" | "server";
  /** Whether closing was asked for. */
  #closed = false;
  // The SSL_CTX new connections get, and the ones a reload replaced that connections still use.
  #current: Generation;
  readonly #retired = new Set<Generation>();
  readonly #options: AnyContextOptions;
  readonly #choose: SniChooser | undefined;
  readonly #remake: (self: SslAbstractContext) => Generation;
  // A client's newest session per host and port (sessionCache), and the key of each live SSL that feeds it.
  readonly #sessions = new Map<string, Uint8Array>();
  readonly #sessionKeys = new Map<bigint, string>();

  /** @internal Use `createSslClientContext` or `createSslServerContext`. */
  constructor(
    side: "client" | "server",
    options: AnyContextOptions,
    remake: (self: SslAbstractContext) => Generation,
    choose?: SniChooser,
  ) {
    this.side = side;
    this.#options = options;
    this.#choose = choose;
    this.#remake = remake;
    this.#current = remake(this);
  }

  /**
   * @internal Whether this server context chooses the context for each client from its ClientHello (`sni`,
   * `clientHelloCallback`).
   */
  get routesByName(): boolean {
    return this.#choose !== undefined || this.#options.clientHelloCallback !== undefined;
  }

  /** @internal Whether a client context picks its certificate per handshake (`certRequestCallback`). */
  get choosesClientCertificates(): boolean {
    return this.#options.certRequestCallback !== undefined;
  }

  /** @internal The server's `clientHelloCallback`. */
  get clientHelloCallback(): ClientHelloCallback | undefined {
    return this.#options.clientHelloCallback;
  }

  /**
   * @internal The context that serves a client asking for `name` by `sni` (this one when no other is
   * registered, or for no name).
   *
   * @throws what the `sni` function throws; a `TypeError` if it answers with something that is not an open
   *   server context.
   */
  async contextFor(name: string | null): Promise<SslAbstractContext> {
    if (name === null || this.#choose === undefined) return this;
    return checkChosen(await this.#choose(name), this, `sni for ${JSON.stringify(name)}`);
  }

  /**
   * @internal The context for `name` if it can be decided at once (an `sni` map, or a function that answers
   * without a promise, and no `clientHelloCallback`), else `undefined`.
   */
  decidesNow(name: string | null): SslAbstractContext | undefined {
    if (this.#options.clientHelloCallback !== undefined) return undefined;
    if (name === null || this.#choose === undefined) return this;
    try {
      const chosen = this.#choose(name);
      if (chosen instanceof Promise) {
        chosen.catch(() => {});
        return undefined;
      }
      return checkChosen(chosen, this, "sni");
    } catch {
      return undefined;
    }
  }

  /**
   * The SSL_CTX new connections get, for raw OpenSSL calls (after `reload()`, a new one).
   *
   * @throws {TypeError} once the context is closed.
   */
  get ctx(): SslCtxPointer {
    if (this.#closed) throw new TypeError("This SslAbstractContext is closed");
    return this.#current.ctx;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The server name a client connection sends and verifies when it is given none. */
  get tlsextHostName(): string | undefined {
    return this.#options.tlsextHostName;
  }

  /** The session a client connection offers when it is given none. */
  get session(): Uint8Array | undefined {
    return this.#options.session;
  }

  /** @internal What a client connection's sessions are bound to, besides its host (see `_verify_policy.ts`). */
  get sessionIdentity(): string {
    return this.#current.identity;
  }

  /**
   * @internal The session to offer to `key` (host and port) from this client context's cache, if it keeps one
   * (`sessionCache`); from now on the sessions the server issues on `ssl` are kept under `key`.
   */
  cachedSessionFor(ssl: SslPointer, key: string): Uint8Array | undefined {
    if (!this.#options.sessionCache) return undefined;
    const address = Deno.UnsafePointer.value(ssl.pointer);
    this.#sessionKeys.set(address, key);
    releaseWhenFreed("ssl", ssl.pointer, () => this.#sessionKeys.delete(address));
    const session = this.#sessions.get(key);
    if (session !== undefined) {
      // Most recently used last.
      this.#sessions.delete(key);
      this.#sessions.set(key, session);
    }
    return session;
  }

  /** @internal The server issued `session` on the SSL at `ssl`, made from this client context. */
  sessionIssued(ssl: bigint, session: Uint8Array): void {
    const key = this.#sessionKeys.get(ssl);
    if (key !== undefined) {
      this.#sessions.delete(key);
      this.#sessions.set(key, session);
      if (this.#sessions.size > SESSION_CACHE_HOSTS) {
        this.#sessions.delete(this.#sessions.keys().next().value!);
      }
    }
    const onSession = this.#options.onSession;
    if (onSession === undefined) return;
    // Inside OpenSSL now: the callback runs once the read that brought the session returns.
    queueMicrotask(() => {
      try {
        onSession(session.slice());
      } catch {
        // Documented: ignored.
      }
    });
  }

  /**
   * Makes the SSL_CTX again from the same options, reading `certFile`/`keyFile`, `pfxFile`, `crlFile` and
   * the trusted file or directory again (for a renewed certificate): new connections get it, live ones keep
   * theirs. A server keeps its ticket keys, so sessions resume across the reload. If anything fails, the
   * context is unchanged and the error is thrown.
   *
   * @throws {TypeError} once the context is closed.
   * @throws {SslCondition} when OpenSSL refuses a file, a key or a password.
   * @example
   * ```ts
   * import { createSslServerContext } from "@comm/socket-stream";
   *
   * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key" });
   * Deno.addSignalListener("SIGHUP", () => context.reload());
   * ```
   */
  reload(): void {
    if (this.#closed) throw new TypeError("This SslAbstractContext is closed");
    const generation = this.#remake(this);
    const fresh = generation.ctx;
    const old = this.#current;
    if (this.side === "server" && this.#options.sessionCache !== false) {
      try {
        setTicketKeys(fresh.pointer, ticketKeysOf(old.ctx.pointer));
      } catch (error) {
        fresh.destroy();
        throw error;
      }
    }
    this.#current = generation;
    this.#retire(old);
  }

  /**
   * Replaces a server context's ticket keys (80 bytes, as the `ticketKeys` option): tickets issued from now
   * on use them, tickets made with the old keys no longer resume (their clients get a full handshake).
   * Rotate them on every process at once.
   *
   * @throws {TypeError} for keys that are not 80 bytes, on a client context or one with `sessionCache: false`,
   *   or once the context is closed.
   * @example
   * ```ts
   * import { createSslServerContext } from "@comm/socket-stream";
   *
   * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key" });
   * context.setTicketKeys(crypto.getRandomValues(new Uint8Array(80)));
   * ```
   */
  setTicketKeys(keys: Uint8Array): void {
    checkTicketKeys(keys);
    if (this.side !== "server") throw new TypeError("setTicketKeys: ticket keys are a server's");
    if (this.#options.sessionCache === false) {
      throw new TypeError("setTicketKeys: this context has sessionCache: false and issues no tickets");
    }
    setTicketKeys(this.ctx.pointer, keys);
  }

  /** @internal A connection starts using the SSL_CTX; call the returned function when it ends. */
  acquire(): { ctx: SslCtxPointer; configure?: (ssl: SslPointer) => void; release: () => void } {
    const generation = this.#current;
    const ctx = this.ctx;
    generation.connections++;
    let released = false;
    return {
      ctx,
      configure: this.#options.opensslSslConfigureCallback,
      release: () => {
        if (released) return;
        released = true;
        generation.connections--;
        if (generation === this.#current) this.#freeIfDone();
        else this.#retire(generation);
      },
    };
  }

  #retire(generation: Generation): void {
    if (generation.connections > 0) {
      this.#retired.add(generation);
      return;
    }
    this.#retired.delete(generation);
    if (!generation.ctx.freed) generation.ctx.destroy();
  }

  #freeIfDone(): void {
    const current = this.#current;
    if (this.#closed && current.connections === 0 && !current.ctx.freed) current.ctx.destroy();
  }

  /** No new connections; each SSL_CTX is freed when the last connection using it is gone. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#freeIfDone();
  }

  /** Closes the context (as `close()`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * What a chooser answered, checked: an open server context, or `fallback` for none.
 *
 * @throws {TypeError} for anything else.
 */
export function checkChosen(chosen: unknown, fallback: SslAbstractContext, who: string): SslAbstractContext {
  if (chosen === undefined || chosen === null) return fallback;
  if (!(chosen instanceof SslAbstractContext) || chosen.side !== "server") {
    throw new TypeError(`${who} chose ${describe(chosen)}, not a server SslAbstractContext`);
  }
  if (chosen.closed) throw new TypeError(`${who} chose a closed context`);
  return chosen;
}

/** An SSL_CTX of a context and how many connections use it. */
interface Generation {
  readonly ctx: SslCtxPointer;
  /** What a client's sessions on it are bound to (see `_verify_policy.ts`). */
  readonly identity: string;
  connections: number;
}

/** How many hosts a client context's session cache keeps. */
const SESSION_CACHE_HOSTS = 1000;

function build(
  side: "client" | "server",
  given: AnyContextOptions,
  configure: (ctx: SslCtxPointer, trust: string, kept: AnyContextOptions) => void,
): SslAbstractContext {
  const name = side === "client" ? "createSslClientContext" : "createSslServerContext";
  // Taken once: the check and every build see the same values (an inherited one is refused, not dropped).
  const options = ownOptions(name, given, side === "client" ? CLIENT_KEYS : SERVER_KEYS);
  checkOptions(name, options);
  const choose = options.sni === undefined ? undefined : sniChooser(options.sni);
  // What every build (creation and each reload()) applies: a copy, so a caller changing its options object (or
  // an array or byte array in it) afterwards changes nothing, on a reload neither.
  const kept = Object.fromEntries(
    Object.entries(options).map(([key, value]) => [key, keptCopy(value)]),
  ) as AnyContextOptions;
  return new SslAbstractContext(side, kept, (self) => {
    // Sessions carry the trust files' contents too: a reload that changes a CRL or the CAs ends resumption of
    // sessions verified before it.
    const trust = trustFilesDigest(kept);
    const ctx = makeCtx(side, kept, (made) => configure(made, trust, kept), self, name);
    return { ctx, identity: `${side} context ${configurationOf(kept)} ${trust}`, connections: 0 };
  }, choose);
}

/**
 * A digest of the trust files a context reads (`crlFile`, `opensslTrustedFile`, the files of
 * `opensslTrustedDirectory`), as they are now. A file that cannot be read here gives a random digest: no
 * session resumes across a reload then.
 */
// A copy of an option value, down to its byte arrays (a `ca` list of DER, `psk` entries with their keys): arrays
// and plain objects are copied, bytes sliced; functions and the module's own objects are kept as they are.
function keptCopy(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return value.map(keptCopy);
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, each]) => [key, keptCopy(each)]));
  }
  return value;
}

function trustFilesDigest(options: AnyContextOptions): string {
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  try {
    for (const file of [options.crlFile, options.opensslTrustedFile]) {
      if (file !== undefined) parts.push(encoder.encode(file), Deno.readFileSync(file));
    }
    const directory = options.opensslTrustedDirectory;
    if (directory !== undefined) {
      const names = [...Deno.readDirSync(directory)].filter((entry) => !entry.isDirectory).map((entry) =>
        entry.name
      )
        .sort();
      for (const entry of names) {
        parts.push(encoder.encode(entry), Deno.readFileSync(`${directory}/${entry}`));
      }
    }
  } catch {
    parts.push(crypto.getRandomValues(new Uint8Array(32)));
  }
  if (parts.length === 0) return "no trust files";
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length + 8, 0));
  let offset = 0;
  for (const part of parts) {
    new DataView(all.buffer).setBigUint64(offset, BigInt(part.length));
    all.set(part, offset + 8);
    offset += part.length + 8;
  }
  return sha256Hex(all);
}

/** A new SSL_CTX with every option applied, for the context `self`. */
function makeCtx(
  side: "client" | "server",
  options: AnyContextOptions,
  configure: (ctx: SslCtxPointer) => void,
  self: SslAbstractContext,
  name: string,
): SslCtxPointer {
  const ctx = newContextFor(true, side, { secureClientDefaults: false });
  try {
    if (side === "server") installNameCheck(ctx, () => self);
    applyProtocolAndCiphers(ctx, options, name);
    loadIdentity(ctx, options, name);
    configure(ctx);
    if (options.alpnProtocols !== undefined) {
      const { libssl } = loadOpenssl();
      if (side === "client") {
        const wire = encodeAlpn(options.alpnProtocols);
        if (libssl.SSL_CTX_set_alpn_protos(ctx.pointer, wire, wire.length) !== 0) {
          throw callFailed(`${name}: alpnProtocols`);
        }
      } else {
        libssl.SSL_CTX_set_alpn_select_cb(
          ctx.pointer,
          alpnSelectCallback(ctx.pointer, options.alpnProtocols),
          null,
        );
      }
    }
    applySessions(ctx, side, options, self);
    applyPsk(ctx, side, options, name);
    applyPostHandshake(ctx, side, options);
    applyMessageWatch(ctx, options);
    applyKeylog(ctx, options);
    options.opensslCtxConfigureCallback?.(ctx);
  } catch (error) {
    ctx.destroy();
    throw error;
  }
  return ctx;
}

/** A server that asks for client certificates names the CAs of `ca` in its request (`acceptableCas`). */
function announceAcceptableCas(ctx: SslCtxPointer, ca: PemOrDer): void {
  const { libssl, libcrypto } = loadOpenssl();
  const certificates = readCertificatesAny(ca, "createSslServerContext: ca");
  try {
    for (const certificate of certificates) {
      if (libssl.SSL_CTX_add_client_CA(ctx.pointer, certificate) !== 1) {
        throw callFailed("createSslServerContext: naming the CAs of ca in certificate requests");
      }
    }
  } finally {
    for (const certificate of certificates) libcrypto.X509_free(certificate);
  }
}

/** A client's post-handshake authentication and renegotiation policy. */
function applyPostHandshake(ctx: SslCtxPointer, side: "client" | "server", options: AnyContextOptions): void {
  if (side !== "client") return;
  const { libssl } = loadOpenssl();
  if (options.postHandshakeAuth) libssl.SSL_CTX_set_post_handshake_auth(ctx.pointer, 1);
  if (options.certRequestCallback !== undefined) {
    chooseClientCertificates(ctx.pointer, options.certRequestCallback);
  }
  if (!options.allowRenegotiation) libssl.SSL_CTX_set_options(ctx.pointer, SSL_OP_NO_RENEGOTIATION);
}

/** `onMessage` and `trace`: every protocol message of every connection. */
function applyMessageWatch(ctx: SslCtxPointer, options: AnyContextOptions): void {
  const { onMessage, trace } = options;
  if (onMessage === undefined && !trace) return;
  watchContextMessages(ctx.pointer, (ssl, ...message) => {
    if (trace) {
      const id = Deno.UnsafePointer.value(ssl).toString(16).slice(-6);
      console.error(`[tls ${id}] ${describeMessage(...message)}`);
    }
    onMessage?.(...message);
  });
}

/** A client's PSK to offer, or a server's PSK lookup and hint. */
function applyPsk(
  ctx: SslCtxPointer,
  side: "client" | "server",
  options: AnyContextOptions,
  name: string,
): void {
  const raw = ctx.pointer;
  if (side === "client") {
    const { psk } = options;
    const choose = options.pskCallback as SslClientContextOptions["pskCallback"];
    if (psk !== undefined) offerPsk(raw, () => psk);
    else if (choose !== undefined) offerPsk(raw, choose);
    return;
  }
  const lookup = options.pskCallback as SslServerContextOptions["pskCallback"];
  if (lookup === undefined) return;
  acceptPsk(raw, lookup);
  if (
    options.pskIdentityHint !== undefined &&
    loadOpenssl().libssl.SSL_CTX_use_psk_identity_hint(raw, cString(options.pskIdentityHint)) !== 1
  ) {
    throw callFailed(`${name}: pskIdentityHint`);
  }
}

/** A server's session lifetime, tickets and cache; a client's view of the sessions it is issued. */
function applySessions(
  ctx: SslCtxPointer,
  side: "client" | "server",
  options: AnyContextOptions,
  self: SslAbstractContext,
): void {
  const raw = ctx.pointer;
  if (side === "client") {
    if (options.sessionCache || options.onSession) {
      watchNewSessions(raw, (ssl, session) => self.sessionIssued(ssl, session));
    }
    return;
  }
  if (options.sessionCache === false) {
    disableServerResumption(raw);
    return;
  }
  if (options.sessionTimeout !== undefined) setSessionTimeout(raw, options.sessionTimeout);
  if (options.numTickets !== undefined) setNumTickets(raw, options.numTickets);
  if (options.ticketKeys !== undefined) setTicketKeys(raw, options.ticketKeys);
}

/**
 * Makes a client context, LispWorks 8's `create-ssl-client-context`. By
 * default it verifies the server against the system trust store
 * (`SSL_CERT_FILE` / `SSL_CERT_DIR` honoured), checks the host name, and
 * accepts TLS 1.2 and 1.3.
 *
 * @param options trust, identity (for client certificates), versions, ALPN, ciphers, session, key log.
 * @returns the context; close it when done (connections keep it alive until they end).
 * @throws {TypeError} or {RangeError} for a wrong or unknown option, naming it.
 * @throws {SslCondition} when OpenSSL refuses a file, a key, a list or a password.
 * @example Mutual TLS with a client certificate
 * ```ts
 * import { createSslClientContext, openTcpStream } from "@comm/socket-stream";
 *
 * using context = createSslClientContext({
 *   certFile: "client.pem",
 *   keyFile: "client.key",
 *   ca: await Deno.readTextFile("ca.pem"),
 * });
 * await using stream = await openTcpStream("localhost", 8443, { sslCtx: context });
 * ```
 * @example Revocation: a CRL, and the server's stapled OCSP response required
 * ```ts
 * import { createSslClientContext } from "@comm/socket-stream";
 *
 * using context = createSslClientContext({
 *   crlFile: "ca.crl",
 *   ocspCheck: "require",
 *   pins: ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
 * });
 * ```
 */
export function createSslClientContext(options: SslClientContextOptions = {}): SslAbstractContext {
  return build("client", options, (ctx, _trust, kept) => {
    const own = kept as SslClientContextOptions;
    const verify = own.verify ?? true;
    if (typeof verify !== "boolean") throw new TypeError(`verify must be a boolean, got ${describe(verify)}`);
    loadTrust(ctx, own, verify, "createSslClientContext");
    setVerify(
      ctx,
      verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
      own.verifyCallback,
      own.pins,
      "client",
    );
    if (verify) markVerifyingByDefault(ctx.pointer);
    else recordVerificationChoice("ctx", ctx.pointer, false);
    if (own.ocspCheck !== undefined) {
      if (!verify) throw new TypeError("ocspCheck checks the verified chain: it needs verify: true");
      checkStapledResponses(ctx.pointer, own.ocspCheck);
    }
    if (own.ocspCheck !== undefined || own.requestOcsp) requestOcsp(ctx.pointer);
  });
}

/**
 * Makes a server context, LispWorks 8's `create-ssl-server-context`. It
 * needs a certificate and key. With `requestClientCert` or
 * `requireClientCert` it verifies client certificates against `ca`,
 * `opensslTrustedFile` or `opensslTrustedDirectory` (one is needed: a
 * server does not trust the system store for clients unless told to).
 *
 * With `sni`, a client asking for another name (SNI) is served by the context
 * registered for it (exact names first, then `*.domain` wildcards), with all
 * of that context's settings; any other name, or none, gets this context.
 *
 * @param options identity, client certificates, versions, ALPN, ciphers, key log, SNI.
 * @returns the context.
 * @throws {TypeError} or {RangeError} for a wrong or missing option, naming it.
 * @throws {SslCondition} when OpenSSL refuses a file, a key, a list or a password.
 * @example
 * ```ts
 * import { createSslServerContext, makeInstance } from "@comm/socket-stream";
 *
 * using context = createSslServerContext({ certFile: "server.pem", keyFile: "server.key", alpnProtocols: ["h2"] });
 * for await (const socket of Deno.listen({ port: 8443 })) {
 *   const stream = await makeInstance("socket-stream", { socket, sslCtx: context });
 *   stream.close();
 * }
 * ```
 * @example Stapling an OCSP response, refreshed by the application
 * ```ts
 * import { createSslServerContext } from "@comm/socket-stream";
 *
 * let current = await Deno.readFile("server.ocsp.der"); // from `openssl ocsp -respout`
 * setInterval(async () => current = await Deno.readFile("server.ocsp.der"), 3_600_000);
 * using context = createSslServerContext({
 *   certFile: "server.pem",
 *   keyFile: "server.key",
 *   ocspResponse: () => current,
 * });
 * ```
 */
export function createSslServerContext(given: SslServerContextOptions): SslAbstractContext {
  const options = ownOptions("createSslServerContext", given, SERVER_KEYS);
  const identity = options.certFile !== undefined || options.cert !== undefined ||
    options.pfx !== undefined ||
    options.pfxFile !== undefined || options.pskCallback !== undefined;
  if (!identity) {
    throw new TypeError(
      "createSslServerContext needs certFile and keyFile, cert and key, pfx or pfxFile (or pskCallback alone)",
    );
  }
  return build("server", options, (ctx, trust, kept) => {
    const own = kept as SslServerContextOptions;
    const { requestClientCert = false, requireClientCert = false } = own;
    for (
      const [key, value] of [["requestClientCert", requestClientCert], [
        "requireClientCert",
        requireClientCert,
      ]]
    ) {
      if (typeof value !== "boolean") throw new TypeError(`${key} must be a boolean, got ${describe(value)}`);
    }
    if (own.pins !== undefined && !requireClientCert) {
      throw new TypeError(
        "createSslServerContext: pins on a server need requireClientCert (with requestClientCert alone a client " +
          "without a certificate would pass them)",
      );
    }
    if (own.pskCallback !== undefined && (requestClientCert || requireClientCert)) {
      throw new TypeError(
        "createSslServerContext: a client that uses the PSK is authenticated by the key and sends no certificate " +
          "(TLS 1.3 forbids asking), so requestClientCert/requireClientCert would not hold for it: use a context " +
          "without pskCallback for certificate clients",
      );
    }
    const asks = requestClientCert || requireClientCert;
    const trusted = loadTrust(ctx, own, false, "createSslServerContext");
    if (asks && !trusted) {
      throw new TypeError(
        "createSslServerContext: requestClientCert/requireClientCert need ca, opensslTrustedFile or opensslTrustedDirectory",
      );
    }
    if (asks && own.ca !== undefined) announceAcceptableCas(ctx, own.ca);
    const bits = !asks
      ? SSL_VERIFY_NONE
      : SSL_VERIFY_PEER | (requireClientCert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    setVerify(ctx, bits, own.verifyCallback, own.pins, "server");
    setServerSessionContext(ctx.pointer, `${configurationOf(own)} ${trust}`);
    if (own.ocspResponse !== undefined) stapleResponses(ctx.pointer, own.ocspResponse);
  });
}
