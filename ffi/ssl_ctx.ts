/**
 * Making and freeing `SSL_CTX` and `SSL` objects: `makeSslCtx`, `sslNew`,
 * `destroySslCtx`, `destroySsl`, and the mapping from LispWorks' protocol
 * symbols to OpenSSL methods.
 *
 * @module
 */

import {
  SSL_OP_NO_RENEGOTIATION,
  SSL_VERIFY_PEER,
  TLS1_1_VERSION,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
  TLS1_VERSION,
} from "./constants.ts";
import { callFailed, clearErrors } from "./_error_queue.ts";
import { cString } from "./_cstring.ts";
import { sha256 } from "./_digest.ts";
import { keylogFromEnvironment } from "./_keylog_environment.ts";
import { giveClientTrustStore, markVerifyingByDefault } from "./_verify_policy.ts";
import { addSystemTrust } from "./_system_trust.ts";
import { SslCondition } from "./errors.ts";
import { loadOpenssl } from "./library.ts";
import { SSL_CTX_set_max_proto_version, SSL_CTX_set_min_proto_version } from "./macros.ts";
import { describe, SslCtxPointer, SslPointer } from "./pointers.ts";
import { ownOptions } from "./_option_checks.ts";
import { opensslVersion } from "./version.ts";

/** Which end of the connection: LispWorks' `:client`, `:server` or `:both`. */
export type SslSide = "client" | "server" | "both";

/**
 * A protocol symbol, as LispWorks' `:ssl-ctx` takes it. `true`, `"default"`
 * and `"v23"` negotiate the best version both ends have (TLS 1.2 or 1.3);
 * `"tls-v1"` pins TLS 1.0; `"tls-v1-1"`, `"tls-v1-2"` and `"tls-v1-3"` are
 * extensions that pin that version. `"v2"` and `"v3"` always fail: OpenSSL 3
 * has neither.
 */
export type SslProtocol =
  | true
  | "default"
  | "v2"
  | "v3"
  | "v23"
  | "tls-v1"
  | "tls-v1-1"
  | "tls-v1-2"
  | "tls-v1-3";

const SIDES: readonly SslSide[] = ["client", "server", "both"];

/** The version each pinning symbol fixes, and whether it needs security level 0. */
const PINNED: Partial<Record<string, { version: number; legacy: boolean }>> = {
  "tls-v1": { version: TLS1_VERSION, legacy: true },
  "tls-v1-1": { version: TLS1_1_VERSION, legacy: true },
  "tls-v1-2": { version: TLS1_2_VERSION, legacy: false },
  "tls-v1-3": { version: TLS1_3_VERSION, legacy: false },
};

const FLEXIBLE = new Set<unknown>([true, "default", "v23"]);

/**
 * The TLS 1.2 cipher suites a context the module makes offers: forward secrecy and AEAD only (Mozilla's
 * "intermediate" profile, without static RSA key exchange or CBC). TLS 1.3 suites are OpenSSL's. Wider lists
 * are opt-in: `ciphers`, `setCipherList`, or the legacy symbols "tls-v1" and "tls-v1-1".
 */
export const DEFAULT_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "DHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384",
  "DHE-RSA-CHACHA20-POLY1305",
].join(":");

/** The session id context of server contexts made from a symbol (sessions resume with client certificates). */
const SERVER_SESSION_CONTEXT = "@comm/socket-stream server";

/** Sets the module's default TLS 1.2 cipher suites on a context. */
export function setDefaultCiphers(raw: Deno.PointerObject): void {
  if (loadOpenssl().libssl.SSL_CTX_set_cipher_list(raw, cString(DEFAULT_CIPHERS)) !== 1) {
    throw callFailed("Setting the default cipher suites");
  }
}

/**
 * Sets a server context's session id context: without one, OpenSSL refuses to resume any session on a
 * server that asks for client certificates ("session id context uninitialized"). At most 32 bytes: longer
 * text is hashed.
 */
export function setServerSessionContext(raw: Deno.PointerObject, text: string): void {
  const bytes = new TextEncoder().encode(text);
  const context = bytes.length <= 32 ? bytes : sha256(bytes);
  if (loadOpenssl().libssl.SSL_CTX_set_session_id_context(raw, context, context.length) !== 1) {
    throw callFailed("Setting the session id context");
  }
}

let emptyPassword: Deno.PointerObject | null = null;

/**
 * Stops OpenSSL from prompting on the terminal for the password of an
 * encrypted key (its default when no callback is set): without a callback,
 * the user data is taken as the password, and here it is "". One native
 * string serves every context for the life of the process.
 */
export function neverPromptForPasswords(raw: Deno.PointerObject): void {
  const { libssl, libcrypto } = loadOpenssl();
  emptyPassword ??= libcrypto.CRYPTO_strdup(new Uint8Array(1), null, 0);
  libssl.SSL_CTX_set_default_passwd_cb_userdata(raw, emptyPassword);
}

/**
 * Checks a side argument.
 *
 * @throws {TypeError} naming `name` for anything but "client", "server" or "both".
 */
export function checkSide(name: string, side: unknown): asserts side is SslSide {
  if (!SIDES.includes(side as SslSide)) {
    throw new TypeError(`${name} must be "client", "server" or "both", got ${describe(side)}`);
  }
}

/**
 * The one role a context's method allows: "client" for `TLS_client_method`, "server" for `TLS_server_method`,
 * `null` for `TLS_method` (either) or a method the module did not make.
 */
export function methodSideOf(ctx: SslCtxPointer): "client" | "server" | null {
  const { libssl } = loadOpenssl();
  const method = libssl.SSL_CTX_get_ssl_method(ctx.pointer);
  if (method === null) return null;
  if (Deno.UnsafePointer.equals(method, libssl.TLS_client_method())) return "client";
  if (Deno.UnsafePointer.equals(method, libssl.TLS_server_method())) return "server";
  return null;
}

/** Whether `value` is one of the protocol symbols. */
export function isSslProtocol(value: unknown): value is SslProtocol {
  return FLEXIBLE.has(value) || value === "v2" || value === "v3" ||
    (typeof value === "string" && Object.hasOwn(PINNED, value));
}

/**
 * Checks a protocol symbol and a side before anything is allocated.
 *
 * @throws {SslCondition} for "v2" / "v3", which OpenSSL 3 lacks.
 * @throws {TypeError} for anything that is not a symbol or a side.
 */
export function checkProtocolAndSide(protocol: unknown, side: unknown): void {
  checkSide("sslSide", side);
  if (protocol === "v2" || protocol === "v3") {
    const name = protocol === "v2" ? "SSLv2" : "SSLv3";
    throw new SslCondition(
      `${name} (sslCtx: "${protocol}") is not available: the linked ${opensslVersion()} has no ${name}; ` +
        `use true or "default" for TLS 1.2/1.3, or "tls-v1" for a legacy TLS 1.0 peer`,
    );
  }
  if (!isSslProtocol(protocol)) {
    throw new TypeError(
      `sslCtx must be true, "default", "v23", "tls-v1", "tls-v1-1", "tls-v1-2" or "tls-v1-3", got ${
        describe(protocol)
      }`,
    );
  }
}

/**
 * Makes a new `SSL_CTX` for a protocol symbol and a side: the method from
 * the side, the version range from the symbol (TLS 1.2 and later for the
 * flexible ones; a pin with security level 0 for TLS 1.0 and 1.1, on this
 * context only), forward-secret AEAD cipher suites at TLS 1.2, a session id
 * context for servers, and for clients the secure defaults: `SSL_VERIFY_PEER`
 * and the system trust store. Nothing is allocated if the arguments are wrong.
 */
export function newContextFor(
  protocol: SslProtocol,
  side: SslSide,
  { secureClientDefaults = true }: { secureClientDefaults?: boolean } = {},
): SslCtxPointer {
  checkProtocolAndSide(protocol, side);
  const { libssl } = loadOpenssl();
  clearErrors();
  const method = side === "client"
    ? libssl.TLS_client_method()
    : side === "server"
    ? libssl.TLS_server_method()
    : libssl.TLS_method();
  const raw = libssl.SSL_CTX_new(method);
  if (raw === null) throw callFailed("SSL_CTX_new");
  const ctx = new SslCtxPointer(raw, true);
  neverPromptForPasswords(raw);
  keylogFromEnvironment(raw);
  try {
    const pin = typeof protocol === "string" && Object.hasOwn(PINNED, protocol)
      ? PINNED[protocol]
      : undefined;
    if (pin) {
      // TLS 1.0 and 1.1 sign with SHA-1/MD5, which OpenSSL 3 allows only at level 0.
      if (pin.legacy) libssl.SSL_CTX_set_security_level(raw, 0);
      if (
        SSL_CTX_set_min_proto_version(raw, pin.version) !== 1 ||
        SSL_CTX_set_max_proto_version(raw, pin.version) !== 1
      ) {
        throw callFailed(`Pinning ${protocol}`);
      }
    } else if (SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION) !== 1) {
      // true, "default" and "v23": TLS 1.2 or later, on purpose, whatever the security level would allow.
      throw callFailed("Setting TLS 1.2 as the lowest version");
    }
    // Forward-secret AEAD suites only at TLS 1.2; TLS 1.0 and 1.1 have none, so their symbols keep OpenSSL's.
    if (!pin?.legacy) setDefaultCiphers(raw);
    if (side !== "client") setServerSessionContext(raw, SERVER_SESSION_CONTEXT);
    if (side === "client" && secureClientDefaults) {
      // A client goes along with no TLS 1.2 renegotiation unless told to (clear it in ctxConfigureCallback).
      libssl.SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION);
      libssl.SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, null);
      markVerifyingByDefault(raw);
      // Honours SSL_CERT_FILE and SSL_CERT_DIR; the file is parsed once while it is unchanged.
      if (!addSystemTrust(libssl.SSL_CTX_get_cert_store(raw))) {
        throw callFailed("Loading the system trust store");
      }
    }
    // A "both" context's client SSLs verify against the system store; its server SSLs do not trust it.
    if (side === "both" && !giveClientTrustStore(raw)) throw callFailed("Loading the system trust store");
  } catch (error) {
    ctx.destroy();
    throw error;
  }
  return ctx;
}

/** Options of `makeSslCtx`. */
export interface MakeSslCtxOptions {
  /**
   * The protocol symbol.
   * @default {true}
   */
  sslCtx?: SslProtocol;
  /**
   * Which method: `TLS_client_method`, `TLS_server_method` or `TLS_method`.
   * @default {"server"}
   */
  sslSide?: SslSide;
}

// makeSslCtx takes only these (api.md): a callback here would never run.
const MAKE_SSL_CTX_KEYS: ReadonlySet<string> = new Set(["sslCtx", "sslSide"]);

/**
 * Makes an `SSL_CTX`, LispWorks' `make-ssl-ctx`. The caller owns it: pass it
 * as `sslCtx` to any number of streams (none of them frees it) and free it
 * with `destroySslCtx` or `using`. A client context verifies the peer against
 * the system trust store (`SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured).
 *
 * @param opts the protocol symbol and the side.
 * @returns the new context.
 * @throws {SslCondition} for "v2" and "v3", naming the linked OpenSSL.
 * @throws {TypeError} for an `SslPointer`, an `SslCtxPointer` or anything
 *   else that is not a protocol symbol, for an unknown side, and for any
 *   other option.
 * @example A context shared by many client connections
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslCtx: "tls-v1-3", sslSide: "client" });
 * // await openTcpStream("example.com", 443, { sslCtx: ctx }) as often as needed
 * ```
 */
export function makeSslCtx(opts: MakeSslCtxOptions = {}): SslCtxPointer {
  const { sslCtx = true, sslSide = "server" } = ownOptions("makeSslCtx", opts, MAKE_SSL_CTX_KEYS);
  const given: unknown = sslCtx;
  if (given instanceof SslPointer || given instanceof SslCtxPointer) {
    throw new TypeError(`makeSslCtx takes a protocol symbol as sslCtx, not an ${given.constructor.name}`);
  }
  return newContextFor(sslCtx, sslSide);
}

/**
 * Makes an `SSL` from a context, LispWorks' `ssl-new`. The caller owns it:
 * free it with `destroySsl` or `using`, also after a stream used it.
 *
 * @param ctx the context.
 * @returns the new `SSL`.
 * @throws {TypeError} if `ctx` is not an `SslCtxPointer` or was freed.
 * @example
 * ```ts
 * import { makeSslCtx, sslNew } from "@comm/socket-stream";
 * import { loadOpenssl } from "@comm/socket-stream/ffi";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * using ssl = sslNew(ctx);
 * loadOpenssl().libssl.SSL_set_connect_state(ssl.pointer);
 * ```
 */
export function sslNew(ctx: SslCtxPointer): SslPointer {
  if (!(ctx instanceof SslCtxPointer)) {
    throw new TypeError("sslNew needs an SslCtxPointer");
  }
  const { libssl } = loadOpenssl();
  clearErrors();
  const raw = libssl.SSL_new(ctx.pointer);
  if (raw === null) throw callFailed("SSL_new");
  // The SSL keeps the context, and the callbacks set on it, alive until it is freed.
  return new SslPointer(raw, true, Deno.UnsafePointer.value(ctx.pointer));
}

/**
 * Frees an `SSL_CTX`, LispWorks' `destroy-ssl-ctx`. Streams still using it
 * keep working (OpenSSL counts references); the wrapper is dead afterwards.
 *
 * @param ctx the context to free.
 * @throws {TypeError} if it is not an `SslCtxPointer` or was already freed.
 * @example
 * ```ts
 * import { destroySslCtx, makeSslCtx } from "@comm/socket-stream";
 *
 * const ctx = makeSslCtx();
 * destroySslCtx(ctx);
 * console.log(ctx.freed); // true
 * ```
 */
export function destroySslCtx(ctx: SslCtxPointer): void {
  if (!(ctx instanceof SslCtxPointer)) throw new TypeError("destroySslCtx needs an SslCtxPointer");
  ctx.destroy();
}

/**
 * Frees an `SSL`, LispWorks' `destroy-ssl`. Do not free one that an open
 * stream is using: the stream's next call then fails with a `TypeError`.
 *
 * @param ssl the `SSL` to free.
 * @throws {TypeError} if it is not an `SslPointer` or was already freed.
 * @example
 * ```ts
 * import { destroySsl, makeSslCtx, sslNew } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx();
 * const ssl = sslNew(ctx);
 * destroySsl(ssl);
 * console.log(ssl.freed); // true
 * ```
 */
export function destroySsl(ssl: SslPointer): void {
  if (!(ssl instanceof SslPointer)) throw new TypeError("destroySsl needs an SslPointer");
  ssl.destroy();
}
