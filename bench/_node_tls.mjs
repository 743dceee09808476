// Node's tls for `deno task bench`, as a separate process. Modes:
//   self <handshakes|rtt|rtt-plain|resume> <n>   client and server in this process; prints {seconds, ...}
//                                                (rtt-plain: the same round trips over plain TCP)
//   server once                                  prints {port}; serves one bulk upload, prints {cpu, total}
//   client bulk <amount> <port>                  sends <amount> bytes, prints {seconds, cpu}
//   idle <count>                                 prints {rssPerEnd} for idle connections, both ends here
//   scale <count> <total>                        as bench/_scale.ts: prints {mbps, peakKib}
// Certificates come from tests/fixtures.
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";

const fixtures = new URL("../tests/fixtures/", import.meta.url);
const cert = readFileSync(new URL("server.pem", fixtures));
const key = readFileSync(new URL("server.key", fixtures));
const ca = readFileSync(new URL("ca.pem", fixtures));
const [role, mode, amountText, portText] = process.argv.slice(2);
const amount = Number(amountText);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

function serve(kind) {
  return tls.createServer({ cert, key }, (socket) => {
    socket.on("error", () => {});
    if (kind === "bulk") {
      let received = 0;
      socket.on("data", (chunk) => received += chunk.length);
      socket.on("end", () => socket.end(String(received)));
    } else if (kind === "idle") {
      // Kept open and quiet.
    } else if (kind === "echo") {
      socket.on("data", (chunk) => socket.write(chunk));
      socket.on("end", () => socket.end());
    } else {
      socket.end();
    }
  });
}

function connect(port, session) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port, servername: "localhost", ca, session },
      () => resolve(socket),
    );
    socket.on("error", reject);
  });
}

// User + system seconds of this process since `start`.
const cpuSince = (start) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
};

async function bulkClient(port) {
  const socket = await connect(port);
  const chunk = Buffer.alloc(64 * 1024, 7);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < amount; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
  }
  socket.end();
  await new Promise((resolve) => socket.on("data", resolve));
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpu: cpuSince(cpu) };
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

if (role === "server") {
  const server = tls.createServer({ cert, key }, (socket) => {
    const cpu = process.cpuUsage();
    let received = 0;
    socket.on("data", (chunk) => received += chunk.length);
    socket.on("end", () =>
      socket.end(String(received), () => {
        print({ cpu: cpuSince(cpu), total: received });
        process.exit(0);
      }));
  });
  print({ port: await listen(server) });
} else if (role === "client") {
  print(await bulkClient(Number(portText)));
  process.exit(0);
} else if (role === "scale") {
  const [count, total] = [Number(mode), amount];
  const share = Math.ceil(total / count);
  const server = serve("bulk");
  const port = await listen(server);
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const before = process.memoryUsage().rss;
  const sockets = [];
  for (let i = 0; i < count; i += 50) {
    sockets.push(...await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => connect(port))));
  }
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => peak = Math.max(peak, process.memoryUsage().rss), 20);
  const chunk = Buffer.alloc(64 * 1024, 7);
  const started = process.hrtime.bigint();
  await Promise.all(sockets.map(async (socket) => {
    for (let sent = 0; sent < share; sent += chunk.length) {
      if (!socket.write(chunk.subarray(0, Math.min(chunk.length, share - sent)))) {
        await new Promise((resolve) => socket.once("drain", resolve));
      }
    }
    socket.end();
    await new Promise((resolve) => socket.once("data", resolve));
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  print({ mbps: share * count / seconds / 1e6, peakKib: (peak - before) / count / 1024 });
  process.exit(0);
} else if (role === "idle") {
  const server = serve("idle");
  const port = await listen(server);
  const sockets = [];
  // A few connections first, as bench/_idle.ts does: what the process pays once is not per connection.
  for (let i = 0; i < 20; i++) sockets.push(await connect(port));
  await new Promise((resolve) => setTimeout(resolve, 500));
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < amount; i++) sockets.push(await connect(port));
  await new Promise((resolve) => setTimeout(resolve, 500));
  globalThis.gc?.();
  print({ rssPerEnd: (process.memoryUsage().rss - before) / (2 * amount) });
  process.exit(0);
} else {
  const plain = mode === "rtt-plain";
  const server = plain
    ? net.createServer((socket) => socket.on("data", (chunk) => socket.write(chunk)).on("error", () => {}))
    : serve(mode === "rtt" ? "echo" : "close");
  const port = await listen(server);
  if (mode === "rtt" || plain) {
    const socket = plain
      ? await new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
      })
      : await connect(port);
    const message = Buffer.alloc(1024, 1);
    const started = process.hrtime.bigint();
    for (let i = 0; i < amount; i++) {
      await new Promise((resolve) => {
        let got = 0;
        const onData = (chunk) => {
          got += chunk.length;
          if (got >= 1024) {
            socket.off("data", onData);
            resolve();
          }
        };
        socket.on("data", onData);
        socket.write(message);
      });
    }
    print({ seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    socket.destroy();
  } else {
    const latencies = [];
    let session;
    for (let i = 0; i < amount; i++) {
      const started = process.hrtime.bigint();
      const socket = await connect(port, mode === "resume" ? session : undefined);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (mode === "resume") {
        // TLS 1.3 tickets come after the handshake.
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 100);
          socket.once("session", (fresh) => {
            session = fresh;
            clearTimeout(timer);
            resolve();
          });
        });
      }
      socket.destroy();
    }
    print({ latencies });
  }
  server.close();
  process.exit(0);
}
