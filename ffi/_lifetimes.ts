/**
 * Ties JavaScript-side resources (FFI callbacks, native strings) to the real
 * lifetime of an SSL_CTX or SSL: OpenSSL calls an ex_data free function when
 * the object's last reference goes, and that releases what was attached.
 * So a verify or password callback lives exactly as long as the context that
 * can call it, however many SSLs keep the context alive after its owner let go.
 *
 * @module
 */

import { CRYPTO_EX_INDEX_SSL, CRYPTO_EX_INDEX_SSL_CTX } from "./constants.ts";
import { loadOpenssl } from "./library.ts";

type Kind = "ctx" | "ssl";

const releases: Record<Kind, Map<bigint, (() => void)[]>> = { ctx: new Map(), ssl: new Map() };
let registered = false;

// void free_func(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
const FREE_FUNC = {
  parameters: ["pointer", "pointer", "pointer", "i32", "i64", "pointer"],
  result: "void",
} as const;

function register(): void {
  if (registered) return;
  const { libcrypto } = loadOpenssl();
  for (
    const [classIndex, kind] of [[CRYPTO_EX_INDEX_SSL_CTX, "ctx"], [CRYPTO_EX_INDEX_SSL, "ssl"]] as const
  ) {
    // Lives as long as the process: OpenSSL may free an object at any time.
    const onFree = new Deno.UnsafeCallback(FREE_FUNC, (parent) => {
      const address = Deno.UnsafePointer.value(parent);
      const pending = releases[kind].get(address);
      if (!pending) return;
      releases[kind].delete(address);
      // Release after OpenSSL has finished freeing, outside its call stack.
      queueMicrotask(() => {
        for (const release of pending) release();
      });
    });
    if (libcrypto.CRYPTO_get_ex_new_index(classIndex, 0n, null, null, null, onFree.pointer) < 0) {
      throw new Error("Cannot register an ex_data index with OpenSSL");
    }
  }
  registered = true;
}

/** Runs `release` once OpenSSL has really freed the object at `raw` (an `SSL_CTX *` or `SSL *`). */
export function releaseWhenFreed(kind: Kind, raw: Deno.PointerObject, release: () => void): void {
  register();
  const address = Deno.UnsafePointer.value(raw);
  const list = releases[kind].get(address);
  if (list) list.push(release);
  else releases[kind].set(address, [release]);
}

/** A callback that stays alive until OpenSSL frees the object at `raw`. */
export function callbackFor<const D extends Deno.UnsafeCallbackDefinition>(
  kind: Kind,
  raw: Deno.PointerObject,
  definition: D,
  body: Deno.UnsafeCallbackFunction<D["parameters"], D["result"]>,
): Deno.PointerObject<Deno.UnsafeCallbackDefinition> {
  const callback = new Deno.UnsafeCallback(definition, body);
  releaseWhenFreed(kind, raw, () => callback.close());
  return callback.pointer;
}
