/**
 * Talking to a TLS 1.0 server (an old appliance, a printer, a PLC), which OpenSSL 3 and Deno refuse by
 * default.
 *
 *     deno run --allow-ffi --allow-net --allow-read --allow-env examples/legacy_tls10.ts [URL [CA]]
 *
 * TLS 1.0 signs the handshake with SHA-1 and MD5 and has no AEAD cipher: anyone able to sit on the path may
 * one day break what it protects, so use it only for a device that can do nothing better, on a network you
 * trust, and never for new systems. The context below lowers OpenSSL's security level for itself only.
 *
 * Without a URL it starts a local server that speaks nothing but TLS 1.0 (with the test CA's certificate).
 *
 * @module
 */

import { createSslClientContext, createSslServerContext } from "../mod.ts";
import { createFetch } from "../fetch/mod.ts";
import { fixture, serveHttps } from "./_http_stand_in.ts";

const [url, caFile] = Deno.args;

await using standIn = url === undefined
  ? serveHttps(
    createSslServerContext({
      certFile: fixture("server.pem"),
      keyFile: fixture("server.key"),
      protocolVersion: "tls-v1",
      maxProtocolVersion: "tls-v1",
    }),
    (stream) => `served over ${stream.protocol} with ${stream.cipher}\n`,
  )
  : undefined;

console.warn(
  "warning: TLS 1.0 (SHA-1/MD5 signatures, no AEAD ciphers) is for legacy devices on trusted networks only",
);
using legacy = createSslClientContext({
  protocolVersion: "tls-v1",
  maxProtocolVersion: "tls-v1",
  ...(caFile ?? url === undefined ? { ca: await Deno.readTextFile(caFile ?? fixture("ca.pem")) } : {}),
});
await using fetch = createFetch({ sslCtx: legacy });
const response = await fetch(url ?? `${standIn!.origin}/`);
console.log(`status:  ${response.status}`);
console.log(`body:    ${(await response.text()).trim()}`);
