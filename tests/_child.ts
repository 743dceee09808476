/**
 * Runs a script in a child Deno process, so that a crash (a segfault, an abort from a double free) is a
 * failed test with the child's output, not a dead test run.
 *
 * @module
 */

const modUrl = new URL("../mod.ts", import.meta.url).href;
const ffiUrl = new URL("../ffi/mod.ts", import.meta.url).href;
const helpersUrl = new URL("./_helpers.ts", import.meta.url).href;

/** What the child did. */
export interface ChildResult {
  /** The exit code; 139 is a segfault, 134 an abort. */
  code: number;
  /** The signal that killed it, if any. */
  signal: Deno.Signal | null;
  /** What it printed on stdout. */
  stdout: string;
  /** What it printed on stderr. */
  stderr: string;
}

/**
 * Runs `body` (TypeScript; `mod`, `ffi` and `helpers` are imported as namespaces) with every permission, in
 * a child process killed after `timeoutMs`. `shell` prefixes the command (for `ulimit`).
 */
export async function runChild(
  body: string,
  { timeoutMs = 20_000, shell = "" }: { timeoutMs?: number; shell?: string } = {},
): Promise<ChildResult> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      file,
      `import * as mod from "${modUrl}";\nimport * as ffi from "${ffiUrl}";\nimport * as helpers from "${helpersUrl}";\n` +
        `void mod; void ffi; void helpers;\n${body}\n`,
    );
    const deno = Deno.execPath();
    const run = `"${deno}" run -A --quiet "${file}"`;
    const child = new Deno.Command("sh", {
      args: ["-c", shell ? `${shell}; exec ${run}` : `exec ${run}`],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    try {
      const { code, signal, stdout, stderr } = await child.output();
      const decoder = new TextDecoder();
      return { code, signal, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(file);
  }
}
