/**
 * The key log: NSS key log lines (for Wireshark) from every connection of a context, to a function, a file or
 * both, through one writer. `SSLKEYLOGFILE`, as curl and the browsers read it, uses it too: every context the
 * module makes appends its connections' lines to the file the variable names, when it is set and the process
 * may read it and write the file. Said once on stderr, since those lines decrypt the traffic; the file is tried
 * first, and one that cannot be opened for appending is said instead, and nothing is logged. Off when the
 * variable is unset, or not granted (`--deny-env=SSLKEYLOGFILE`, or `--allow-env` without it); a context's own
 * `keylog` or `keylogFile` replaces it. A context's `keylogFile` that cannot be opened is refused when the
 * context is made; a file that fails later is said once on stderr, not for every line.
 *
 * @module
 */

import { readCString } from "./_cstring.ts";
import { callbackFor } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";

// void keylog_cb(const SSL *ssl, const char *line)
const KEYLOG_CALLBACK = { parameters: ["pointer", "pointer"], result: "void" } as const;

const encoder = new TextEncoder();

/** Where a context's key log lines go. */
export interface KeylogSinks {
  /** Gets each line. */
  keylog?: (line: string) => void;
  /** Each line is appended to this file. */
  file?: string;
}

/** What Deno says about a file, without the path it appends (the message names it already). */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/: open '.*'$/s, "");
}

/**
 * Why `path` cannot be opened for appending now: the file system's (or Deno's permissions') error, or `null`
 * when it can. A file that is not there is made (mode 0600) to find out, and removed again: a key log exists
 * only with lines in it, so a file left empty by a context that never connected does not pass for a log.
 */
function appendFailure(path: string): unknown {
  const blocking = wouldBlock(path);
  if (blocking !== null) return blocking;
  try {
    Deno.openSync(path, { append: true }).close();
    return null;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return error;
  }
  let made: Deno.FsFile;
  try {
    made = Deno.openSync(path, { append: true, createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) return error;
    // Made meanwhile, or a symbolic link to a file not there yet: opened as the writer will, and left as it is.
    try {
      Deno.openSync(path, { append: true, create: true, mode: 0o600 }).close();
      return null;
    } catch (again) {
      return again;
    }
  }
  // Removed only while still empty: another process that began a log at this path meanwhile (a shared
  // SSLKEYLOGFILE) keeps its lines. (Between this check and the removal is a window of microseconds.)
  let empty: boolean;
  try {
    empty = made.statSync().size === 0;
  } finally {
    made.close();
  }
  if (!empty) return null;
  try {
    Deno.removeSync(path);
  } catch {
    // Left empty (mode 0600): the first line goes into it all the same.
  }
  return null;
}

/**
 * Why opening `path` for writing could block the whole process (a FIFO with no reader, a socket), or `null`:
 * the open is synchronous, on the one thread every connection shares.
 */
function wouldBlock(path: string): Error | null {
  // The process's own descriptors (a pipe it writes to, as /dev/stderr under a pipeline): open already, with a
  // reader at the other end, so opening them again does not wait.
  if (/^\/(dev\/(stdout|stderr|fd\/\d+)|proc\/self\/fd\/\d+)$/.test(path)) return null;
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return null;
  }
  return info.isFifo || info.isSocket
    ? new Error(`it is a ${info.isFifo ? "FIFO" : "socket"}, which opening could block on`)
    : null;
}

/**
 * Refuses a context's `keylogFile` that cannot be opened for appending now (a missing directory, a directory, a
 * read-only file, no write permission), so that a key log asked for is not silently missing.
 *
 * @throws {Error} naming the path and why; its `cause` is the file system's (or Deno's permissions') error.
 */
export function checkKeylogFile(path: string): void {
  const error = appendFailure(path);
  if (error !== null) {
    throw new Error(`keylogFile ${path} cannot be opened for appending: ${reasonOf(error)}`, {
      cause: error,
    });
  }
}

// The key log files a failure to write has been said about, until a line reaches them again: said once on
// stderr, not for every line (a handshake has five), nor for every context that writes there.
const failing = new Set<string>();

function sayFailure(path: string, error: unknown): void {
  if (failing.has(path)) return;
  failing.add(path);
  console.error(
    `Key log: cannot append to ${path}: ${reasonOf(error)}; its lines are dropped until it can be written ` +
      "again (said once)",
  );
}

/**
 * Sends the key log lines of every connection of the SSL_CTX at `raw` to `sinks`, replacing the key log
 * callback it had. The file is opened for the lines one OpenSSL step writes (a handshake's lines come
 * together) and closed once that step is over, so no descriptor outlives it (an open file would keep a test's
 * resource sanitizer from passing, and follow a log rotation late); it is appended to, and made mode 0600 the
 * first time if it is a regular file (only the owner may read the keys). A sink that fails never breaks a
 * handshake: a file that cannot be opened or written is said once on stderr (see `sayFailure`), its lines are
 * dropped, and the next step tries again.
 */
export function setKeylog(raw: Deno.PointerObject, sinks: KeylogSinks): void {
  const { keylog, file } = sinks;
  let handle: Deno.FsFile | null = null;
  // The open failed in this step: its other lines do not try again.
  let failedInStep = false;
  let protectedOnce = false;
  const closeSoon = () => {
    handle?.close();
    handle = null;
  };
  const append = (path: string, line: string) => {
    if (failedInStep) return;
    if (handle === null) {
      try {
        handle = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
      } catch (error) {
        sayFailure(path, error);
        failedInStep = true;
        queueMicrotask(() => failedInStep = false);
        return;
      }
      // Closed once the OpenSSL call writing these lines has returned (a microtask runs only then).
      queueMicrotask(closeSoon);
      if (!protectedOnce) {
        protectedOnce = true;
        try {
          // Made by someone else first (Deno's own TLS creates the file SSLKEYLOGFILE names): owner-only all
          // the same. Only a regular file: a device (/dev/stderr, /dev/null) is not the module's to change.
          if (handle.statSync().isFile) Deno.chmodSync(path, 0o600);
        } catch {
          // Not ours to change (or no modes on this system): written as it is.
        }
      }
    }
    try {
      const bytes = encoder.encode(`${line}\n`);
      for (let written = 0; written < bytes.length;) written += handle.writeSync(bytes.subarray(written));
      failing.delete(path);
    } catch (error) {
      // Dropped: the next line tries again.
      sayFailure(path, error);
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

// The paths SSLKEYLOGFILE has named in this process, and whether they could be opened for appending: each tried
// and said once (a process sees one, unless it changes the variable).
const environmentFiles = new Map<string, boolean>();

/**
 * Writes the key log of every connection of the SSL_CTX at `raw` to `SSLKEYLOGFILE`, if that applies. The file
 * is tried first: the announcement says either that the keys are appended to it, or that it cannot be opened
 * and nothing is logged.
 */
export function keylogFromEnvironment(raw: Deno.PointerObject): void {
  const file = environmentKeylogFile();
  if (file === undefined) return;
  let usable = environmentFiles.get(file);
  if (usable === undefined) {
    const error = appendFailure(file);
    usable = error === null;
    environmentFiles.set(file, usable);
    const reason = error === null ? "" : reasonOf(error);
    console.error(
      usable
        ? `SSLKEYLOGFILE is set: the keys of every TLS connection are appended to ${file}, and decrypt them ` +
          "(unset it to stop)"
        : `SSLKEYLOGFILE is set, but ${file} cannot be opened for appending: ${reason}; no TLS keys are logged`,
    );
  }
  if (usable) setKeylog(raw, { file });
}
