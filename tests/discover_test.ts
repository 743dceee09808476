// Finding libssl: LIBSSL_PATH / LIBCRYPTO_PATH first, and one clear error
// that lists what was tried and the variable to set.
import assert from "node:assert/strict";
import { candidatesFor } from "../ffi/_discover.ts";

async function runWithEnv(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { opensslVersion } from "${mod}"; console.log(opensslVersion());`],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}

Deno.test("LIBSSL_PATH that does not exist fails with the path tried and the variable to set", async () => {
  const { code, output } = await runWithEnv({ LIBSSL_PATH: "/nonexistent/libssl.so.3" });
  assert.notEqual(code, 0);
  assert.match(output, /Cannot load libssl: tried \/nonexistent\/libssl\.so\.3; set LIBSSL_PATH/);
});

Deno.test("LIBSSL_PATH and LIBCRYPTO_PATH pointing at the real libraries are used", async () => {
  const { code, output } = await runWithEnv({
    LIBSSL_PATH: "libssl.so.3",
    LIBCRYPTO_PATH: "libcrypto.so.3",
  });
  assert.equal(code, 0, output);
  assert.match(output, /^OpenSSL 3\./);
});

Deno.test("the candidates cover Linux, macOS (Homebrew) and Windows", () => {
  assert.deepEqual(candidatesFor("libssl", "linux"), ["libssl.so.3", "libssl.so"]);
  assert.ok(candidatesFor("libssl", "darwin").includes("/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib"));
  assert.equal(candidatesFor("libcrypto", "windows")[0], "libcrypto-3-x64.dll");
});
