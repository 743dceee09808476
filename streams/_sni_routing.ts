/**
 * Server name routing for server contexts (`sni`): which context serves which name, the record of the
 * module's routing choices, and the check that OpenSSL reads the same name the module routed by.
 *
 * @module
 */

import { readCString } from "../ffi/_cstring.ts";
import { callbackFor, releaseWhenFreed } from "../ffi/_lifetimes.ts";
import {
  SSL_AD_UNRECOGNIZED_NAME,
  SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
  SSL_TLSEXT_ERR_ALERT_FATAL,
  SSL_TLSEXT_ERR_OK,
} from "../ffi/constants.ts";
import { loadOpenssl } from "../ffi/library.ts";
import { describe, type SslCtxPointer, type SslPointer } from "../ffi/pointers.ts";

import { SslAbstractContext } from "./abstract_context.ts";
import type { SniContexts } from "./_context_options.ts";

// int servername_cb(SSL *s, int *al, void *arg)
const SERVERNAME_CALLBACK = { parameters: ["pointer", "pointer", "pointer"], result: "i32" } as const;

/** Whether a host name matches a pattern: exact, or `*.domain` for exactly one more label. */
export function hostMatches(pattern: string, name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, "");
  const wanted = pattern.toLowerCase().replace(/\.$/, "");
  if (!wanted.startsWith("*.")) return host === wanted;
  const suffix = wanted.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".") && host.length > suffix.length;
}

/** How a server context picks the context for a name (a function may answer later). */
export type SniChooser = (
  name: string,
) => SslAbstractContext | undefined | Promise<SslAbstractContext | undefined>;

/** The chooser for an `sni` option: a function as it is, a map or record checked and matched exact-first. */
export function sniChooser(sni: SniContexts): SniChooser {
  if (typeof sni === "function") return sni;
  if (typeof sni !== "object" || sni === null) {
    throw new TypeError(
      `sni must be a map of host names to server contexts or a function, got ${describe(sni)}`,
    );
  }
  const entries = sni instanceof Map ? [...sni.entries()] : Object.entries(sni);
  for (const [pattern, context] of entries) {
    if (!(context instanceof SslAbstractContext) || context.side !== "server") {
      throw new TypeError(
        `sni[${JSON.stringify(pattern)}] must be a server SslAbstractContext, got ${describe(context)}`,
      );
    }
  }
  // Exact names before wildcards.
  const ordered = [...entries].sort(([a], [b]) => Number(a.startsWith("*.")) - Number(b.startsWith("*.")));
  return (name) => ordered.find(([pattern]) => hostMatches(pattern, name))?.[1];
}

// Which context routed each SSL it made (see attachSsl) to which, by the SSL's address.
const routes = new Map<bigint, { name: string | null }>();

/**
 * @internal Records that the SSL `ssl` was made from the context the module chose for the ClientHello it read
 * itself, which asked for `name`; the servername callback checks that OpenSSL reads the same name.
 */
export function recordRoute(ssl: SslPointer, name: string | null): void {
  const address = Deno.UnsafePointer.value(ssl.pointer);
  routes.set(address, { name });
  releaseWhenFreed("ssl", ssl.pointer, () => routes.delete(address));
}

/**
 * Every server context checks, when OpenSSL has read the client's name, that the connection runs on the
 * context that name maps to: an SSL made from it by the module's routing (which read the name before the SSL
 * existed), or from its raw SSL_CTX. A name that maps elsewhere fails the handshake with an alert: OpenSSL
 * cannot switch a connection's verify mode, protocol range or ciphers this late, so nothing is switched.
 */
export function installNameCheck(ctx: SslCtxPointer, self: () => SslAbstractContext | undefined): void {
  const { libssl } = loadOpenssl();
  const raw = ctx.pointer;
  const native = callbackFor("ctx", raw, SERVERNAME_CALLBACK, (ssl, alert) => {
    if (ssl === null) return SSL_TLSEXT_ERR_OK;
    const name = readCString(libssl.SSL_get_servername(ssl, 0))?.toLowerCase() ?? null;
    const route = routes.get(Deno.UnsafePointer.value(ssl));
    // Routed by the module: the name it chose by must be the one OpenSSL reads.
    if (route !== undefined && route.name === name) return SSL_TLSEXT_ERR_OK;
    // Made from this context's raw SSL_CTX: the name must map to this context now (a chooser that answers
    // later, or a clientHelloCallback, cannot decide here: refused).
    const context = self();
    if (route === undefined && (context === undefined || context.decidesNow(name) === context)) {
      return SSL_TLSEXT_ERR_OK;
    }
    if (alert !== null) {
      new Int32Array(Deno.UnsafePointerView.getArrayBuffer(alert, 4))[0] = SSL_AD_UNRECOGNIZED_NAME;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  });
  libssl.SSL_CTX_callback_ctrl(raw, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, native);
}
