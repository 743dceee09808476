/**
 * `readDhparams` and `setSslCtxDh`: Diffie-Hellman parameters for DHE
 * ciphers, the OpenSSL 3 way (an `EVP_PKEY`, or automatic parameters).
 *
 * @module
 */

import { ownOptions } from "./_option_checks.ts";
import { cString } from "./_cstring.ts";
import { callFailed, clearErrors } from "./_error_queue.ts";
import { loadOpenssl } from "./library.ts";
import { SSL_CTX_set_dh_auto } from "./macros.ts";
import { withPemBio } from "./_pem.ts";
import { describe, SslCtxPointer } from "./pointers.ts";

/**
 * DH parameters read from PEM (an `EVP_PKEY *`). Free with `using` or
 * `[Symbol.dispose]()`; a context given them keeps its own reference.
 *
 * @example
 * ```ts
 * import { readDhparams } from "@comm/socket-stream";
 *
 * const pem = await Deno.readTextFile("dhparams.pem").catch(() => null);
 * if (pem) {
 *   using dh = readDhparams(pem);
 *   console.log(dh.bits);
 * }
 * ```
 */
export class DhParams implements Disposable {
  #pointer: Deno.PointerObject | null;

  /** @internal Use `readDhparams`. */
  constructor(pointer: Deno.PointerObject) {
    this.#pointer = pointer;
  }

  /**
   * The `EVP_PKEY *`.
   *
   * @throws {TypeError} once disposed.
   */
  get pointer(): Deno.PointerObject {
    if (this.#pointer === null) throw new TypeError("These DhParams were freed");
    return this.#pointer;
  }

  /** The size of the prime in bits. */
  get bits(): number {
    return loadOpenssl().libcrypto.EVP_PKEY_get_bits(this.pointer);
  }

  /** Frees the parameters (contexts that use them keep their own reference). */
  [Symbol.dispose](): void {
    if (this.#pointer === null) return;
    loadOpenssl().libcrypto.EVP_PKEY_free(this.#pointer);
    this.#pointer = null;
  }
}

/**
 * Reads DH parameters from PEM text ("-----BEGIN DH PARAMETERS-----"),
 * LispWorks' `read-dhparams`. Read a file with `Deno.readTextFile` first.
 *
 * @param pem the PEM text or bytes.
 * @returns the parameters; the caller frees them.
 * @throws {SslCondition} if no DH parameters can be read.
 * @example
 * ```ts
 * import { readDhparams } from "@comm/socket-stream";
 *
 * try {
 *   readDhparams("not PEM");
 * } catch (error) {
 *   console.log((error as Error).name); // "SslCondition"
 * }
 * ```
 */
export function readDhparams(pem: string | Uint8Array): DhParams {
  if (typeof pem !== "string" && !(pem instanceof Uint8Array)) {
    throw new TypeError(`readDhparams needs PEM text, got ${describe(pem)}`);
  }
  clearErrors();
  const { libcrypto } = loadOpenssl();
  const key = withPemBio(pem, (bio) => libcrypto.PEM_read_bio_Parameters(bio, null));
  if (key === null) throw callFailed("readDhparams");
  // PEM_read_bio_Parameters reads any parameters (EC, DSA...): only DH ones serve DHE.
  if (
    libcrypto.EVP_PKEY_is_a(key, cString("DH")) !== 1 && libcrypto.EVP_PKEY_is_a(key, cString("DHX")) !== 1
  ) {
    libcrypto.EVP_PKEY_free(key);
    throw new TypeError(
      "readDhparams: the PEM text holds parameters of another kind (EC, DSA...), not DH parameters",
    );
  }
  return new DhParams(key);
}

const DH_KEYS: ReadonlySet<string> = new Set(["dh"]);

/**
 * Sets the DH parameters a server uses for DHE ciphers, LispWorks'
 * `set-ssl-ctx-dh`: the given parameters, or (with no `dh`) parameters
 * chosen automatically to match the certificate's strength.
 *
 * @param ctx a server context.
 * @param options `dh` from `readDhparams`; absent means automatic.
 * @throws {SslCondition} if OpenSSL refuses the parameters (too weak for the security level ...).
 * @example
 * ```ts
 * import { makeSslCtx, setSslCtxDh } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "server" });
 * setSslCtxDh(ctx); // automatic parameters
 * ```
 */
export function setSslCtxDh(ctx: SslCtxPointer, options: { dh?: DhParams } = {}): void {
  if (!(ctx instanceof SslCtxPointer)) {
    throw new TypeError(`setSslCtxDh needs an SslCtxPointer, got ${describe(ctx)}`);
  }
  const { dh } = ownOptions("setSslCtxDh", options, DH_KEYS);
  const raw = ctx.pointer;
  const { libssl, libcrypto } = loadOpenssl();
  clearErrors();
  if (dh === undefined) {
    if (SSL_CTX_set_dh_auto(raw, 1) !== 1) throw callFailed("SSL_CTX_set_dh_auto");
    return;
  }
  if (!(dh instanceof DhParams)) {
    throw new TypeError(`dh must come from readDhparams, got ${describe(dh)}`);
  }
  const key = dh.pointer;
  // SSL_CTX_set0_tmp_dh_pkey takes a reference on success: give it its own.
  libcrypto.EVP_PKEY_up_ref(key);
  if (libssl.SSL_CTX_set0_tmp_dh_pkey(raw, key) !== 1) {
    libcrypto.EVP_PKEY_free(key);
    throw callFailed("SSL_CTX_set0_tmp_dh_pkey");
  }
}
