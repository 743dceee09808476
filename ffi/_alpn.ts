/**
 * ALPN: the wire form of a protocol list, and the server's choice.
 *
 * @module
 */

import { SSL_TLSEXT_ERR_ALERT_FATAL, SSL_TLSEXT_ERR_OK } from "./constants.ts";
import { checkNoNul } from "./_cstring.ts";
import { callbackFor } from "./_lifetimes.ts";
import { describe } from "./pointers.ts";

const encoder = new TextEncoder();

/**
 * The ALPN wire form: each name prefixed by its length.
 *
 * @throws {TypeError} for an empty list, an empty name or one over 255 bytes.
 */
export function encodeAlpn(protocols: readonly string[]): Uint8Array<ArrayBuffer> {
  if (!Array.isArray(protocols) || protocols.length === 0) {
    throw new TypeError(`alpnProtocols must be a non-empty array of strings, got ${describe(protocols)}`);
  }
  const names = protocols.map((protocol) => {
    if (typeof protocol !== "string") {
      throw new TypeError(`alpnProtocols entries must be strings, got ${describe(protocol)}`);
    }
    checkNoNul(protocol, "an alpnProtocols entry");
    const bytes = encoder.encode(protocol);
    if (bytes.length === 0 || bytes.length > 255) {
      throw new TypeError(`alpnProtocols entry ${JSON.stringify(protocol)} must be 1 to 255 bytes long`);
    }
    return bytes;
  });
  const wire = new Uint8Array(names.reduce((sum, name) => sum + name.length + 1, 0));
  // The extension's list carries a 16-bit length.
  if (wire.length > 0xffff) {
    throw new RangeError(`alpnProtocols is ${wire.length} bytes on the wire; at most 65535 fit`);
  }
  let offset = 0;
  for (const name of names) {
    wire[offset++] = name.length;
    wire.set(name, offset);
    offset += name.length;
  }
  return wire;
}

// int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
//                 const unsigned char *in, unsigned int inlen, void *arg)
const ALPN_SELECT = {
  parameters: ["pointer", "pointer", "pointer", "pointer", "u32", "pointer"],
  result: "i32",
} as const;

/**
 * A server's ALPN select callback: the first of `protocols` (the server's
 * preference) that the client offers; none in common fails the handshake
 * with the no_application_protocol alert.
 */
export function alpnSelectCallback(
  raw: Deno.PointerObject,
  protocols: readonly string[],
): Deno.PointerObject {
  const wanted = protocols.map((protocol) => encoder.encode(protocol));
  return callbackFor("ctx", raw, ALPN_SELECT, (_ssl, out, outLength, offered, offeredLength) => {
    if (out === null || outLength === null || offered === null) return SSL_TLSEXT_ERR_ALERT_FATAL;
    const list = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(offered, offeredLength));
    for (const name of wanted) {
      for (let offset = 0; offset < list.length; offset += 1 + list[offset]) {
        const length = list[offset];
        if (length !== name.length || offset + 1 + length > list.length) continue;
        if (name.every((byte, i) => list[offset + 1 + i] === byte)) {
          // Point into OpenSSL's own copy of the client's list, which outlives this call.
          const chosen = Deno.UnsafePointer.value(offered) + BigInt(offset + 1);
          new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(out, 8))[0] = chosen;
          new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(outLength, 1))[0] = length;
          return SSL_TLSEXT_ERR_OK;
        }
      }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  });
}
