/**
 * A stand-in HTTPS server for the examples that run without arguments: it answers every request on a
 * connection with `200 OK` and a text the caller makes from the stream (so an example can show what the
 * server saw: the client certificate, the protocol). Just enough HTTP/1.1 for a demo, not a server.
 *
 * @module
 */

import { listenSsl, type SocketStream, type SslAbstractContext } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serves on 127.0.0.1 until disposed; `origin` is its `https://localhost:port`. */
export function serveHttps(
  sslCtx: SslAbstractContext,
  reply: (stream: SocketStream) => string,
): AsyncDisposable & { origin: string } {
  const listener = listenSsl({ port: 0, hostname: "127.0.0.1", sslCtx, onError: () => {} });
  const serving = (async () => {
    for await (const stream of listener) {
      (async () => {
        let buffered = "";
        const chunk = new Uint8Array(16 * 1024);
        for (;;) {
          const count = await stream.read(chunk);
          if (count === null) break;
          buffered += decoder.decode(chunk.subarray(0, count));
          // One response per request head; bodies are not expected here.
          for (let end = buffered.indexOf("\r\n\r\n"); end !== -1; end = buffered.indexOf("\r\n\r\n")) {
            buffered = buffered.slice(end + 4);
            const body = encoder.encode(reply(stream));
            await stream.write(encoder.encode(
              `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n`,
            ));
            await stream.write(body);
          }
        }
        await stream.close();
      })().catch(() => stream.close());
    }
  })();
  return {
    origin: `https://localhost:${listener.addr.port}`,
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving;
      await listener[Symbol.asyncDispose]();
    },
  };
}

/** The path of a test fixture (the examples use the test CA when they run on their own). */
export function fixture(name: string): string {
  return new URL(`../tests/fixtures/${name}`, import.meta.url).pathname;
}
