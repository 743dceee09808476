// The README's first command works: the demo negotiates TLS on loopback and echoes.
import assert from "node:assert/strict";

Deno.test("deno task demo prints the negotiated protocol, cipher, peer and the echoed line", async () => {
  const demo = new URL("../examples/demo.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-net=127.0.0.1,localhost", demo],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(text, /^protocol: +TLSv1\.3$/m);
  assert.match(text, /^cipher: +TLS_/m);
  assert.match(text, /^peer: +CN=localhost \(DNS:localhost, IP Address:127\.0\.0\.1\)$/m);
  assert.match(text, /^reply: +echo: hello over OpenSSL$/m);
});
