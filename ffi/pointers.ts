/**
 * `SslCtxPointer` and `SslPointer`: wrappers around `SSL_CTX *` and `SSL *`
 * that remember whether the object was freed, so a freed pointer never
 * reaches OpenSSL.
 *
 * @module
 */

import { loadOpenssl } from "./library.ts";
import {
  contextFreed,
  insideOpensslCallback,
  releaseContext,
  retainContext,
  sslFreed,
} from "./_lifetimes.ts";

type Kind = "sslCtx" | "ssl";

const live: Record<Kind, number> = { sslCtx: 0, ssl: 0 };

// Backstop for objects the module made and nobody freed: the wrapper was
// collected, so nothing can use the pointer any more. Unregistered on free.
const backstop = new FinalizationRegistry<{ kind: Kind; raw: Deno.PointerObject; context?: bigint }>(
  ({ kind, raw, context }) => {
    freeNative(kind, raw, context);
    live[kind]--;
  },
);

// Frees the native object and settles the bookkeeping of callbacks tied to it. Inside an OpenSSL callback
// the call that runs it may still use the object: the free waits until that call has returned (a microtask
// runs only once the JavaScript stack under the native call has unwound).
function freeNative(kind: Kind, raw: Deno.PointerObject, context: bigint | undefined): void {
  if (insideOpensslCallback()) {
    queueMicrotask(() => freeNative(kind, raw, context));
    return;
  }
  const { libssl } = loadOpenssl();
  const address = Deno.UnsafePointer.value(raw);
  if (kind === "ssl") {
    libssl.SSL_free(raw);
    sslFreed(address);
    if (context !== undefined) releaseContext(context);
  } else {
    libssl.SSL_CTX_free(raw);
    contextFreed(address);
  }
}

// Every live wrapper by address (made here or by `from`), so that `from(raw)` hands back the one wrapper that
// knows whether the object was freed or is attached to a stream: two wrappers of one SSL would get past both
// guards.
const known = new Map<bigint, WeakRef<NativePointer>>();
const forget = new FinalizationRegistry<bigint>((address) => {
  if (known.get(address)?.deref() === undefined) known.delete(address);
});

// SSLs that an open stream drives, by address: freeing one would pull it out from under the stream.
const attached = new Set<bigint>();

/** @internal A stream starts driving `ssl`; it cannot be freed by its owner until `markDetached`. */
export function markAttached(ssl: SslPointer): void {
  attached.add(Deno.UnsafePointer.value(ssl.pointer));
}

/** @internal The stream is done with `ssl`. */
export function markDetached(ssl: SslPointer): void {
  attached.delete(ssl.address);
}

/** @internal Whether an open stream drives this SSL. */
export function isAttached(ssl: SslPointer): boolean {
  return !ssl.freed && attached.has(ssl.address);
}

function assertPointer(raw: unknown, type: string): Deno.PointerObject {
  if (raw === null || typeof raw !== "object") {
    throw new TypeError(
      `${type}.from() needs a non-null Deno.PointerObject, got ${raw === null ? "null" : typeof raw}`,
    );
  }
  if (Deno.UnsafePointer.value(raw as Deno.PointerObject) === 0n) {
    throw new TypeError(`${type}.from() needs a non-null pointer`);
  }
  return raw as Deno.PointerObject;
}

/**
 * What `SslCtxPointer` and `SslPointer` share: the raw pointer behind a
 * guard, and whether it was freed.
 *
 * @example
 * ```ts
 * import { makeSslCtx, NativePointer } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx();
 * console.log(ctx instanceof NativePointer, ctx.freed); // true false
 * ```
 */
export abstract class NativePointer {
  #raw: Deno.PointerObject;
  #freed = false;
  #madeHere: boolean;
  readonly #borrowed: boolean;
  readonly #kind: Kind;
  readonly #type: string;
  readonly #context: bigint | undefined;

  /**
   * @internal Wraps `raw`; `madeHere` counts it as the module's own object;
   * `context` is the SSL_CTX an SSL was made from (kept alive with its callbacks).
   */
  constructor(
    raw: Deno.PointerObject,
    kind: Kind,
    type: string,
    madeHere: boolean,
    context?: bigint,
    { borrowed = false }: { borrowed?: boolean } = {},
  ) {
    this.#raw = raw;
    this.#kind = kind;
    this.#type = type;
    this.#madeHere = madeHere;
    this.#context = context;
    this.#borrowed = borrowed;
    if (context !== undefined) retainContext(context);
    if (madeHere) {
      live[kind]++;
      backstop.register(this, { kind, raw, context }, this);
    }
    if (!borrowed) {
      const address = Deno.UnsafePointer.value(raw);
      known.set(address, new WeakRef(this));
      forget.register(this, address);
    }
  }

  /**
   * The raw pointer, for calling OpenSSL directly.
   *
   * @throws {TypeError} if the object was freed.
   */
  get pointer(): Deno.PointerObject {
    if (this.#freed) {
      throw new TypeError(`This ${this.#type} was freed; a freed pointer cannot be used`);
    }
    return this.#raw;
  }

  /** @internal The address, also after the free (for bookkeeping, never for a call). */
  get address(): bigint {
    return Deno.UnsafePointer.value(this.#raw);
  }

  /** Whether the object was freed through this wrapper. */
  get freed(): boolean {
    return this.#freed;
  }

  /**
   * Frees the native object once; later uses of `pointer` throw.
   *
   * @throws {TypeError} if it was freed already, if it is an SSL that an open stream drives, or if the
   *   module borrowed it (the SSL_CTX behind your own `SslPointer`).
   */
  protected free(): void {
    const raw = this.pointer;
    if (this.#borrowed) {
      throw new TypeError(
        `This ${this.#type} is the SSL_CTX behind an SslPointer you gave a stream: the module borrowed it ` +
          "and does not own it; free your own SSL_CTX through your own wrapper",
      );
    }
    if (this.#kind === "ssl" && attached.has(Deno.UnsafePointer.value(raw))) {
      throw new TypeError(
        `This ${this.#type} is in use by an open SocketStream; close the stream (or detachSsl) before freeing it`,
      );
    }
    this.#freed = true;
    const address = Deno.UnsafePointer.value(raw);
    if (known.get(address)?.deref() === this) known.delete(address);
    if (this.#madeHere) {
      backstop.unregister(this);
      live[this.#kind]--;
    }
    freeNative(this.#kind, raw, this.#context);
  }

  /** @internal The module's live wrapper for `raw`, if any. */
  protected static lookup<T extends NativePointer>(
    raw: Deno.PointerObject,
    kind: abstract new (...args: never[]) => T,
  ): T | undefined {
    const found = known.get(Deno.UnsafePointer.value(raw))?.deref();
    if (found === undefined || found instanceof kind) return found as T | undefined;
    // One address, two kinds: the caller passed an SSL_CTX where an SSL belongs, or the other way round.
    throw new TypeError(
      `${kind.name}.from() was given the pointer of a live ${found.#type}, not an ${kind.name}`,
    );
  }
}

/**
 * An `SSL_CTX *`, LispWorks' `ssl-ctx-pointer`. Made by `makeSslCtx`, or
 * wrapped from your own FFI with `SslCtxPointer.from(raw)`. Free it with
 * `destroySslCtx` or `using`.
 *
 * @example
 * ```ts
 * import { makeSslCtx } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * console.log(ctx.pointer !== null); // true
 * ```
 */
export class SslCtxPointer extends NativePointer {
  /**
   * @internal Use `makeSslCtx` or `SslCtxPointer.from`; `borrowed` marks the module's own view of a context it
   * must never free (the one behind a caller's `SslPointer`).
   */
  constructor(raw: Deno.PointerObject, madeHere: boolean, options?: { borrowed?: boolean }) {
    super(raw, "sslCtx", "SslCtxPointer", madeHere, undefined, options);
  }

  /** @internal The module's wrapper for `raw`: the caller's own if there is one, else a borrowed view. */
  static borrow(raw: Deno.PointerObject): SslCtxPointer {
    return NativePointer.lookup(raw, SslCtxPointer) ?? new SslCtxPointer(raw, false, { borrowed: true });
  }

  /**
   * Wraps an `SSL_CTX *` made by your own code. The module never frees it
   * unless you call `destroySslCtx` on the wrapper.
   *
   * @param raw a non-null `SSL_CTX *`.
   * @returns the wrapper: the same one for every call while it lives, and the module's own for an object
   *   it made.
   * @throws {TypeError} if `raw` is null.
   * @example
   * ```ts
   * import { SslCtxPointer } from "@comm/socket-stream";
   * import { loadOpenssl } from "@comm/socket-stream/ffi";
   *
   * const { libssl } = loadOpenssl();
   * const ctx = SslCtxPointer.from(libssl.SSL_CTX_new(libssl.TLS_client_method()));
   * libssl.SSL_CTX_free(ctx.pointer);
   * ```
   */
  static from(raw: Deno.PointerValue): SslCtxPointer {
    const pointer = assertPointer(raw, "SslCtxPointer");
    return NativePointer.lookup(pointer, SslCtxPointer) ?? new SslCtxPointer(pointer, false);
  }

  /** Frees the `SSL_CTX` (as `destroySslCtx`); nothing if already freed. */
  [Symbol.dispose](): void {
    if (!this.freed) this.free();
  }

  /** @internal The free that `destroySslCtx` performs. */
  destroy(): void {
    this.free();
  }
}

/**
 * An `SSL *`, LispWorks' `ssl-pointer`. Made by `sslNew` or by a stream, or
 * wrapped from your own FFI with `SslPointer.from(raw)`.
 *
 * @example
 * ```ts
 * import { makeSslCtx, sslNew } from "@comm/socket-stream";
 *
 * using ctx = makeSslCtx({ sslSide: "client" });
 * using ssl = sslNew(ctx);
 * console.log(ssl.freed); // false
 * ```
 */
export class SslPointer extends NativePointer {
  /** @internal Use `sslNew` or `SslPointer.from`; `context` is the SSL_CTX it was made from. */
  constructor(raw: Deno.PointerObject, madeHere: boolean, context?: bigint) {
    super(raw, "ssl", "SslPointer", madeHere, context);
  }

  /**
   * Wraps an `SSL *` made by your own code. The module never frees it unless
   * you call `destroySsl` on the wrapper.
   *
   * @param raw a non-null `SSL *`.
   * @returns the wrapper: the same one for every call while it lives, and the module's own for an object
   *   it made (so a stream's SSL stays guarded).
   * @throws {TypeError} if `raw` is null.
   * @example
   * ```ts
   * import { makeSslCtx, SslPointer } from "@comm/socket-stream";
   * import { loadOpenssl } from "@comm/socket-stream/ffi";
   *
   * const { libssl } = loadOpenssl();
   * using ctx = makeSslCtx({ sslSide: "client" });
   * const ssl = SslPointer.from(libssl.SSL_new(ctx.pointer));
   * libssl.SSL_free(ssl.pointer);
   * ```
   */
  static from(raw: Deno.PointerValue): SslPointer {
    const pointer = assertPointer(raw, "SslPointer");
    return NativePointer.lookup(pointer, SslPointer) ?? new SslPointer(pointer, false);
  }

  /** Frees the `SSL` (as `destroySsl`); nothing if already freed; a `TypeError` while a stream uses it. */
  [Symbol.dispose](): void {
    if (!this.freed) this.free();
  }

  /** @internal The free that `destroySsl` performs. */
  destroy(): void {
    this.free();
  }
}

/**
 * How many `SSL_CTX` and `SSL` objects the module made and has not freed yet.
 * Tests use it to prove that nothing leaks.
 *
 * @returns the two counts.
 * @example
 * ```ts
 * import { liveNativeObjects } from "@comm/socket-stream/ffi";
 *
 * const { sslCtx, ssl } = liveNativeObjects();
 * console.log(sslCtx >= 0 && ssl >= 0); // true
 * ```
 */
export function liveNativeObjects(): { sslCtx: number; ssl: number } {
  return { ...live };
}

/** What a helper that works on a context or a connection was given. */
export type CtxOrSsl = SslCtxPointer | SslPointer;

/**
 * The kind and raw pointer of a context or connection argument.
 *
 * @throws {TypeError} naming `what` if it is neither, or was freed.
 */
export function targetOf(value: unknown, what: string): { kind: "ctx" | "ssl"; raw: Deno.PointerObject } {
  if (value instanceof SslCtxPointer) return { kind: "ctx", raw: value.pointer };
  if (value instanceof SslPointer) return { kind: "ssl", raw: value.pointer };
  throw new TypeError(`${what} needs an SslCtxPointer or an SslPointer, got ${describe(value)}`);
}

/** A short description of a wrong argument for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    // A class instance by its class; a plain object (or one without a prototype) as "object". Reading the
    // class runs the caller's code (a getter, a Proxy trap): what it throws or answers is not trusted.
    let name: unknown;
    try {
      name = (value as object).constructor?.name;
    } catch {
      name = undefined;
    }
    return typeof name === "string" && name !== "" && name !== "Object" ? name.slice(0, 64) : "object";
  }
  // A long string is cut: the message names what was given, it does not repeat it.
  if (typeof value === "string") {
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
  }
  return typeof value;
}
