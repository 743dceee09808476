/**
 * One `poll` for every raw descriptor stream that waits: the only call of theirs on Deno's blocking thread
 * pool, so a thousand idle descriptor streams hold one pool thread, not a thousand (the pool has few, and
 * `Deno.readTextFile`, DNS lookups and every other blocking call share them).
 *
 * A pipe of its own wakes the poll when the set of descriptors changes. A descriptor is closed only once no
 * poll holds it, so its number is never reused while a poll could report on it.
 *
 * @module
 */

import { loadLibc, POLL } from "../ffi/_libc.ts";

type Direction = "read" | "write";

interface Waiting {
  read: (() => void)[];
  write: (() => void)[];
}

/** The pollfd size: int fd, short events, short revents. */
const POLLFD = 8;

/** How often descriptors that nobody keeps the process alive for are polled (without blocking). */
const UNREFERENCED_POLL_MS = 25;

class Poller {
  readonly #waiting = new Map<number, Waiting>();
  // Descriptors whose streams were unref()'d: waiting for them must not keep the event loop alive.
  readonly #unreferenced = new Set<number>();
  // Ends the pause between non-blocking polls early (something changed).
  #interrupt: (() => void) | null = null;
  // Descriptors to close once the poll in flight (which may hold them) has returned.
  readonly #toClose = new Set<number>();
  #polling = false;
  #wakeRead = -1;
  #wakeWrite = -1;

  /** Resolves once `fd` is ready for `direction` (or has an error, or hung up). */
  wait(fd: number, direction: Direction): Promise<void> {
    return new Promise((resolve) => {
      let entry = this.#waiting.get(fd);
      if (!entry) this.#waiting.set(fd, entry = { read: [], write: [] });
      entry[direction].push(resolve);
      this.#kick();
    });
  }

  /** Whether waiting for `fd` keeps the event loop alive (a stream's `ref()` / `unref()`). */
  setReferenced(fd: number, referenced: boolean): void {
    if (referenced) this.#unreferenced.delete(fd);
    else this.#unreferenced.add(fd);
    if (this.#polling) this.#wake();
  }

  /** Wakes whoever waits on `fd` and closes it once no poll holds it. */
  close(fd: number): void {
    const entry = this.#waiting.get(fd);
    this.#waiting.delete(fd);
    this.#unreferenced.delete(fd);
    for (const wake of [...entry?.read ?? [], ...entry?.write ?? []]) wake();
    if (this.#polling) {
      this.#toClose.add(fd);
      this.#wake();
    } else {
      loadLibc().close(fd);
    }
  }

  #kick(): void {
    if (this.#polling) this.#wake();
    else this.#loop();
  }

  #wake(): void {
    if (this.#wakeWrite >= 0) loadLibc().write(this.#wakeWrite, new Uint8Array(1), 1n);
    this.#interrupt?.();
  }

  // A pause that does not keep the event loop alive, ended early by #wake.
  #pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#interrupt = null;
        resolve();
      }, UNREFERENCED_POLL_MS);
      Deno.unrefTimer(timer);
      this.#interrupt = () => {
        clearTimeout(timer);
        this.#interrupt = null;
        resolve();
      };
    });
  }

  #openWakePipe(): void {
    if (this.#wakeRead >= 0) return;
    const libc = loadLibc();
    const fds = new Int32Array(2);
    if (libc.pipe(new Uint8Array(fds.buffer)) !== 0) {
      throw new Error("pipe(2) failed for the descriptor poller");
    }
    [this.#wakeRead, this.#wakeWrite] = fds;
    // Non-blocking on both ends: draining never waits, and waking never blocks on a full pipe.
    for (const fd of fds) {
      libc.fcntl(fd, 4, /* F_SETFL */ libc.fcntl(fd, 3, /* F_GETFL */ 0) | nonblockingFlag());
    }
  }

  async #loop(): Promise<void> {
    this.#polling = true;
    const libc = loadLibc();
    try {
      this.#openWakePipe();
      while (this.#waiting.size > 0) {
        const fds = [...this.#waiting.keys()];
        const set = new Uint8Array((fds.length + 1) * POLLFD);
        const view = new DataView(set.buffer);
        fds.forEach((fd, i) => {
          const entry = this.#waiting.get(fd)!;
          view.setInt32(i * POLLFD, fd, true);
          view.setInt16(
            i * POLLFD + 4,
            (entry.read.length ? POLL.IN : 0) | (entry.write.length ? POLL.OUT : 0),
            true,
          );
        });
        view.setInt32(fds.length * POLLFD, this.#wakeRead, true);
        view.setInt16(fds.length * POLLFD + 4, POLL.IN, true);
        // Blocking (on the thread pool) while any waiting stream keeps the process alive; otherwise a quick
        // look now and then, with a timer that lets the process end.
        const referenced = fds.some((fd) => !this.#unreferenced.has(fd));
        await libc.poll(set, BigInt(fds.length + 1), referenced ? -1 : 0);
        // The poll has returned: nothing holds the descriptors waiting to be closed any more.
        for (const fd of this.#toClose) libc.close(fd);
        this.#toClose.clear();
        if (view.getInt16(fds.length * POLLFD + 6, true) !== 0) {
          while (libc.read(this.#wakeRead, new Uint8Array(64), 64n) > 0) {
            // drained
          }
        }
        fds.forEach((fd, i) => {
          const revents = view.getInt16(i * POLLFD + 6, true);
          const entry = this.#waiting.get(fd);
          if (revents === 0 || !entry) return;
          const failed = (revents & (POLL.ERR | POLL.HUP | POLL.NVAL)) !== 0;
          const wakes: (() => void)[] = [];
          if (failed || (revents & POLL.IN)) wakes.push(...entry.read.splice(0));
          if (failed || (revents & POLL.OUT)) wakes.push(...entry.write.splice(0));
          if (entry.read.length === 0 && entry.write.length === 0) this.#waiting.delete(fd);
          for (const wake of wakes) wake();
        });
        if (!referenced && this.#waiting.size > 0) await this.#pause();
      }
    } finally {
      this.#polling = false;
      for (const fd of this.#toClose) libc.close(fd);
      this.#toClose.clear();
    }
  }
}

function nonblockingFlag(): number {
  return Deno.build.os === "darwin" ? 0x4 : 0x800;
}

/** The process's one descriptor poller. */
export const poller: Poller = new Poller();
