/**
 * Record buffers go back when a connection idles, not after every record.
 *
 * OpenSSL's `SSL_MODE_RELEASE_BUFFERS` frees an SSL's read and write buffers (about 17 KiB each) after every
 * record and allocates them again for the next: a malloc, a free and a clear per record, which measured about
 * a quarter of OpenSSL's cost of a 1 KiB record. Instead, an engine that waits for its peer registers here,
 * and a sweep every `SWEEP_MS` gives back the buffers of those that made no step since the sweep before: a
 * connection that has been idle for 50 to 100 ms holds no record buffers, and a busy one keeps its own.
 *
 * @module
 */

/** What the sweep needs of an engine. */
export interface Sweepable {
  /** How many steps the engine has made; unchanged between two sweeps means idle. */
  readonly steps: number;
  /** Frees the record buffers (a no-op while they hold bytes). */
  releaseBuffers(): void;
}

/** How often idle engines are looked for. */
export const SWEEP_MS = 50;

// Each waiting engine with its step count as the last sweep saw it (-1: not seen by a sweep yet).
const waiting = new Map<Sweepable, number>();
let timer: ReturnType<typeof setInterval> | undefined;

function sweep(): void {
  for (const [engine, seen] of waiting) {
    const steps = engine.steps;
    if (steps !== seen) {
      waiting.set(engine, steps);
      continue;
    }
    waiting.delete(engine);
    engine.releaseBuffers();
  }
  stopIfEmpty();
}

function stopIfEmpty(): void {
  if (waiting.size > 0 || timer === undefined) return;
  clearInterval(timer);
  timer = undefined;
}

/** `engine` waits for its peer: its buffers go back if it is still waiting at the sweep after next. */
export function waitingForPeer(engine: Sweepable): void {
  if (waiting.has(engine)) return;
  waiting.set(engine, -1);
  if (timer === undefined) {
    // The sweep never keeps a program alive.
    Deno.unrefTimer(timer = setInterval(sweep, SWEEP_MS));
  }
}

/** `engine` is gone: the sweep forgets it at once (and stops when nothing waits). */
export function forget(engine: Sweepable): void {
  if (waiting.delete(engine)) stopIfEmpty();
}
