/**
 * The key log: NSS key log lines (for Wireshark) from every connection of a context, to a function, a file or
 * both, through one writer. `SSLKEYLOGFILE`, as curl and the browsers read it, uses it too: every context the
 * module makes appends its connections' lines to the file the variable names, when it is set and the process
 * may read it and write the file. Said once on stderr, since those lines decrypt the traffic. Off when the
 * variable is unset, or not granted (`--deny-env=SSLKEYLOGFILE`, or `--allow-env` without it); a context's own
 * `keylog` or `keylogFile` replaces it.
 *
 * @module
 */

import { readCString } from "./_cstring.ts";
import { callbackFor } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";

// void keylog_cb(const SSL *ssl, const char *line)
const KEYLOG_CALLBACK = { parameters: ["pointer", "pointer"], result: "void" } as const;

const encoder = new TextEncoder();

let announced = false;

/** Where a context's key log lines go. */
export interface KeylogSinks {
  /** Gets each line. */
  keylog?: (line: string) => void;
  /** Each line is appended to this file. */
  file?: string;
}

/**
 * Sends the key log lines of every connection of the SSL_CTX at `raw` to `sinks`, replacing the key log
 * callback it had. The file is opened for the lines one OpenSSL step writes (a handshake's lines come
 * together) and closed once that step is over, so no descriptor outlives it (an open file would keep a test's
 * resource sanitizer from passing, and follow a log rotation late); it is appended to, and made mode 0600 the
 * first time (only the owner may read the keys). A sink that fails never breaks a handshake: a file that
 * cannot be opened is not tried again, a line that cannot be written is dropped.
 */
export function setKeylog(raw: Deno.PointerObject, sinks: KeylogSinks): void {
  const { keylog, file } = sinks;
  let handle: Deno.FsFile | null = null;
  let unusable = false;
  let protectedOnce = false;
  const closeSoon = () => {
    handle?.close();
    handle = null;
  };
  const append = (path: string, line: string) => {
    if (unusable) return;
    if (handle === null) {
      try {
        handle = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
      } catch {
        unusable = true;
        return;
      }
      // Closed once the OpenSSL call writing these lines has returned (a microtask runs only then).
      queueMicrotask(closeSoon);
      if (!protectedOnce) {
        protectedOnce = true;
        try {
          // Made by someone else first (Deno's own TLS creates the file SSLKEYLOGFILE names): owner-only all
          // the same.
          Deno.chmodSync(path, 0o600);
        } catch {
          // Not ours to change (or no modes on this system): written as it is.
        }
      }
    }
    try {
      const bytes = encoder.encode(`${line}\n`);
      for (let written = 0; written < bytes.length;) written += handle.writeSync(bytes.subarray(written));
    } catch {
      // Dropped: the next line tries again.
    }
  };
  const native = callbackFor("ctx", raw, KEYLOG_CALLBACK, (_ssl, line) => {
    const text = readCString(line);
    if (text === null) return;
    try {
      keylog?.(text);
    } catch {
      // A failing function must not break the handshake.
    }
    if (file !== undefined) append(file, text);
  });
  loadOpenssl().libssl.SSL_CTX_set_keylog_callback(raw, native);
}

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
  setKeylog(raw, { file });
}
