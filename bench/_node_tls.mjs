// Node's tls, measured the same way as the module (run by bench/bench.ts):
// node bench/_node_tls.mjs <bulk|handshakes> <bytes-or-count> <cert> <key> <ca>
import { readFileSync } from "node:fs";
import tls from "node:tls";

const [mode, amountText, certPath, keyPath, caPath] = process.argv.slice(2);
const amount = Number(amountText);
const cert = readFileSync(certPath), key = readFileSync(keyPath), ca = readFileSync(caPath);

const server = tls.createServer({ cert, key }, (socket) => {
  if (mode === "bulk") {
    let received = 0;
    socket.on("data", (chunk) => received += chunk.length);
    socket.on("end", () => {
      socket.end(String(received));
    });
  } else {
    socket.on("error", () => {});
    socket.end();
  }
});
server.listen(0, "127.0.0.1", async () => {
  const port = server.address().port;
  const connect = () =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca }, () =>
        resolve(socket));
      socket.on("error", reject);
    });
  const started = process.hrtime.bigint();
  if (mode === "bulk") {
    const socket = await connect();
    const chunk = Buffer.alloc(64 * 1024, 7);
    for (let sent = 0; sent < amount; sent += chunk.length) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
    }
    socket.end();
    await new Promise((resolve) => socket.on("data", resolve));
  } else {
    for (let i = 0; i < amount; i++) {
      const socket = await connect();
      socket.destroy();
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds }));
  server.close();
});
