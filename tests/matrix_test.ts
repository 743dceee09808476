// The interop matrix: the module as client and as server, pinned to TLS 1.2
// and to TLS 1.3, against OpenSSL, GnuTLS, curl, stunnel4 and Deno's TLS.
// Every pair moves data both ways and checks it.
import assert from "node:assert/strict";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  type SocketStream,
  type SslAbstractContext,
} from "../mod.ts";
import {
  assertNoLiveObjects,
  connectWhenListening,
  decoder,
  encoder,
  fixture,
  fixtureText,
  freePort,
  identity,
  patternBytes,
  Peer,
  plainEcho,
  readBytes,
  readUntil,
  serveOnce,
  sha256,
  startGnutlsServer,
  startOpensslServer,
  startStunnel,
  writeAll,
} from "./_helpers.ts";

const VERSIONS = [["tls-v1-2", "TLSv1.2"], ["tls-v1-3", "TLSv1.3"]] as const;
type Version = (typeof VERSIONS)[number][0];

function clientContext(version: Version): SslAbstractContext {
  return createSslClientContext({
    ca: fixtureText("ca.pem"),
    protocolVersion: version,
    maxProtocolVersion: version,
  });
}

function serverContext(version: Version): SslAbstractContext {
  return createSslServerContext({
    ...identity("server"),
    protocolVersion: version,
    maxProtocolVersion: version,
  });
}

/** A line of printable text, so line-based tools can carry it. */
function textLine(length: number, seed: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(patternBytes(length, seed), (byte) => alphabet[byte % alphabet.length]).join("");
}

async function binaryEcho(
  stream: { write(p: Uint8Array): Promise<number>; read(p: Uint8Array): Promise<number | null> },
): Promise<void> {
  const payload = patternBytes(256 * 1024, 99);
  const [, echoed] = await Promise.all([writeAll(stream, payload), readBytes(stream, payload.length)]);
  assert.equal(await sha256(echoed.slice()), await sha256(payload));
}

for (const [version, name] of VERSIONS) {
  Deno.test(`${name}: the module's client against openssl s_server, gnutls-serv, Deno.listenTls and stunnel4`, async () => {
    {
      using context = clientContext(version);
      const line = textLine(4000, 1);

      const { peer: openssl, port: opensslPort } = await startOpensslServer(["-rev"]);
      {
        await using _peer = openssl;
        await using stream = await openTcpStream("localhost", opensslPort, { sslCtx: context });
        assert.equal(stream.protocol, name);
        await stream.write(encoder.encode(`${line}\n`));
        const reversed = (await readUntil(stream, "\n")).trim();
        assert.ok(reversed === [...line].reverse().join(""), "s_server sent the line back reversed");
      }

      const { peer: gnutls, port: gnutlsPort } = await startGnutlsServer();
      {
        await using _peer = gnutls;
        await using stream = await openTcpStream("localhost", gnutlsPort, { sslCtx: context });
        assert.equal(stream.protocol, name);
        await stream.write(encoder.encode(`${line}\n`));
        assert.ok((await readUntil(stream, "\n")).trim() === line, "gnutls-serv echoed the line");
      }

      const deno = Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: fixtureText("server.pem"),
        key: fixtureText("server.key"),
      });
      const denoServing = deno.accept().then((conn) => conn.readable.pipeTo(conn.writable).catch(() => {}));
      {
        await using stream = await openTcpStream("localhost", deno.addr.port, { sslCtx: context });
        assert.equal(stream.protocol, name);
        await binaryEcho(stream);
      }
      await denoServing;
      deno.close();

      const echo = plainEcho();
      const tunnelPort = freePort();
      {
        await using _tunnel = await startStunnel(
          `[echo]\naccept = 127.0.0.1:${tunnelPort}\nconnect = 127.0.0.1:${echo.port}\ncert = ${
            fixture("server.pem")
          }\nkey = ${fixture("server.key")}\n`,
        );
        await using stream = await openTcpStream("localhost", tunnelPort, { sslCtx: context });
        assert.equal(stream.protocol, name);
        await binaryEcho(stream);
      }
      await echo.close();
    }
    assertNoLiveObjects();
  });

  Deno.test(`${name}: the module's server against openssl s_client, gnutls-cli, curl, Deno.connectTls and stunnel4`, async () => {
    {
      using context = serverContext(version);
      const line = textLine(4000, 2);
      const lineEcho = async (served: SocketStream | Error) => {
        assert.ok(!(served instanceof Error), String(served));
        assert.equal(served.protocol, name);
        const got = await served.readLine();
        await served.write(encoder.encode(`${got}\n`));
      };
      {
        await using server = serveOnce(context);
        await using client = new Peer("openssl", [
          "s_client",
          "-connect",
          `127.0.0.1:${server.port}`,
          "-CAfile",
          fixture("ca.pem"),
          "-verify_return_error",
          "-quiet",
        ]);
        await client.send(`${line}\n`);
        await lineEcho(await server.served);
        await client.waitFor(new RegExp(line));
      }
      {
        await using server = serveOnce(context);
        await using client = new Peer("gnutls-cli", [
          "--x509cafile",
          fixture("ca.pem"),
          "--port",
          String(server.port),
          "localhost",
        ]);
        await client.send(`${line}\n`);
        await lineEcho(await server.served);
        await client.waitFor(new RegExp(line));
      }
      {
        // curl posts a binary body; the server answers it back as the response body.
        await using server = serveOnce(context);
        const directory = await Deno.makeTempDir();
        try {
          const body = patternBytes(128 * 1024, 3);
          await Deno.writeFile(`${directory}/body.bin`, body);
          const curling = new Deno.Command("curl", {
            args: [
              "--silent",
              "--show-error",
              "--cacert",
              fixture("ca.pem"),
              version === "tls-v1-2" ? "--tls-max" : "--tlsv1.3",
              ...(version === "tls-v1-2" ? ["1.2"] : []),
              "--data-binary",
              `@${directory}/body.bin`,
              "--max-time",
              "20",
              "-H",
              "Expect:",
              "-H",
              "Content-Type: application/octet-stream",
              "-o",
              `${directory}/answer.bin`,
              `https://localhost:${server.port}/echo`,
            ],
            stderr: "piped",
          }).output();
          const served = await server.served;
          assert.ok(!(served instanceof Error), String(served));
          assert.equal(served.protocol, name);
          let length = 0;
          for (let header = await served.readLine(); header; header = await served.readLine()) {
            const match = header.match(/^content-length:\s*(\d+)/i);
            if (match) length = Number(match[1]);
          }
          const received = await readBytes(served, length);
          await served.write(
            encoder.encode(
              `HTTP/1.1 200 OK\r\nContent-Length: ${received.length}\r\nConnection: close\r\n\r\n`,
            ),
          );
          await served.write(received);
          await served.closeWrite();
          const result = await curling;
          assert.equal(result.success, true, decoder.decode(result.stderr));
          assert.equal(await sha256(await Deno.readFile(`${directory}/answer.bin`)), await sha256(body));
        } finally {
          await Deno.remove(directory, { recursive: true });
        }
      }
      {
        await using server = serveOnce(context);
        const conn = await Deno.connectTls({
          hostname: "localhost",
          port: server.port,
          caCerts: [fixtureText("ca.pem")],
        });
        const served = await server.served;
        assert.ok(!(served instanceof Error), String(served));
        assert.equal(served.protocol, name);
        const echoing = served.readable.pipeTo(served.writable).catch(() => {});
        await binaryEcho(conn);
        conn.close();
        await echoing;
      }
      {
        await using server = serveOnce(context);
        const tunnelPort = freePort();
        await using _tunnel = await startStunnel(
          `[toModule]\nclient = yes\naccept = 127.0.0.1:${tunnelPort}\nconnect = 127.0.0.1:${server.port}\nCAfile = ${
            fixture("ca.pem")
          }\nverifyChain = yes\ncheckHost = localhost\nsni = localhost\n`,
        );
        const plain = await connectWhenListening(tunnelPort);
        const served = await server.served;
        assert.ok(!(served instanceof Error), String(served));
        assert.equal(served.protocol, name);
        const echoing = served.readable.pipeTo(served.writable).catch(() => {});
        await binaryEcho(plain);
        plain.close();
        await echoing;
      }
    }
    assertNoLiveObjects();
  });
}
