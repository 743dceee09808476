/**
 * `setCipherList`, `setCiphersuites` and `setGroups`: which ciphers (TLS 1.2
 * and below), cipher suites (TLS 1.3) and key exchange groups to offer.
 *
 * @module
 */

import { callFailed, clearErrors } from "./_error_queue.ts";
import { checkNoNul, cString, quote } from "./_cstring.ts";
import { loadOpenssl } from "./library.ts";
import { SSL_CTX_set1_groups_list, SSL_set1_groups_list } from "./macros.ts";
import { type CtxOrSsl, describe, targetOf } from "./pointers.ts";

// Applies a list to a context or a connection with the matching OpenSSL call; throws what it refused.
function applyList(
  name: string,
  target: CtxOrSsl,
  list: unknown,
  onContext: (raw: Deno.PointerObject, list: string) => number,
  onConnection: (raw: Deno.PointerObject, list: string) => number,
): void {
  const { kind, raw } = targetOf(target, name);
  if (typeof list !== "string" || list === "") {
    throw new TypeError(`${name} needs a non-empty string, got ${describe(list)}`);
  }
  checkNoNul(list, `${name}'s list`);
  clearErrors();
  const ok = kind === "ctx" ? onContext(raw, list) : onConnection(raw, list);
  if (ok !== 1) throw callFailed(`${name}(${quote(list)})`);
}

/**
 * Sets the TLS 1.2-and-below cipher list (OpenSSL's cipher string syntax,
 * e.g. "ECDHE+AESGCM:!aNULL"), LispWorks' `set-cipher-list`.
 *
 * @param target the `SslCtxPointer` or `SslPointer`.
 * @param list the cipher string.
 * @throws {SslCondition} if no cipher matches.
 * @throws {TypeError} for a wrong target or list.
 * @example
 * ```ts
 * import { makeSslCtx, setCipherList } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * setCipherList(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256");
 * ```
 */
export function setCipherList(target: CtxOrSsl, list: string): void {
  const { libssl } = loadOpenssl();
  applyList(
    "setCipherList",
    target,
    list,
    (raw, text) => libssl.SSL_CTX_set_cipher_list(raw, cString(text)),
    (raw, text) => libssl.SSL_set_cipher_list(raw, cString(text)),
  );
}

/**
 * Sets the TLS 1.3 cipher suites, e.g. "TLS_AES_128_GCM_SHA256".
 *
 * @param target the `SslCtxPointer` or `SslPointer`.
 * @param suites colon-separated suite names.
 * @throws {SslCondition} if OpenSSL refuses the list.
 * @throws {TypeError} for a wrong target or list.
 * @example
 * ```ts
 * import { makeSslCtx, setCiphersuites } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * setCiphersuites(ctx, "TLS_CHACHA20_POLY1305_SHA256");
 * ```
 */
export function setCiphersuites(target: CtxOrSsl, suites: string): void {
  const { libssl } = loadOpenssl();
  applyList(
    "setCiphersuites",
    target,
    suites,
    (raw, text) => libssl.SSL_CTX_set_ciphersuites(raw, cString(text)),
    (raw, text) => libssl.SSL_set_ciphersuites(raw, cString(text)),
  );
}

/**
 * Sets the key exchange groups in preference order, e.g. "X25519:P-256".
 *
 * @param target the `SslCtxPointer` or `SslPointer`.
 * @param groups colon-separated group names.
 * @throws {SslCondition} if OpenSSL refuses the list.
 * @throws {TypeError} for a wrong target or list.
 * @example
 * ```ts
 * import { makeSslCtx, setGroups } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * setGroups(ctx, "P-384:P-256");
 * ```
 */
export function setGroups(target: CtxOrSsl, groups: string): void {
  applyList("setGroups", target, groups, SSL_CTX_set1_groups_list, SSL_set1_groups_list);
}
