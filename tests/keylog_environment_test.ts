// SSLKEYLOGFILE: a process with the variable set (and granted) appends the key log of its connections to the
// file, mode 0600, saying so once on stderr; the lines are the ones the other end logs for the same session.
// Without the permission to read the variable or write the file, nothing is written; a context's own keylog
// replaces it. It and a context's keylogFile share one writer, which opens the file once per context.
import assert from "node:assert/strict";
import { createSslClientContext, createSslServerContext, openTcpStream } from "../mod.ts";
import { decoder, echoOnce, fixtureText, identity, roundTrip, serveOnce } from "./_helpers.ts";

const mod = new URL("../mod.ts", import.meta.url).href;
const helpers = new URL("./_helpers.ts", import.meta.url).href;

// A client (from a symbol, and from an abstract context) talks to a server that logs its keys itself; prints
// the server's lines.
const script = (clientOptions: string) => `
  import { createSslClientContext, createSslServerContext, openTcpStream } from ${JSON.stringify(mod)};
  import { echoOnce, fixtureText, identity, roundTrip, serveOnce } from ${JSON.stringify(helpers)};
  const serverLines = [];
  const server = createSslServerContext({ ...identity("server"), keylog: (line) => serverLines.push(line) });
  for (const sslCtx of [true, createSslClientContext({ ca: fixtureText("ca.pem"), ...${clientOptions} })]) {
    const listening = serveOnce(server);
    const stream = await openTcpStream("localhost", listening.port, sslCtx === true
      ? { sslCtx, ctxConfigureCallback: () => {}, tlsextHostName: "localhost" }
      : { sslCtx });
    const served = await listening.served;
    const echoing = echoOnce(served);
    await roundTrip(stream, "ping");
    await echoing;
    await stream.close();
    await listening[Symbol.asyncDispose]();
  }
  console.log(JSON.stringify(serverLines));
`;

async function run(permissions: string[], env: Record<string, string>, clientOptions = "{}") {
  // `deno eval` grants everything: a script file, so the permissions given are the ones that hold.
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script(clientOptions));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, file],
    env: { ...env, SSL_CERT_FILE: new URL("./fixtures/ca.pem", import.meta.url).pathname },
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(file);
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  return { serverLines: JSON.parse(stdout.trim().split("\n").at(-1)!) as string[], stderr };
}

Deno.test("SSLKEYLOGFILE: the client's key log lines, 0600, announced once, the same the server logs", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const file = `${directory}/keys.log`;
    const { serverLines, stderr } = await run(["-A"], { SSLKEYLOGFILE: file });
    const lines = (await Deno.readTextFile(file)).trim().split("\n");
    assert.ok(lines.length >= 10, `two TLS 1.3 handshakes log five lines each, got ${lines.length}`);
    assert.ok(lines.every((line) => /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/.test(line)), lines.join("\n"));
    assert.deepEqual(new Set(lines), new Set(serverLines), "both ends log the same secrets");
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.equal(stderr.match(/SSLKEYLOGFILE is set/g)?.length, 1, stderr);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("SSLKEYLOGFILE without the permission to read it or write the file, or with a context's own keylog: nothing", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const file = `${directory}/keys.log`;
    const base = ["--allow-ffi", "--allow-read", "--allow-net"];
    for (
      const [permissions, clientOptions] of [
        [
          [...base, "--allow-write", "--allow-env=SSL_CERT_FILE,SSL_CERT_DIR,LIBSSL_PATH,LIBCRYPTO_PATH"],
          "{}",
        ],
        [[...base, `--allow-write=${directory}/other`, "--allow-env"], "{}"],
      ] as const
    ) {
      const { stderr } = await run([...permissions], { SSLKEYLOGFILE: file }, clientOptions);
      assert.doesNotMatch(stderr, /SSLKEYLOGFILE is set/);
      // Deno itself creates the file (its own TLS honours the variable too), but the module writes nothing.
      const written = await Deno.readTextFile(file).catch(() => "");
      assert.equal(written, "", permissions.join(" "));
    }
    // The abstract context's own keylog replaces the variable; the symbol-made one still writes.
    await run(["-A"], { SSLKEYLOGFILE: file }, "{ keylog: () => {} }");
    const lines = (await Deno.readTextFile(file)).trim().split("\n");
    assert.equal(lines.length, 5, "only the first connection's five TLS 1.3 lines");
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

// One abstract client context, two connections; the key log file is moved away between them.
const movedScript = `
  import { createSslClientContext, createSslServerContext, openTcpStream } from ${JSON.stringify(mod)};
  import { echoOnce, fixtureText, identity, roundTrip, serveOnce } from ${JSON.stringify(helpers)};
  const file = Deno.env.get("SSLKEYLOGFILE");
  using server = createSslServerContext(identity("server"));
  using client = createSslClientContext({ ca: fixtureText("ca.pem") });
  for (let i = 0; i < 2; i++) {
    if (i === 1) Deno.renameSync(file, file + ".moved");
    await using listening = serveOnce(server);
    await using stream = await openTcpStream("localhost", listening.port, { sslCtx: client });
    const echoing = echoOnce(await listening.served);
    await roundTrip(stream, "ping");
    await echoing;
  }
`;

Deno.test("SSLKEYLOGFILE: lines go to the path the variable names, 0600, also after the file is moved away", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const file = `${directory}/keys.log`;
    const script = `${directory}/moved.ts`;
    await Deno.writeTextFile(script, movedScript);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script],
      env: { SSLKEYLOGFILE: file, SSL_CERT_FILE: new URL("./fixtures/ca.pem", import.meta.url).pathname },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, decoder.decode(output.stderr));
    // Both contexts log (the server's too: every context the module makes), five TLS 1.3 lines a connection.
    const moved = (await Deno.readTextFile(`${file}.moved`)).trim().split("\n");
    assert.equal(moved.length, 10, "the first connection's lines, from both ends, in the file moved away");
    assert.equal((await Deno.stat(`${file}.moved`)).mode! & 0o777, 0o600);
    // No descriptor kept the old file: the second connection's lines went to the path (a rotated log).
    const current = (await Deno.readTextFile(file)).trim().split("\n");
    assert.equal(current.length, 10, "the second connection's lines at the path");
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("a context's keylogFile is the same writer: made 0600, appended to, not kept open", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const file = `${directory}/keys.log`;
    const lines: string[] = [];
    {
      using server = createSslServerContext({ ...identity("server"), keylogFile: file });
      using client = createSslClientContext({
        ca: fixtureText("ca.pem"),
        keylog: (line) => lines.push(line),
      });
      for (let i = 0; i < 2; i++) {
        if (i === 1) await Deno.rename(file, `${file}.moved`);
        await using listening = serveOnce(server);
        await using stream = await openTcpStream("localhost", listening.port, { sslCtx: client });
        const served = await listening.served;
        assert.ok(!(served instanceof Error), String(served));
        const echoing = echoOnce(served);
        await roundTrip(stream, "ping");
        await echoing;
      }
    }
    const first = (await Deno.readTextFile(`${file}.moved`)).trim().split("\n");
    // Not kept open: with the context still open, the second connection's lines went to the path.
    const second = (await Deno.readTextFile(file)).trim().split("\n");
    assert.deepEqual(new Set([...first, ...second]), new Set(lines), "every line, in the file at the path");
    assert.equal(first.length, 5);
    assert.equal(second.length, 5);
    for (const path of [file, `${file}.moved`]) {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, `only the owner may read ${path}`);
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
