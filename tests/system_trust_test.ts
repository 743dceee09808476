// The system trust store (SSL_CERT_FILE / SSL_CERT_DIR or OpenSSL's built-in paths) as every client context
// made from a symbol gets it: the file is parsed once while it is unchanged, read again when it changes, and
// what one context adds to its store reaches no other.
import assert from "node:assert/strict";
import {
  makeInstance,
  makeSslCtx,
  openTcpStream,
  type SocketStream,
  SslVerificationFailure,
} from "../mod.ts";
import { systemTrustParses } from "../ffi/_system_trust.ts";
import { assertNoLiveObjects, fixture, listenLoopback, trustTestCa, useCertificate } from "./_helpers.ts";

/** A module server presenting `cert` to each connection until stopped. */
function serveWith(cert: string): { port: number; stop(): Promise<void> } {
  const { listener, port } = listenLoopback();
  const streams: Promise<SocketStream | null>[] = [];
  const accepting = (async () => {
    for await (const socket of listener) {
      streams.push(
        makeInstance("socket-stream", {
          socket,
          sslCtx: true,
          ctxConfigureCallback: (ctx) => useCertificate(ctx, cert),
        })
          .catch(() => null),
      );
    }
  })();
  return {
    port,
    async stop() {
      listener.close();
      await accepting;
      for (const stream of await Promise.all(streams)) await stream?.[Symbol.asyncDispose]();
    },
  };
}

/** Runs `body` with the environment variables set (undefined: removed), then restores them. */
async function withEnvironment<T>(
  variables: Record<string, string | undefined>,
  body: () => Promise<T>,
): Promise<T> {
  const previous = Object.fromEntries(Object.keys(variables).map((name) => [name, Deno.env.get(name)]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  };
  apply(variables);
  try {
    return await body();
  } finally {
    apply(previous);
  }
}

async function connects(port: number): Promise<boolean> {
  try {
    const stream = await openTcpStream("localhost", port, { sslCtx: true, timeout: 5000 });
    await stream[Symbol.asyncDispose]();
    return true;
  } catch (error) {
    if (error instanceof SslVerificationFailure) return false;
    throw error;
  }
}

Deno.test("the system trust file is parsed once while unchanged and read again when it changes", async () => {
  const directory = await Deno.makeTempDir();
  const file = `${directory}/trust.pem`;
  const trusted = serveWith("server");
  const untrusted = serveWith("untrusted");
  try {
    await Deno.copyFile(fixture("ca.pem"), file);
    await withEnvironment({ SSL_CERT_FILE: file }, async () => {
      const before = systemTrustParses();
      assert.equal(await connects(trusted.port), true);
      assert.equal(await connects(trusted.port), true);
      makeSslCtx({ sslSide: "client" }).destroy();
      makeSslCtx({ sslSide: "both" }).destroy();
      assert.equal(await connects(untrusted.port), false);
      assert.equal(systemTrustParses() - before, 1, "one parse for five contexts");
      // Another CA in the same file, rewritten in place to the same size with the modification time put back
      // (what `cp -p` or `rsync -t --inplace` do): the next context trusts it, and no longer the first.
      const { size, mtime } = await Deno.stat(file);
      const other = await Deno.readTextFile(fixture("untrusted-ca.pem"));
      assert.ok(other.length < size, "the other CA's file is the smaller");
      await Deno.writeTextFile(file, other + "#".repeat(size - other.length - 1) + "\n");
      await Deno.utime(file, new Date(), mtime!);
      assert.equal((await Deno.stat(file)).size, size);
      assert.equal(await connects(untrusted.port), true);
      assert.equal(await connects(trusted.port), false);
      assert.equal(systemTrustParses() - before, 2);
    });
  } finally {
    await trusted.stop();
    await untrusted.stop();
    await Deno.remove(directory, { recursive: true });
  }
  assertNoLiveObjects();
});

Deno.test("a CA one context adds to its own store is not trusted by the next context", async () => {
  const server = serveWith("server");
  try {
    await withEnvironment({ SSL_CERT_FILE: fixture("untrusted-ca.pem") }, async () => {
      const stream = await openTcpStream("localhost", server.port, {
        sslCtx: true,
        ctxConfigureCallback: trustTestCa,
      });
      await stream[Symbol.asyncDispose]();
      assert.equal(await connects(server.port), false);
    });
  } finally {
    await server.stop();
  }
  assertNoLiveObjects();
});

Deno.test("SSL_CERT_DIR (a hashed directory) is searched as OpenSSL's own default paths do", async () => {
  const directory = await Deno.makeTempDir();
  const server = serveWith("server");
  try {
    const hash = new TextDecoder().decode(
      (await new Deno.Command("openssl", {
        args: ["x509", "-noout", "-subject_hash", "-in", fixture("ca.pem")],
      })
        .output()).stdout,
    ).trim();
    assert.match(hash, /^[0-9a-f]{8}$/);
    await Deno.copyFile(fixture("ca.pem"), `${directory}/${hash}.0`);
    await withEnvironment(
      { SSL_CERT_FILE: `${directory}/missing.pem`, SSL_CERT_DIR: directory },
      async () => {
        assert.equal(await connects(server.port), true);
      },
    );
    await withEnvironment(
      { SSL_CERT_FILE: `${directory}/missing.pem`, SSL_CERT_DIR: `${directory}/none` },
      async () => {
        assert.equal(await connects(server.port), false);
      },
    );
  } finally {
    await server.stop();
    await Deno.remove(directory, { recursive: true });
  }
  assertNoLiveObjects();
});

Deno.test("without read permission for the trust file OpenSSL reads it for each context, and nothing prompts", async () => {
  const directory = await Deno.makeTempDir();
  try {
    await Deno.copyFile(fixture("ca.pem"), `${directory}/trust.pem`);
    const root = new URL("..", import.meta.url).pathname;
    const script = `
      import { makeSslCtx } from "${new URL("../mod.ts", import.meta.url).href}";
      import { loadOpenssl } from "${new URL("../ffi/mod.ts", import.meta.url).href}";
      import { systemTrustParses } from "${new URL("../ffi/_system_trust.ts", import.meta.url).href}";
      const { libssl, libcrypto } = loadOpenssl();
      const counts = [];
      for (let i = 0; i < 3; i++) {
        const ctx = makeSslCtx({ sslSide: "client" });
        counts.push(libcrypto.OPENSSL_sk_num(libcrypto.X509_STORE_get0_objects(libssl.SSL_CTX_get_cert_store(ctx.pointer))));
        ctx.destroy();
      }
      console.log(JSON.stringify({ parses: systemTrustParses(), counts }));
    `;
    const file = `${directory}/child.ts`;
    await Deno.writeTextFile(file, script);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", `--allow-read=${root},${file}`, "--allow-ffi", "--allow-env", file],
      env: { SSL_CERT_FILE: `${directory}/trust.pem` },
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    // Nothing shared (OpenSSL's own call each time), and each context trusts the file.
    assert.deepEqual(result, { parses: 0, counts: [1, 1, 1] });
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
