// The examples run as their headers say: each on its own (against its local stand-in), and the HTTPS ones
// against nginx too (TLS 1.0 only; a client certificate required).
import assert from "node:assert/strict";
import { decoder, fixture, startNginx } from "./_helpers.ts";

/** Runs examples/`name` with the permissions in its header and `args`; its stdout, or the failure. */
async function runExample(name: string, args: string[] = [], cwd?: string): Promise<string> {
  const path = new URL(`../examples/${name}`, import.meta.url).pathname;
  const header = (await Deno.readTextFile(path)).match(/deno run ((?:--allow-[a-z]+ )+)examples\//);
  assert.ok(header, `${name} says how to run it`);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...header[1].trim().split(" "), path, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(output.stdout);
  assert.equal(output.code, 0, `${name}: ${decoder.decode(output.stderr)}\n${stdout}`);
  return stdout;
}

Deno.test("https_client_cert.ts: mTLS with an encrypted key, on its own and against nginx", async () => {
  assert.match(await runExample("https_client_cert.ts"), /status: +200\nbody: +hello, CN=test client/);
  await using server = await startNginx(() =>
    `    ssl_verify_client on;
    ssl_client_certificate ${fixture("ca.pem")};
    location / { return 200 "nginx saw $ssl_client_s_dn\\n"; }`
  );
  const output = await runExample("https_client_cert.ts", [
    `${server.origin}/`,
    fixture("client.pem"),
    fixture("client-encrypted.key"),
    "correct horse",
    fixture("ca.pem"),
  ]);
  assert.match(output, /status: +200\nbody: +nginx saw CN=test client/);
});

Deno.test("legacy_tls10.ts: TLS 1.0 on its own and against nginx with TLS 1.0 only", async () => {
  assert.match(await runExample("legacy_tls10.ts"), /body: +served over TLSv1 with /);
  await using server = await startNginx(() =>
    `    ssl_protocols TLSv1;
    ssl_ciphers DEFAULT@SECLEVEL=0;
    location / { return 200 "nginx over $ssl_protocol\\n"; }`
  );
  assert.match(
    await runExample("legacy_tls10.ts", [`${server.origin}/`, fixture("ca.pem")]),
    /nginx over TLSv1\n/,
  );
});

Deno.test("smtp_starttls.ts: EHLO, STARTTLS, TLS, EHLO again without STARTTLS, QUIT", async () => {
  const output = await runExample("smtp_starttls.ts");
  assert.match(output, /C: STARTTLS\nS: 220 Go ahead\n-- TLS: TLSv1\.3, /);
  const [before, after] = output.split("-- TLS:");
  assert.match(before, /250-STARTTLS/);
  assert.doesNotMatch(after, /STARTTLS/);
  assert.match(after, /S: 221 Bye/);
});

Deno.test("postgres_sslrequest.ts: 'S', TLS, StartupMessage, authentication OK", async () => {
  const output = await runExample("postgres_sslrequest.ts");
  assert.match(
    output,
    /SSLRequest answered: S\nTLS: TLSv1\.3, .*\nfirst answer: authentication request 0 \(OK\)/,
  );
});

Deno.test("keylog_wireshark.ts: writes the NSS key log lines of its connection", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const output = await runExample("keylog_wireshark.ts", [], directory);
    assert.match(output, /logged: +5 lines in keys\.log \(.*CLIENT_TRAFFIC_SECRET_0/);
    const lines = (await Deno.readTextFile(`${directory}/keys.log`)).trim().split("\n");
    assert.ok(lines.every((line) => /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/.test(line)));
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
