/**
 * The demo: a TLS server on loopback with a certificate made on the spot, and
 * an `openTcpStream` client that trusts exactly that certificate. It prints
 * what was negotiated and an echoed line.
 *
 *     deno task demo
 *
 * @module
 */

import { makeInstance, makeSslCtx, opensslVersion, openTcpStream } from "../mod.ts";
import { loadOpenssl } from "../ffi/mod.ts";
import { makeSelfSigned } from "./_self_signed.ts";

const { libssl, libcrypto } = loadOpenssl();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

using certificate = makeSelfSigned();

// The server's context: made once, shared by its connections, freed at the end.
using serverCtx = makeSslCtx({ sslSide: "server" });
libssl.SSL_CTX_use_certificate(serverCtx.pointer, certificate.certificate);
libssl.SSL_CTX_use_PrivateKey(serverCtx.pointer, certificate.key);

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const server = (async () => {
  const socket = await listener.accept();
  await using stream = await makeInstance("socket-stream", { socket, sslCtx: serverCtx });
  const buffer = new Uint8Array(1024);
  const count = await stream.read(buffer);
  if (count !== null) {
    await stream.write(encoder.encode(`echo: ${decoder.decode(buffer.subarray(0, count))}`));
  }
})();

// The client: secure by default (verify the peer, check "localhost"); the
// callback adds our fresh certificate to the trust store of its new SSL_CTX.
await using client = await openTcpStream("localhost", listener.addr.port, {
  sslCtx: true,
  handshakeTimeout: 5000,
  ctxConfigureCallback: (ctx) => {
    libcrypto.X509_STORE_add_cert(libssl.SSL_CTX_get_cert_store(ctx.pointer), certificate.certificate);
  },
});
const peer = client.peerCertificate();
console.log(`OpenSSL:   ${opensslVersion()}`);
console.log(`protocol:  ${client.protocol}`);
console.log(`cipher:    ${client.cipher}`);
console.log(`peer:      ${peer?.subject} (${peer?.subjectAltNames.join(", ")})`);
console.log(`sha-256:   ${peer?.fingerprint256}`);

await client.write(encoder.encode("hello over OpenSSL\n"));
const reply = new Uint8Array(1024);
const count = await client.read(reply);
console.log(`reply:     ${decoder.decode(reply.subarray(0, count ?? 0)).trim()}`);
await server;
listener.close();
