// SSLKEYLOGFILE: a process with the variable set (and granted) appends the key log of its connections to the
// file, mode 0600, saying so once on stderr; the lines are the ones the other end logs for the same session.
// Without the permission to read the variable or write the file, nothing is written; a context's own keylog
// replaces it. It and a context's keylogFile share one writer, which opens the file once per handshake step. A file
// that cannot be opened for appending is refused when a context is made (keylogFile) or said instead of the
// announcement (SSLKEYLOGFILE); one that fails later is said once on stderr.
import assert from "node:assert/strict";
import { runChild } from "./_child.ts";
import {
  createSslClientContext,
  createSslServerContext,
  openTcpStream,
  type SslAbstractContext,
} from "../mod.ts";
import { decoder, echoOnce, fixtureText, identity, roundTrip, serveOnce, within } from "./_helpers.ts";

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

/** Runs `deno` with `args` and `env` (and the test CA as the system's), killed after 60 s: its output. */
async function runDeno(
  args: string[],
  env: Record<string, string>,
  what: string,
): Promise<Deno.CommandOutput> {
  const controller = new AbortController();
  const running = new Deno.Command(Deno.execPath(), {
    args,
    env: { ...env, SSL_CERT_FILE: new URL("./fixtures/ca.pem", import.meta.url).pathname },
    stdout: "piped",
    stderr: "piped",
    signal: controller.signal,
  }).output();
  try {
    return await within(running, 60_000, what);
  } catch (error) {
    controller.abort();
    await running.catch(() => {});
    throw error;
  }
}

async function run(permissions: string[], env: Record<string, string>, clientOptions = "{}") {
  // `deno eval` grants everything: a script file, so the permissions given are the ones that hold.
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script(clientOptions));
  const output = await runDeno(["run", ...permissions, file], env, "the key log script").finally(() =>
    Deno.remove(file)
  );
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  return { serverLines: JSON.parse(stdout.trim().split("\n").at(-1)!) as string[], stderr };
}

/** One handshake from `client` to `server` on loopback, with one echoed message: the key log lines of both. */
async function echoHandshake(server: SslAbstractContext, client: SslAbstractContext): Promise<void> {
  await using listening = serveOnce(server);
  await using stream = await within(
    openTcpStream("localhost", listening.port, { sslCtx: client }),
    5000,
    "the handshake",
  );
  const served = await within(listening.served, 5000, "the server's handshake");
  assert.ok(!(served instanceof Error), String(served));
  const echoing = echoOnce(served);
  await roundTrip(stream, "ping");
  await echoing;
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
    const output = await runDeno(["run", "-A", script], { SSLKEYLOGFILE: file }, "the moved key log script");
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
        await echoHandshake(server, client);
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

// Paths no keylogFile can be appended to, with what the system says about each: a missing directory, a
// directory, and a read-only file (a mode 0400 file, unless root runs the tests; with `allAccess`, for a process
// run with -A, also one even root may not write on Linux: Deno asks for all access to write under /proc).
function unwritablePaths(directory: string, allAccess = false): [string, RegExp][] {
  const paths: [string, RegExp][] = [
    [`${directory}/missing/keys.log`, /No such file or directory/],
    [directory, /Is a directory/],
  ];
  if (allAccess && Deno.build.os === "linux") paths.push(["/proc/sys/kernel/version", /Permission denied/]);
  const readOnly = `${directory}/read-only.log`;
  Deno.writeTextFileSync(readOnly, "");
  Deno.chmodSync(readOnly, 0o400);
  try {
    // Root writes it all the same: then it is no case.
    Deno.openSync(readOnly, { append: true }).close();
  } catch {
    paths.push([readOnly, /Permission denied/]);
  }
  return paths;
}

Deno.test("a keylogFile that cannot be opened for appending is refused when the context is made, naming the path and why", async () => {
  const directory = await Deno.makeTempDir();
  try {
    for (const [path, reason] of unwritablePaths(directory)) {
      for (
        const make of [
          () => createSslClientContext({ ca: fixtureText("ca.pem"), keylogFile: path }),
          () => createSslServerContext({ ...identity("server"), keylogFile: path }),
        ]
      ) {
        assert.throws(make, (error: Error) => {
          assert.ok(
            error.message.startsWith(`keylogFile ${path} cannot be opened for appending: `),
            error.message,
          );
          assert.match(error.message, reason);
          assert.ok(error.cause instanceof Error, "the file system's error is the cause");
          return true;
        });
      }
    }
    await assert.rejects(Deno.stat(`${directory}/missing`), Deno.errors.NotFound, "no directory made");
    // A path that can be: tried, and no empty file left behind; made, 0600, with the first line.
    const file = `${directory}/keys.log`;
    using server = createSslServerContext({ ...identity("server"), keylogFile: file });
    using client = createSslClientContext({ ca: fixtureText("ca.pem") });
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound, "nothing made before there is a line");
    await echoHandshake(server, client);
    assert.equal((await Deno.readTextFile(file)).trim().split("\n").length, 5);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("a keylogFile the process may not write (Deno's permissions, a read-only file for root) is refused when the context is made", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const file = `${directory}/keys.log`;
    const probe = `${directory}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `import { createSslClientContext } from ${JSON.stringify(mod)};
      try {
        createSslClientContext({ keylogFile: Deno.args[0] }).close();
        console.log("made");
      } catch (error) {
        console.log(error.message);
      }`,
    );
    const base = ["run", "--no-prompt", "--allow-read", "--allow-ffi", "--allow-env"];
    const cases: [string[], string, RegExp][] = [
      [[...base, `--allow-write=${directory}/other`], file, /write access/],
      [[...base, "--deny-write"], file, /write access/],
      ...unwritablePaths(directory, true).map(([path, reason]) =>
        [["run", "-A"], path, reason] as [string[], string, RegExp]
      ),
    ];
    for (const [args, path, reason] of cases) {
      const output = await runDeno([...args, probe, path], {}, `the keylogFile probe of ${path}`);
      const stdout = decoder.decode(output.stdout);
      assert.equal(output.code, 0, decoder.decode(output.stderr));
      assert.ok(
        stdout.startsWith(`keylogFile ${path} cannot be opened for appending: `),
        `${args}: ${stdout}`,
      );
      assert.match(stdout, reason, `${args}`);
    }
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("a keylogFile that cannot be written later is said once on stderr; the handshakes go on, and so does the log", async () => {
  const directory = await Deno.makeTempDir();
  const said: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => said.push(args.join(" "));
  try {
    const logs = `${directory}/logs`;
    const file = `${logs}/keys.log`;
    await Deno.mkdir(logs);
    using server = createSslServerContext(identity("server"));
    using client = createSslClientContext({ ca: fixtureText("ca.pem"), keylogFile: file });
    const handshake = async () => {
      await echoHandshake(server, client);
    };
    await Deno.remove(logs, { recursive: true });
    await handshake();
    await handshake();
    assert.equal(said.length, 1, `said once, not per line: ${said.join("\n")}`);
    assert.match(said[0], new RegExp(`^Key log: cannot append to ${file}: No such file or directory`));
    // Tried again at each handshake: once the directory is back, the lines are.
    await Deno.mkdir(logs);
    await handshake();
    assert.equal((await Deno.readTextFile(file)).trim().split("\n").length, 5);
    assert.equal(said.length, 1);
  } finally {
    console.error = error;
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("SSLKEYLOGFILE that cannot be opened for appending: said so once instead of the announcement, nothing logged", async () => {
  const directory = await Deno.makeTempDir();
  try {
    for (const [path, reason] of unwritablePaths(directory)) {
      const { stderr } = await run(["-A"], { SSLKEYLOGFILE: path });
      // Deno's own TLS says "SSLKEYLOGFILE is set but ... could not be opened" too, for itself.
      assert.equal(stderr.match(/SSLKEYLOGFILE is set[,:]/g)?.length, 1, stderr);
      assert.match(
        stderr,
        new RegExp(
          `SSLKEYLOGFILE is set, but ${path} cannot be opened for appending: .*; no TLS keys are logged`,
        ),
      );
      assert.match(stderr, reason);
      assert.doesNotMatch(stderr, /are appended to/);
    }
    await assert.rejects(Deno.stat(`${directory}/missing`), Deno.errors.NotFound, "no directory made");
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

// Two connections of one client context whose keylogFile is the first argument; prints its mode before and after.
const twiceScript = `
  const before = Deno.statSync(Deno.args[0]).mode;
  import { createSslClientContext, createSslServerContext, openTcpStream } from ${JSON.stringify(mod)};
  import { echoOnce, fixtureText, identity, roundTrip, serveOnce } from ${JSON.stringify(helpers)};
  using server = createSslServerContext(identity("server"));
  using client = createSslClientContext({ ca: fixtureText("ca.pem"), keylogFile: Deno.args[0] });
  for (let i = 0; i < 2; i++) {
    await using listening = serveOnce(server);
    await using stream = await openTcpStream("localhost", listening.port, { sslCtx: client });
    const echoing = echoOnce(await listening.served);
    await roundTrip(stream, "ping");
    await echoing;
  }
  console.log(JSON.stringify({ before, after: Deno.statSync(Deno.args[0]).mode }));
`;

Deno.test({
  name: "a keylogFile every write to which fails (/dev/full) is said once; a device's mode is left alone",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const directory = await Deno.makeTempDir();
    try {
      const script = `${directory}/twice.ts`;
      await Deno.writeTextFile(script, twiceScript);
      // Deno asks for all access to write a device.
      const output = await runDeno(["run", "-A", script, "/dev/full"], {}, "the /dev/full key log script");
      const stderr = decoder.decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      // The last line: the handshakes went on.
      const { before, after } = JSON.parse(decoder.decode(output.stdout).trim().split("\n").at(-1)!);
      assert.equal(stderr.match(/Key log: /g)?.length, 1, `said once, not per line: ${stderr}`);
      assert.match(stderr, /^Key log: cannot append to \/dev\/full: No space left on device/m);
      assert.equal(after, before, "a device is not made 0600");
    } finally {
      await Deno.remove(directory, { recursive: true });
    }
  },
});

Deno.test("a FIFO as keylogFile is refused when the context is made (opening it could block the process)", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const fifo = `${directory}/keys.fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(made.success, "mkfifo");
    const child = await runChild(
      `try {
        mod.createSslClientContext({ keylogFile: ${JSON.stringify(fifo)} });
        console.log("made");
      } catch (error) {
        console.log("refused: " + error.message);
      }`,
      { timeoutMs: 10_000 },
    );
    assert.equal(child.signal, null, `the child hung and was killed: ${child.stderr}`);
    assert.match(
      child.stdout,
      /refused: keylogFile .*keys\.fifo cannot be opened for appending: it is a FIFO/,
    );
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("keylogFile /dev/stderr is taken when stderr is a pipe (the process's own descriptor, no FIFO wait)", async () => {
  const child = await runChild(
    `using server = mod.createSslServerContext({ ...helpers.identity("server"), keylogFile: "/dev/stderr" });
    using client = mod.createSslClientContext({ ca: helpers.fixtureText("ca.pem") });
    await using listening = helpers.serveOnce(server);
    await using stream = await mod.openTcpStream("localhost", listening.port, { sslCtx: client });
    const echoing = helpers.echoOnce(await listening.served);
    await helpers.roundTrip(stream, "ping");
    await echoing;
    console.log("done");`,
    { timeoutMs: 20_000 },
  );
  assert.equal(child.stdout.trim(), "done", child.stderr);
  assert.equal(child.stderr.match(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET /gm)?.length, 1, child.stderr);
});
