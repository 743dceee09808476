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
import { describeCertificate, nameOf, type PeerCertificate, spkiPinOf } from "./certificate.ts";
import { noteVerifyFailure } from "./_error_queue.ts";
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
  /**
   * The certificate being checked, with the same fields as `stream.peerCertificate()` (DER included), so that
   * pinning and identity checks happen before any byte is sent. Read it inside the callback: OpenSSL frees the
   * certificate once verification moves on, so afterwards this is a `TypeError`.
   */
  readonly certificate: PeerCertificate;
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
 * A native verify callback running `callback` (OpenSSL's verdict when there is none), then, once the whole
 * chain is verified (depth 0), checking that some certificate of it carries one of `pins`. Alive until OpenSSL
 * frees the object at `raw`.
 */
export function nativeVerifyCallback(
  kind: "ctx" | "ssl",
  raw: Deno.PointerObject,
  callback: VerifyCallback | undefined,
  pins?: readonly string[],
): Deno.PointerObject {
  const { libssl, libcrypto } = loadOpenssl();
  return callbackFor(kind, raw, VERIFY_CALLBACK, (preverifyOk, store) => {
    const code = libcrypto.X509_STORE_CTX_get_error(store);
    const current = libcrypto.X509_STORE_CTX_get_current_cert(store);
    let inside = true;
    let described: PeerCertificate | undefined;
    let accept = false;
    try {
      accept = callback === undefined ? preverifyOk === 1 : callback(preverifyOk === 1, {
        depth: libcrypto.X509_STORE_CTX_get_error_depth(store),
        code,
        message: readCString(libcrypto.X509_verify_cert_error_string(BigInt(code))) ?? "",
        subject: nameOf(libcrypto.X509_get_subject_name(current)),
        // Described on first use only: most callbacks never look.
        get certificate(): PeerCertificate {
          if (!inside) {
            throw new TypeError(
              "info.certificate can be read only inside the verify callback that received it",
            );
          }
          if (current === null) throw new TypeError("OpenSSL gave the verify callback no certificate");
          return described ??= describeCertificate(current);
        },
      }) === true;
    } catch {
      accept = false;
    } finally {
      inside = false;
    }
    if (accept && pins !== undefined && libcrypto.X509_STORE_CTX_get_error_depth(store) === 0) {
      const chain = libcrypto.X509_STORE_CTX_get0_chain(store);
      const seen: string[] = [];
      for (let i = 0, count = chain === null ? 0 : libcrypto.OPENSSL_sk_num(chain); i < count; i++) {
        const certificate = libcrypto.OPENSSL_sk_value(chain, i);
        if (certificate === null) continue;
        try {
          seen.push(spkiPinOf(certificate));
        } catch {
          // A key OpenSSL cannot encode matches no pin (and nothing may throw out of a native callback).
          seen.push("(a key that cannot be encoded)");
        }
      }
      if (!seen.some((pin) => pins.includes(pin))) {
        accept = false;
        const ssl = libcrypto.X509_STORE_CTX_get_ex_data(store, libssl.SSL_get_ex_data_X509_STORE_CTX_idx());
        noteVerifyFailure(
          ssl,
          `no key of the verified chain matches the pins: the chain has ${seen.join(", ")}; the pins are ${
            pins.join(", ")
          }`,
        );
      }
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

/**
 * OpenSSL's `X509_V_FLAG_*` verification flags by name: `true` sets one, `false` clears it.
 */
export interface VerifyFlags {
  /** `X509_V_FLAG_PARTIAL_CHAIN`: a trusted intermediate (in `ca`) is a trust anchor; no root is needed. */
  partialChain?: boolean;
  /** `X509_V_FLAG_X509_STRICT`: refuse certificates that break the X.509 rules OpenSSL otherwise tolerates. */
  x509Strict?: boolean;
  /** `X509_V_FLAG_IGNORE_CRITICAL`: accept unknown critical extensions. */
  ignoreCriticalExtensions?: boolean;
  /** `X509_V_FLAG_ALLOW_PROXY_CERTS`. */
  allowProxyCertificates?: boolean;
  /** `X509_V_FLAG_POLICY_CHECK`. */
  policyCheck?: boolean;
  /** `X509_V_FLAG_EXPLICIT_POLICY`. */
  explicitPolicy?: boolean;
  /** `X509_V_FLAG_INHIBIT_ANY`. */
  inhibitAnyPolicy?: boolean;
  /** `X509_V_FLAG_INHIBIT_MAP`. */
  inhibitPolicyMapping?: boolean;
  /** `X509_V_FLAG_USE_DELTAS`: use delta CRLs. */
  useDeltas?: boolean;
  /** `X509_V_FLAG_CHECK_SS_SIGNATURE`: check the signature of a self-signed trust anchor too. */
  checkSelfSignedSignature?: boolean;
  /** `X509_V_FLAG_TRUSTED_FIRST`: look for issuers in the trust store before the peer's chain. */
  trustedFirst?: boolean;
  /** `X509_V_FLAG_NO_ALT_CHAINS`: do not look for another chain when the first fails. */
  noAlternativeChains?: boolean;
  /** `X509_V_FLAG_NO_CHECK_TIME`: do not check validity dates (for tests and clocks that cannot be trusted). */
  noCheckTime?: boolean;
}

const VERIFY_FLAG_BITS: Record<keyof VerifyFlags, bigint> = {
  partialChain: 0x80000n,
  x509Strict: 0x20n,
  ignoreCriticalExtensions: 0x10n,
  allowProxyCertificates: 0x40n,
  policyCheck: 0x80n,
  explicitPolicy: 0x100n,
  inhibitAnyPolicy: 0x200n,
  inhibitPolicyMapping: 0x400n,
  useDeltas: 0x2000n,
  checkSelfSignedSignature: 0x4000n,
  trustedFirst: 0x8000n,
  noAlternativeChains: 0x100000n,
  noCheckTime: 0x200000n,
};

/**
 * The flags to set and to clear for `flags`.
 *
 * @throws {TypeError} for an unknown name or a value that is not a boolean.
 */
export function verifyFlagBits(flags: VerifyFlags, what = "verifyFlags"): { set: bigint; clear: bigint } {
  if (typeof flags !== "object" || flags === null || Array.isArray(flags)) {
    throw new TypeError(`${what} must be an object of flags, got ${describe(flags)}`);
  }
  let set = 0n;
  let clear = 0n;
  for (const [name, value] of Object.entries(flags)) {
    if (!Object.hasOwn(VERIFY_FLAG_BITS, name)) {
      throw new TypeError(
        `${what}: unknown flag ${JSON.stringify(name)}; known: ${Object.keys(VERIFY_FLAG_BITS).join(", ")}`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== "boolean") throw new TypeError(`${what}.${name} must be a boolean`);
    if (value) set |= VERIFY_FLAG_BITS[name as keyof VerifyFlags];
    else clear |= VERIFY_FLAG_BITS[name as keyof VerifyFlags];
  }
  return { set, clear };
}

/** The SHA-256 pin form: "sha256/" and the base64 of 32 bytes. */
const PIN = /^sha256\/[A-Za-z0-9+/]{43}=$/;

/**
 * Checks a list of SubjectPublicKeyInfo pins.
 *
 * @throws {TypeError} for an empty list or a pin not in the form "sha256/<base64 of 32 bytes>".
 */
export function checkPins(pins: unknown): asserts pins is readonly string[] {
  if (!Array.isArray(pins) || pins.length === 0) {
    throw new TypeError(`pins must be a non-empty array of "sha256/<base64>" strings, got ${describe(pins)}`);
  }
  for (const pin of pins) {
    if (typeof pin !== "string" || !PIN.test(pin)) {
      throw new TypeError(
        `pins: ${JSON.stringify(pin)} is not a SHA-256 pin ("sha256/" and the base64 of the ` +
          "SubjectPublicKeyInfo's digest, as curl's --pinnedpubkey and PeerCertificate.spkiSha256 write it)",
      );
    }
  }
}
