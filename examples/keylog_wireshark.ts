/**
 * A key log for Wireshark: every TLS secret of the connections a context makes, in the NSS format, so
 * Wireshark can decrypt a capture of them (Preferences, Protocols, TLS, "(Pre)-Master-Secret log filename").
 * The file decrypts the traffic: keep it private, and delete it when done.
 *
 *     deno run --allow-ffi --allow-net --allow-read --allow-write --allow-env examples/keylog_wireshark.ts [URL [FILE]]
 *
 * It fetches URL (or a local stand-in server's page) and appends the secrets to FILE (default keys.log).
 * Setting SSLKEYLOGFILE does the same for every context, as with curl and the browsers.
 *
 * @module
 */

import { createSslClientContext, createSslServerContext } from "../mod.ts";
import { createFetch } from "../fetch/mod.ts";
import { fixture, serveHttps } from "./_http_stand_in.ts";

const [url, file = "keys.log"] = Deno.args;

await using standIn = url === undefined
  ? serveHttps(
    createSslServerContext({ certFile: fixture("server.pem"), keyFile: fixture("server.key") }),
    () => "logged\n",
  )
  : undefined;

using context = createSslClientContext({
  keylogFile: file,
  ...(url === undefined ? { ca: await Deno.readTextFile(fixture("ca.pem")) } : {}),
});
await using fetch = createFetch({ sslCtx: context });
const response = await fetch(url ?? `${standIn!.origin}/`);
await response.body?.cancel();
const lines = (await Deno.readTextFile(file)).trim().split("\n");
console.log(`status:  ${response.status}`);
console.log(
  `logged:  ${lines.length} lines in ${file} (${
    [...new Set(lines.map((line) => line.split(" ")[0]))].join(", ")
  })`,
);
console.log(`wireshark -o tls.keylog_file:${file} -r capture.pcapng`);
