/**
 * SHA-256 through libcrypto, synchronously (Web Crypto's digest is async), and bytes as hex.
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

// Two lower-case hex digits for each byte value.
const HEX_PAIRS = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** `bytes` as lower-case hex, two digits a byte. */
export function toHex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += HEX_PAIRS[byte];
  return text;
}

/** The SHA-256 of `bytes` as lower-case hex (64 digits). */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}
