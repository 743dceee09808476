/**
 * SHA-256 through libcrypto, synchronously (Web Crypto's digest is async).
 *
 * @module
 */

import { loadOpenssl } from "./library.ts";

/** The SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const { libcrypto } = loadOpenssl();
  const digest = new Uint8Array(32);
  const length = new Uint32Array(1);
  if (libcrypto.EVP_Digest(bytes, BigInt(bytes.length), digest, length, libcrypto.EVP_sha256(), null) !== 1) {
    throw new Error("EVP_Digest(SHA-256) failed");
  }
  return digest;
}
