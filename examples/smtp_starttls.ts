/**
 * SMTP with STARTTLS: the conversation starts in plaintext, then `attachSsl` turns the same connection into
 * TLS (nothing buffered is lost), and the client greets the server again, as RFC 3207 says.
 *
 *     deno run --allow-ffi --allow-net --allow-read examples/smtp_starttls.ts [HOST PORT [CA]]
 *
 * With HOST and PORT it talks to that server (trusting CA, or the system store) and says QUIT after the
 * second EHLO. Without them it starts a local SMTP-speaking stand-in (the test CA's certificate).
 *
 * @module
 */

import { attachSsl, createSslClientContext, createSslServerContext, SocketStream } from "../mod.ts";
import { fixture } from "./_http_stand_in.ts";

const encoder = new TextEncoder();
const [host, portText, caFile] = Deno.args;

/** Reads one SMTP reply (all its lines: "250-..." continue, "250 ..." ends it). */
async function reply(stream: SocketStream): Promise<string> {
  const lines: string[] = [];
  for (;;) {
    const line = await stream.readLine();
    if (line === null) throw new Error(`the server closed the connection after ${JSON.stringify(lines)}`);
    lines.push(line);
    if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) return lines.join("\n");
  }
}

async function say(stream: SocketStream, command: string): Promise<string> {
  console.log(`C: ${command}`);
  await stream.write(encoder.encode(`${command}\r\n`));
  const answer = await reply(stream);
  console.log(answer.split("\n").map((line) => `S: ${line}`).join("\n"));
  return answer;
}

// The stand-in: greets, offers STARTTLS, turns TLS on when asked, then answers EHLO and QUIT.
async function standIn(listener: Deno.Listener): Promise<void> {
  using context = createSslServerContext({ certFile: fixture("server.pem"), keyFile: fixture("server.key") });
  const stream = new SocketStream({ socket: await listener.accept() });
  const send = (text: string) => stream.write(encoder.encode(text));
  await send("220 localhost ESMTP stand-in\r\n");
  for (let tls = false;;) {
    const line = await stream.readLine();
    if (line === null) break;
    if (/^EHLO /i.test(line)) {
      await send(`250-localhost\r\n250-SIZE 1000000\r\n${tls ? "" : "250-STARTTLS\r\n"}250 8BITMIME\r\n`);
    } else if (/^STARTTLS$/i.test(line) && !tls) {
      await send("220 Go ahead\r\n");
      await attachSsl(stream, { sslCtx: context });
      tls = true;
    } else if (/^QUIT$/i.test(line)) {
      await send("221 Bye\r\n");
      break;
    } else await send("502 Command not implemented\r\n");
  }
  await stream.close();
}

const listener = host === undefined ? Deno.listen({ hostname: "127.0.0.1", port: 0 }) : undefined;
const serving = listener ? standIn(listener) : undefined;
const name = host ?? "localhost";
const socket = await Deno.connect({
  hostname: host ?? "127.0.0.1",
  port: portText === undefined ? listener!.addr.port : Number(portText),
});
const stream = new SocketStream({ socket });
console.log(`S: ${await reply(stream)}`);
const features = await say(stream, "EHLO client.example");
if (!/^250[- ]STARTTLS/m.test(features)) throw new Error("the server does not offer STARTTLS");
await say(stream, "STARTTLS");
using context = createSslClientContext({
  ...(caFile ?? host === undefined ? { ca: await Deno.readTextFile(caFile ?? fixture("ca.pem")) } : {}),
});
await attachSsl(stream, { sslCtx: context, tlsextHostName: name, handshakeTimeout: 10_000 });
console.log(`-- TLS: ${stream.protocol}, ${stream.cipher}, server ${stream.peerCertificate()?.subject}`);
await say(stream, "EHLO client.example");
await say(stream, "QUIT");
await stream.close();
await serving;
listener?.close();
