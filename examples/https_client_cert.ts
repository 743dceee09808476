/**
 * Mutual TLS with `fetch`: a client certificate whose key is encrypted, which Deno's own `fetch` cannot use.
 *
 *     deno run --allow-ffi --allow-net --allow-read --allow-env examples/https_client_cert.ts [URL CERT KEY PASSWORD [CA]]
 *
 * With the arguments it fetches URL with CERT (PEM, then any intermediates) and the encrypted KEY, trusting
 * CA (PEM) or else the system store. Without them it starts a local HTTPS server that requires a client
 * certificate from the test CA, and uses the test client certificate (key encrypted with "correct horse").
 *
 * @module
 */

import { createSslClientContext, createSslServerContext } from "../mod.ts";
import { createFetch } from "../fetch/mod.ts";
import { fixture, serveHttps } from "./_http_stand_in.ts";

const [url, certFile, keyFile, password, caFile] = Deno.args;

// Without a target: a stand-in that says whose certificate it got.
await using standIn = url === undefined
  ? serveHttps(
    createSslServerContext({
      certFile: fixture("server.pem"),
      keyFile: fixture("server.key"),
      ca: await Deno.readTextFile(fixture("ca.pem")),
      requireClientCert: true,
    }),
    (stream) => `hello, ${stream.peerCertificate()?.subject}\n`,
  )
  : undefined;

using context = createSslClientContext({
  cert: await Deno.readTextFile(certFile ?? fixture("client.pem")),
  key: await Deno.readTextFile(keyFile ?? fixture("client-encrypted.key")),
  password: password ?? "correct horse",
  ...(caFile ?? url === undefined ? { ca: await Deno.readTextFile(caFile ?? fixture("ca.pem")) } : {}),
});
await using fetch = createFetch({ sslCtx: context });
const response = await fetch(url ?? `${standIn!.origin}/`);
console.log(`status:  ${response.status}`);
console.log(`body:    ${(await response.text()).trim()}`);
