// More real peers: nginx serving TLS on loopback, and stunnel4 in both roles.
// Each pair moves data with a checksum.
import assert from "node:assert/strict";
import { createSslClientContext, createSslServerContext, openTcpStream } from "../mod.ts";
import {
  assertNoLiveObjects,
  connectWhenListening,
  encoder,
  fixture,
  freePort,
  identity,
  patternBytes,
  plainEcho,
  readAll,
  readBytes,
  serveOnce,
  sha256,
  startNginx,
  startStunnel,
  waitForPort,
  writeAll,
} from "./_helpers.ts";

const trust = { ca: Deno.readTextFileSync(fixture("ca.pem")) };

Deno.test("nginx serves a 1 MiB file over TLS 1.2 and 1.3 to the module's client, checksum intact", async () => {
  const file = patternBytes(1024 * 1024, 7);
  let root = "";
  {
    await using nginx = await startNginx((_port, directory) => {
      root = directory;
      return `    ssl_protocols TLSv1.2 TLSv1.3;\n    root ${directory};`;
    });
    await Deno.writeFile(`${root}/file.bin`, file);
    const port = Number(new URL(nginx.origin).port);
    for (const version of ["tls-v1-2", "tls-v1-3"] as const) {
      using context = createSslClientContext({
        ...trust,
        protocolVersion: version,
        maxProtocolVersion: version,
      });
      await using stream = await openTcpStream("localhost", port, { sslCtx: context });
      assert.equal(stream.protocol, version === "tls-v1-2" ? "TLSv1.2" : "TLSv1.3");
      await stream.write(encoder.encode("GET /file.bin HTTP/1.0\r\nHost: localhost\r\n\r\n"));
      const response = await readAll(stream);
      const headerEnd = response.findIndex((_, i) =>
        response[i] === 13 && response[i + 1] === 10 && response[i + 2] === 13 && response[i + 3] === 10
      );
      assert.match(new TextDecoder().decode(response.subarray(0, headerEnd)), /^HTTP\/1\.1 200 OK/);
      assert.equal(await sha256(response.slice(headerEnd + 4)), await sha256(file));
    }
  }
  assertNoLiveObjects();
});

Deno.test("stunnel4 as the TLS server: the module's client echoes 1 MiB through it both ways", async () => {
  const echo = plainEcho();
  const port = freePort();
  {
    await using _tunnel = await startStunnel(
      `[echo]\naccept = 127.0.0.1:${port}\nconnect = 127.0.0.1:${echo.port}\ncert = ${
        fixture("server.pem")
      }\nkey = ${fixture("server.key")}\n`,
    );
    await waitForPort(port);
    using context = createSslClientContext(trust);
    await using stream = await openTcpStream("localhost", port, { sslCtx: context });
    const payload = patternBytes(1024 * 1024, 3);
    const [, echoed] = await Promise.all([stream.write(payload), readBytes(stream, payload.length)]);
    assert.equal(await sha256(echoed.slice()), await sha256(payload));
  }
  await echo.close();
  assertNoLiveObjects();
});

Deno.test("stunnel4 as the TLS client: plain bytes reach the module's server verified, and come back", async () => {
  {
    using serverContext = createSslServerContext(identity("server"));
    await using server = serveOnce(serverContext);
    const port = freePort();
    await using tunnel = await startStunnel(
      `[toModule]\nclient = yes\naccept = 127.0.0.1:${port}\nconnect = 127.0.0.1:${server.port}\nCAfile = ${
        fixture("ca.pem")
      }\nverifyChain = yes\ncheckHost = localhost\nsni = localhost\n`,
    );
    const plain = await connectWhenListening(port);
    const payload = patternBytes(256 * 1024, 5);
    const writing = writeAll(plain, payload);
    const served = await server.served;
    assert.ok(!(served instanceof Error), String(served));
    const received = await readBytes(served, payload.length);
    assert.equal(received.length, payload.length, tunnel.log());
    assert.equal(await sha256(received.slice()), await sha256(payload));
    await served.write(received);
    assert.equal(await sha256((await readBytes(plain, payload.length)).slice()), await sha256(payload));
    await writing;
    plain.close();
  }
  assertNoLiveObjects();
});
