/**
 * A client's certificate chosen when the server asks for one (LispWorks 8's `cert-request-callback`): the
 * callback sees the CAs the server accepts and answers with a certificate and key, now or later (a promise:
 * OpenSSL's handshake waits with SSL_ERROR_WANT_X509_LOOKUP, and the engine steps again once it settles).
 *
 * @module
 */

import { nameOf } from "./certificate.ts";
import { SSL_CTRL_CHAIN_CERT } from "./constants.ts";
import { clearErrors, noteVerifyFailure } from "./_error_queue.ts";
import { callbackFor, releaseWhenFreed } from "./_lifetimes.ts";
import { readCertificates, readPrivateKey } from "./_pem.ts";
import { loadOpenssl } from "./library.ts";
import { describe } from "./pointers.ts";

/** What the server asked for, as `certRequestCallback` sees it. */
export interface CertificateRequestInfo {
  /** The distinguished names of the CAs the server accepts (as `PeerCertificate.subject`), maybe none. */
  acceptableCas: string[];
}

/** A client certificate to send: PEM text of the certificate (then any intermediates) and of its key. */
export interface ClientCertificate {
  /** The certificate, then any intermediates, as PEM text. */
  cert: string;
  /** The private key as PEM text. */
  key: string;
  /** The password of an encrypted key. */
  password?: string;
}

/**
 * Chooses the certificate to send when a server asks: a certificate and key, or `null` for none (the
 * context's own is not sent then either); a promise of either is awaited within the handshake timeout.
 * Throwing (or rejecting) fails the handshake.
 */
export type CertRequestCallback = (
  info: CertificateRequestInfo,
) => ClientCertificate | null | undefined | Promise<ClientCertificate | null | undefined>;

// int cert_cb(SSL *ssl, void *arg)
const CERT_CALLBACK = { parameters: ["pointer", "pointer"], result: "i32" } as const;

type Outcome = { value: ClientCertificate | null | undefined } | { error: unknown };

interface Lookup {
  settled: Promise<void>;
  outcome?: Outcome;
}

// Answers still on their way, by SSL address: OpenSSL asks again once the engine steps after they settle.
const lookups = new Map<bigint, Lookup>();

/** The answer `ssl`'s handshake waits for (it resolves when the callback's promise settles), if any. */
export function pendingCertificateLookup(ssl: Deno.PointerObject): Promise<void> | undefined {
  const lookup = lookups.get(Deno.UnsafePointer.value(ssl));
  return lookup?.outcome === undefined ? lookup?.settled : undefined;
}

function acceptableCasOf(ssl: Deno.PointerObject): string[] {
  const { libssl, libcrypto } = loadOpenssl();
  const names = libssl.SSL_get_client_CA_list(ssl);
  if (names === null) return [];
  const count = libcrypto.OPENSSL_sk_num(names);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(nameOf(libcrypto.OPENSSL_sk_value(names, i)));
  return out;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Puts the answer on the SSL: 1 to go on, 0 to fail the handshake.
function use(ssl: Deno.PointerObject, outcome: Outcome): number {
  const { libssl, libcrypto } = loadOpenssl();
  if ("error" in outcome) {
    noteVerifyFailure(ssl, `certRequestCallback failed: ${reason(outcome.error)}`);
    return 0;
  }
  const answer = outcome.value;
  if (answer === null || answer === undefined) {
    // None: not the context's own either.
    libssl.SSL_certs_clear(ssl);
    return 1;
  }
  if (
    typeof answer !== "object" || typeof answer.cert !== "string" || typeof answer.key !== "string" ||
    (answer.password !== undefined && typeof answer.password !== "string")
  ) {
    noteVerifyFailure(
      ssl,
      `certRequestCallback must answer { cert, key } (PEM text) or null, got ${describe(answer)}`,
    );
    return 0;
  }
  let chain: Deno.PointerObject[] = [];
  let key: Deno.PointerValue = null;
  try {
    chain = readCertificates(answer.cert, "certRequestCallback's cert");
    key = readPrivateKey(answer.key, answer.password, "certRequestCallback's key");
    clearErrors();
    libssl.SSL_certs_clear(ssl);
    const [leaf, ...intermediates] = chain;
    const ok = libssl.SSL_use_certificate(ssl, leaf) === 1 && libssl.SSL_use_PrivateKey(ssl, key) === 1 &&
      intermediates.every((x509) => Number(libssl.SSL_ctrl(ssl, SSL_CTRL_CHAIN_CERT, 1n, x509)) === 1) &&
      libssl.SSL_check_private_key(ssl) === 1;
    if (!ok) {
      noteVerifyFailure(ssl, "certRequestCallback's certificate and key cannot be used together");
      return 0;
    }
    return 1;
  } catch (error) {
    noteVerifyFailure(ssl, `certRequestCallback's answer cannot be read: ${reason(error)}`);
    return 0;
  } finally {
    for (const x509 of chain) libcrypto.X509_free(x509);
    if (key !== null) libcrypto.EVP_PKEY_free(key);
  }
}

/** Every client of the SSL_CTX at `raw` asks `callback` for the certificate to send when a server asks. */
export function chooseClientCertificates(raw: Deno.PointerObject, callback: CertRequestCallback): void {
  const native = callbackFor("ctx", raw, CERT_CALLBACK, (ssl) => {
    if (ssl === null) return 0;
    const address = Deno.UnsafePointer.value(ssl);
    const waiting = lookups.get(address);
    if (waiting !== undefined) {
      // Asked again: the answer has come (use it), or not yet (keep waiting).
      if (waiting.outcome === undefined) return -1;
      lookups.delete(address);
      return use(ssl, waiting.outcome);
    }
    let answer: ReturnType<CertRequestCallback>;
    try {
      answer = callback({ acceptableCas: acceptableCasOf(ssl) });
    } catch (error) {
      return use(ssl, { error });
    }
    if (!(answer instanceof Promise)) return use(ssl, { value: answer });
    const lookup: Lookup = {
      settled: answer.then(
        (value) => void (lookup.outcome = { value }),
        (error) => void (lookup.outcome = { error }),
      ),
    };
    lookups.set(address, lookup);
    releaseWhenFreed("ssl", ssl, () => lookups.delete(address));
    // SSL_ERROR_WANT_X509_LOOKUP: the handshake steps again once the promise settles.
    return -1;
  });
  loadOpenssl().libssl.SSL_CTX_set_cert_cb(raw, native, null);
}
