/**
 * Where libssl and libcrypto are looked for: the environment variable first,
 * then the usual names for the running OS. One error lists every path tried.
 *
 * @module
 */

/** The two libraries the module opens. */
export type LibraryName = "libssl" | "libcrypto";

const ENV_VARS: Record<LibraryName, string> = {
  libssl: "LIBSSL_PATH",
  libcrypto: "LIBCRYPTO_PATH",
};

const HOMEBREW_PREFIXES = ["/opt/homebrew/opt/openssl@3/lib", "/usr/local/opt/openssl@3/lib"];

/** Candidate file names or paths for `name` on `os`, most likely first. */
export function candidatesFor(name: LibraryName, os: typeof Deno.build.os): string[] {
  switch (os) {
    case "darwin":
      return [
        ...HOMEBREW_PREFIXES.map((dir) => `${dir}/${name}.3.dylib`),
        `${name}.3.dylib`,
      ];
    case "windows":
      return [`${name}-3-x64.dll`, `${name}-3.dll`];
    default:
      return [`${name}.so.3`, `${name}.so`];
  }
}

/**
 * Reads an environment variable; a missing or denied `--allow-env` counts as
 * unset (and never prompts), so the module works without that permission.
 */
export function readEnv(variable: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
    const value = Deno.env.get(variable);
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/** The variable that overrides where `name` is loaded from. */
export function envVarFor(name: LibraryName): string {
  return ENV_VARS[name];
}

/**
 * Opens the first candidate that loads. `override` (from
 * `setSslLibraryPath`-style settings) comes before the environment variable.
 *
 * @throws {Error} naming every path tried and the variable to set.
 */
export function openFirst<S extends Deno.ForeignLibraryInterface>(
  name: LibraryName,
  symbols: S,
  override?: string,
): Deno.DynamicLibrary<S> {
  const fromEnv = readEnv(ENV_VARS[name]);
  const tried: string[] = [];
  const reasons: string[] = [];
  const explicit = override ?? fromEnv;
  const candidates = explicit !== undefined ? [explicit] : candidatesFor(name, Deno.build.os);
  for (const path of candidates) {
    tried.push(path);
    try {
      return Deno.dlopen(path, symbols);
    } catch (error) {
      reasons.push(`${path}: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
    }
  }
  throw new Error(
    `Cannot load ${name}: tried ${tried.join(", ")}; set ${
      ENV_VARS[name]
    } to the library's path (OpenSSL 3 is needed). ${reasons.join("; ")}`,
  );
}
