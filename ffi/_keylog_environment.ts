/**
 * `SSLKEYLOGFILE`, as curl and the browsers read it: every context the module makes appends its connections'
 * NSS key log lines (for Wireshark) to the file the variable names, when it is set and the process may read it
 * and write the file. Said once on stderr, since those lines decrypt the traffic. Off when the variable is
 * unset, or not granted (`--deny-env=SSLKEYLOGFILE`, or `--allow-env` without it); a context's own `keylog`
 * or `keylogFile` replaces it.
 *
 * @module
 */

import { readCString } from "./_cstring.ts";
import { callbackFor } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";

// void keylog_cb(const SSL *ssl, const char *line)
const KEYLOG_CALLBACK = { parameters: ["pointer", "pointer"], result: "void" } as const;

let announced = false;

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** The key log file `SSLKEYLOGFILE` names, if it is set and the permissions let the module use it. */
export function environmentKeylogFile(): string | undefined {
  if (!granted({ name: "env", variable: "SSLKEYLOGFILE" })) return undefined;
  const file = Deno.env.get("SSLKEYLOGFILE");
  if (!file || !granted({ name: "write", path: file })) return undefined;
  return file;
}

/** Writes the key log of every connection of the SSL_CTX at `raw` to `SSLKEYLOGFILE`, if that applies. */
export function keylogFromEnvironment(raw: Deno.PointerObject): void {
  const file = environmentKeylogFile();
  if (file === undefined) return;
  if (!announced) {
    announced = true;
    console.error(
      `SSLKEYLOGFILE is set: the keys of every TLS connection are appended to ${file}, and decrypt them ` +
        "(unset it to stop)",
    );
  }
  const native = callbackFor("ctx", raw, KEYLOG_CALLBACK, (_ssl, line) => {
    const text = readCString(line);
    if (text === null) return;
    try {
      // Only the owner may read the keys.
      Deno.writeTextFileSync(file, `${text}\n`, { append: true, mode: 0o600 });
    } catch {
      // A key log that cannot be written must not break the handshake.
    }
  });
  loadOpenssl().libssl.SSL_CTX_set_keylog_callback(raw, native);
}
