/**
 * `setSslCtxPasswordCallback`: the password for encrypted private keys.
 *
 * @module
 */

import { ownOptions } from "./_option_checks.ts";
import { checkNoNul } from "./_cstring.ts";
import { callbackFor } from "./_lifetimes.ts";
import { loadOpenssl } from "./library.ts";
import { describe, SslCtxPointer } from "./pointers.ts";

/** Asked for the password; `forEncryption` is true when a key is being written. */
export type PasswordCallback = (info: { maxLength: number; forEncryption: boolean }) => string;

/** Options of `setSslCtxPasswordCallback`: one of the two. */
export interface PasswordOptions {
  /** Called when OpenSSL needs the password. */
  callback?: PasswordCallback;
  /** The password itself. */
  password?: string;
}

// int pem_password_cb(char *buf, int size, int rwflag, void *userdata)
const PASSWORD_CALLBACK = { parameters: ["pointer", "i32", "i32", "pointer"], result: "i32" } as const;

/** A native `pem_password_cb` answering with `callback`, alive as long as the object at `raw`. */
export function nativePasswordCallback(
  kind: "ctx" | "ssl",
  raw: Deno.PointerObject,
  callback: PasswordCallback,
): Deno.PointerObject {
  return callbackFor(kind, raw, PASSWORD_CALLBACK, (buffer, size, rwflag) => {
    if (buffer === null || size <= 0) return -1;
    let password: string;
    try {
      password = callback({ maxLength: size, forEncryption: rwflag === 1 });
    } catch {
      return -1;
    }
    // A NUL would end the password early where OpenSSL reads it as a C string: no password at all then.
    if (typeof password !== "string" || password.includes("\0")) return -1;
    const bytes = new TextEncoder().encode(password);
    if (bytes.length > size) return -1;
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(buffer, size)).set(bytes);
    return bytes.length;
  });
}

const PASSWORD_KEYS: ReadonlySet<string> = new Set(["callback", "password"]);

/**
 * Gives a context the password of its encrypted private key, LispWorks'
 * `set-ssl-ctx-password-callback`: call it before loading the key. The
 * callback stays alive as long as the context.
 *
 * @param ctx the context.
 * @param options `callback` or `password`.
 * @throws {TypeError} if neither is given, or for a wrong context.
 * @example
 * ```ts
 * import { makeSslCtx, setSslCtxPasswordCallback } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "server" });
 * setSslCtxPasswordCallback(ctx, { callback: () => Deno.env.get("KEY_PASSWORD") ?? "" });
 * ```
 */
export function setSslCtxPasswordCallback(ctx: SslCtxPointer, options: PasswordOptions): void {
  if (!(ctx instanceof SslCtxPointer)) {
    throw new TypeError(`setSslCtxPasswordCallback needs an SslCtxPointer, got ${describe(ctx)}`);
  }
  const { callback, password } = ownOptions("setSslCtxPasswordCallback", options, PASSWORD_KEYS);
  if (callback === undefined && password === undefined) {
    throw new TypeError("setSslCtxPasswordCallback needs callback or password");
  }
  if (callback !== undefined && typeof callback !== "function") {
    throw new TypeError(`callback must be a function, got ${describe(callback)}`);
  }
  if (password !== undefined) checkNoNul(password, "password");
  const answer: PasswordCallback = callback ?? (() => password!);
  const raw = ctx.pointer;
  loadOpenssl().libssl.SSL_CTX_set_default_passwd_cb(raw, nativePasswordCallback("ctx", raw, answer));
}
