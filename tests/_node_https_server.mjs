// deno-lint-ignore-file
// An HTTPS server in Node (its own TLS and HTTP, a real peer for the fetch tests): node _node_https_server.mjs
// <certificate name>. Prints "port N" once it listens. Routes:
//   GET  /hello            "hello"
//   POST /echo             the request body back, streamed as it arrives (chunked)
//   GET  /big?bytes=N      N bytes of a pattern (byte i is i % 251), chunked
//   GET  /connections      how many TLS connections it has accepted
//   GET  /redirect?to=URL  302 to URL
//   GET  /stall            one chunk, then nothing (the connection stays open)
import https from "node:https";
import { readFileSync } from "node:fs";

const fixtures = new URL("./fixtures/", import.meta.url);
const name = process.argv[2] ?? "server";
let connections = 0;
const server = https.createServer({
  cert: readFileSync(new URL(`${name}.pem`, fixtures)),
  key: readFileSync(new URL(`${name}.key`, fixtures)),
  keepAliveTimeout: 10_000,
}, (request, response) => {
  const url = new URL(request.url, "https://localhost");
  if (url.pathname === "/hello") return response.end("hello");
  if (url.pathname === "/connections") return response.end(String(connections));
  if (url.pathname === "/redirect") {
    response.writeHead(302, { location: url.searchParams.get("to") });
    return response.end();
  }
  if (url.pathname === "/echo") {
    response.writeHead(200, { "content-type": "application/octet-stream" });
    request.pipe(response);
    return;
  }
  if (url.pathname === "/big") {
    const total = Number(url.searchParams.get("bytes"));
    response.writeHead(200, { "content-type": "application/octet-stream" });
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024);
    const next = () => {
      while (sent < total) {
        const size = Math.min(chunk.length, total - sent);
        for (let i = 0; i < size; i++) chunk[i] = (sent + i) % 251;
        sent += size;
        if (!response.write(chunk.subarray(0, size))) return response.once("drain", next);
      }
      response.end();
    };
    return next();
  }
  if (url.pathname === "/stall") {
    response.writeHead(200, { "content-type": "text/plain" });
    response.write("first chunk\n");
    return;
  }
  response.writeHead(404);
  response.end("not found");
});
server.on("secureConnection", () => connections++);
server.listen(0, "127.0.0.1", () => console.log(`port ${server.address().port}`));
