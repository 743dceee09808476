/**
 * Keeps JavaScript-side resources (FFI callbacks) alive exactly as long as
 * the SSL_CTX or SSL that can call them.
 *
 * An SSL_CTX lives on inside OpenSSL while SSLs made from it exist, even
 * after its owner freed it. So a context's callbacks are released only when
 * its wrapper was destroyed and no SSL the module made from it (or drives for
 * a stream) is left. This is bookkeeping on the module's own frees, not an
 * OpenSSL ex_data hook: such a hook is process-wide and would call back into
 * whichever Deno isolate registered it first (a test file, a Worker), long
 * after that isolate is gone.
 *
 * @module
 */

type Kind = "ctx" | "ssl";

const releases: Record<Kind, Map<bigint, (() => void)[]>> = { ctx: new Map(), ssl: new Map() };
const dependents = new Map<bigint, number>();
const destroyedContexts = new Set<bigint>();

function runReleases(kind: Kind, address: bigint): void {
  const pending = releases[kind].get(address);
  if (!pending) return;
  releases[kind].delete(address);
  for (const release of pending) release();
}

function releaseContextIfDone(address: bigint): void {
  if (destroyedContexts.has(address) && !dependents.has(address)) {
    destroyedContexts.delete(address);
    runReleases("ctx", address);
  }
}

/** Runs `release` once the object at `raw` is freed for good (see the module notes). */
export function releaseWhenFreed(kind: Kind, raw: Deno.PointerObject, release: () => void): void {
  const address = Deno.UnsafePointer.value(raw);
  const list = releases[kind].get(address);
  if (list) list.push(release);
  else releases[kind].set(address, [release]);
}

/** An SSL made from (or driven over) the context at `address` starts. */
export function retainContext(address: bigint): void {
  dependents.set(address, (dependents.get(address) ?? 0) + 1);
}

/** That SSL is gone. */
export function releaseContext(address: bigint): void {
  const count = (dependents.get(address) ?? 1) - 1;
  if (count > 0) dependents.set(address, count);
  else dependents.delete(address);
  releaseContextIfDone(address);
}

/** The module freed the SSL at `address`. */
export function sslFreed(address: bigint): void {
  runReleases("ssl", address);
}

/** The module freed (its reference to) the SSL_CTX at `address`. */
export function contextFreed(address: bigint): void {
  destroyedContexts.add(address);
  releaseContextIfDone(address);
}

// How many OpenSSL callbacks are running: JavaScript that OpenSSL called from inside one of its functions.
let callbackDepth = 0;

/**
 * Whether JavaScript is running inside an OpenSSL callback, where the native call under it may still use
 * any SSL or SSL_CTX: frees wait until it has returned.
 */
export function insideOpensslCallback(): boolean {
  return callbackDepth > 0;
}

/**
 * A callback that stays alive until the object at `raw` is freed for good. While `body` runs, frees are
 * deferred (see `insideOpensslCallback`).
 */
export function callbackFor<const D extends Deno.UnsafeCallbackDefinition>(
  kind: Kind,
  raw: Deno.PointerObject,
  definition: D,
  body: Deno.UnsafeCallbackFunction<D["parameters"], D["result"]>,
): Deno.PointerObject<Deno.UnsafeCallbackDefinition> {
  const guarded = ((...args: Parameters<typeof body>) => {
    callbackDepth++;
    try {
      return (body as (...inner: Parameters<typeof body>) => unknown)(...args);
    } finally {
      callbackDepth--;
    }
  }) as unknown as typeof body;
  const callback = new Deno.UnsafeCallback(definition, guarded);
  releaseWhenFreed(kind, raw, () => callback.close());
  return callback.pointer;
}
