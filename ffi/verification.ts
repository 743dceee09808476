/**
 * `setVerificationMode` and `getVerificationMode`: LispWorks' control of peer
 * verification, with an optional JavaScript verify callback.
 *
 * @module
 */

import {
  SSL_VERIFY_CLIENT_ONCE,
  SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
  SSL_VERIFY_NONE,
  SSL_VERIFY_PEER,
  X509_V_ERR_APPLICATION_VERIFICATION,
  X509_V_OK,
} from "./constants.ts";
import { nameOf } from "./certificate.ts";
import { readCString } from "./_cstring.ts";
import { callbackFor } from "./_lifetimes.ts";
import { recordVerificationChoice } from "./_verify_policy.ts";
import { loadOpenssl } from "./library.ts";
import { type CtxOrSsl, describe, targetOf } from "./pointers.ts";
import { checkSide, type SslSide } from "./ssl_ctx.ts";

/** A verification flag, LispWorks' `:verify-peer`, `:fail-if-no-peer-cert`, `:verify-client-once`. */
export type VerificationFlag = "verify-peer" | "fail-if-no-peer-cert" | "verify-client-once";

/**
 * How to verify: "never", "always", "once", a list of flags, or the
 * `SSL_VERIFY_*` bits as a number.
 */
export type VerificationMode = "never" | "always" | "once" | readonly VerificationFlag[] | number;

/** What a verify callback is told about the certificate being checked. */
export interface VerifyInfo {
  /** 0 for the peer's own certificate, 1 for its issuer, and so on. */
  depth: number;
  /** OpenSSL's verdict so far: `X509_V_OK` (0) or an `X509_V_ERR_*` code. */
  code: number;
  /** OpenSSL's text for `code`. */
  message: string;
  /** The certificate's subject in RFC 2253 form. */
  subject: string;
}

/**
 * Decides each certificate of the peer's chain: `preverifyOk` is OpenSSL's
 * verdict, the answer is the final one. A callback that throws rejects.
 */
export type VerifyCallback = (preverifyOk: boolean, info: VerifyInfo) => boolean;

const FLAGS: Record<VerificationFlag, number> = {
  "verify-peer": SSL_VERIFY_PEER,
  "fail-if-no-peer-cert": SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
  "verify-client-once": SSL_VERIFY_CLIENT_ONCE,
};

// SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT | CLIENT_ONCE | POST_HANDSHAKE
const ALL_VERIFY_BITS = 0x0f;

// int verify_callback(int preverify_ok, X509_STORE_CTX *x509_ctx)
const VERIFY_CALLBACK = { parameters: ["i32", "pointer"], result: "i32" } as const;

/** The `SSL_VERIFY_*` bits for a mode and a side. */
export function verifyBits(side: SslSide, mode: VerificationMode): number {
  if (typeof mode === "number") {
    if (!Number.isInteger(mode) || mode < 0 || mode > ALL_VERIFY_BITS) {
      throw new RangeError(
        `mode as a number must be SSL_VERIFY_* bits (an integer from 0 to ${ALL_VERIFY_BITS}), got ${mode}`,
      );
    }
    return mode;
  }
  if (Array.isArray(mode)) {
    return mode.reduce((bits: number, flag: VerificationFlag) => {
      if (typeof flag !== "string" || !Object.hasOwn(FLAGS, flag)) {
        throw new TypeError(
          `mode flags must be "verify-peer", "fail-if-no-peer-cert" or "verify-client-once", got ${
            describe(flag)
          }`,
        );
      }
      return bits | FLAGS[flag];
    }, 0);
  }
  const server = side !== "client";
  switch (mode) {
    case "never":
      // A client still checks and records the result, but goes on whatever it is.
      return SSL_VERIFY_NONE;
    case "always":
      return server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER;
    case "once":
      return server
        ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE
        : SSL_VERIFY_PEER;
    default:
      throw new TypeError(
        `mode must be "never", "always", "once", a list of flags or a number, got ${describe(mode)}`,
      );
  }
}

/**
 * A native verify callback running `callback`, alive until OpenSSL frees the
 * object at `raw`.
 */
export function nativeVerifyCallback(
  kind: "ctx" | "ssl",
  raw: Deno.PointerObject,
  callback: VerifyCallback,
): Deno.PointerObject {
  const { libcrypto } = loadOpenssl();
  return callbackFor(kind, raw, VERIFY_CALLBACK, (preverifyOk, store) => {
    const code = libcrypto.X509_STORE_CTX_get_error(store);
    let accept = false;
    try {
      accept = callback(preverifyOk === 1, {
        depth: libcrypto.X509_STORE_CTX_get_error_depth(store),
        code,
        message: readCString(libcrypto.X509_verify_cert_error_string(BigInt(code))) ?? "",
        subject: nameOf(libcrypto.X509_get_subject_name(libcrypto.X509_STORE_CTX_get_current_cert(store))),
      }) === true;
    } catch {
      accept = false;
    }
    // Make the recorded result agree with the answer.
    if (accept && preverifyOk !== 1) libcrypto.X509_STORE_CTX_set_error(store, X509_V_OK);
    if (!accept && preverifyOk === 1) {
      libcrypto.X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    return accept ? 1 : 0;
  });
}

/**
 * Sets how the peer is verified, LispWorks' `set-verification-mode`, on a
 * context or on one connection.
 *
 * On a server, "never" asks for no client certificate, "always" asks and
 * fails the handshake without a good one, "once" is "always" for the first
 * handshake only. On a client, "never" checks the server but goes on
 * whatever the result (`sslConnectionVerify` tells it afterwards), and
 * "always" (or "once") fails the handshake on a bad certificate.
 *
 * @param target the `SslCtxPointer` or `SslPointer`.
 * @param side which end the mode is for.
 * @param mode the mode, a list of flags, or `SSL_VERIFY_*` bits.
 * @param callback decides each certificate; it stays alive as long as the object.
 * @throws {TypeError} for a wrong target, side, mode or callback.
 * @example Require a client certificate on a server context
 * ```ts
 * import { makeSslCtx, setVerificationMode } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "server" });
 * setVerificationMode(ctx, "server", "always", (ok, info) => ok && info.subject.includes("O=Example"));
 * ```
 */
export function setVerificationMode(
  target: CtxOrSsl,
  side: SslSide,
  mode: VerificationMode,
  callback?: VerifyCallback,
): void {
  const { kind, raw } = targetOf(target, "setVerificationMode");
  checkSide("side", side);
  if (callback !== undefined && typeof callback !== "function") {
    throw new TypeError(`callback must be a function, got ${describe(callback)}`);
  }
  const bits = verifyBits(side, mode);
  const native = callback ? nativeVerifyCallback(kind, raw, callback) : null;
  const { libssl } = loadOpenssl();
  if (kind === "ctx") libssl.SSL_CTX_set_verify(raw, bits, native);
  else libssl.SSL_set_verify(raw, bits, native);
  // The explicit way to let a client skip verification (see _verify_policy.ts); a server's mode says nothing
  // about its clients.
  if (side !== "server") recordVerificationChoice(kind, raw, (bits & SSL_VERIFY_PEER) !== 0);
}

/**
 * The verification flags in force, LispWorks' `get-verification-mode`.
 *
 * @param target the `SslCtxPointer` or `SslPointer`.
 * @returns the flags set; empty for `SSL_VERIFY_NONE`.
 * @throws {TypeError} for a wrong or freed target.
 * @example
 * ```ts
 * import { getVerificationMode, makeSslCtx } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * console.log(getVerificationMode(ctx)); // ["verify-peer"]
 * ```
 */
export function getVerificationMode(target: CtxOrSsl): VerificationFlag[] {
  const { kind, raw } = targetOf(target, "getVerificationMode");
  const { libssl } = loadOpenssl();
  const bits = kind === "ctx" ? libssl.SSL_CTX_get_verify_mode(raw) : libssl.SSL_get_verify_mode(raw);
  return (Object.keys(FLAGS) as VerificationFlag[]).filter((flag) => (bits & FLAGS[flag]) !== 0);
}
