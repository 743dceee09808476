/**
 * Two connected in-process ends, for timing the module's TLS layer without
 * sockets: a write copies the bytes to the other end's queue and resolves at
 * once; a read waits for bytes or the other end's close.
 *
 * @module
 */

class Direction {
  readonly chunks: Uint8Array[] = [];
  ended = false;
  #wake: (() => void) | null = null;

  push(bytes: Uint8Array | null): void {
    if (bytes === null) this.ended = true;
    else this.chunks.push(bytes.slice());
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.chunks.length === 0) {
      if (this.ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const head = this.chunks[0];
    const count = Math.min(head.length, into.length);
    into.set(head.subarray(0, count));
    if (count === head.length) this.chunks.shift();
    else this.chunks[0] = head.subarray(count);
    return count;
  }
}

const address: Deno.NetAddr = { transport: "tcp", hostname: "memory", port: 0 };

function end(incoming: Direction, outgoing: Direction): Deno.Conn {
  return {
    read: (into: Uint8Array) => incoming.read(into),
    write: (bytes: Uint8Array) => {
      if (outgoing.ended) return Promise.reject(new Deno.errors.BrokenPipe("closed"));
      outgoing.push(bytes);
      return Promise.resolve(bytes.length);
    },
    closeWrite: () => {
      outgoing.push(null);
      return Promise.resolve();
    },
    close: () => {
      outgoing.push(null);
      incoming.push(null);
    },
    localAddr: address,
    remoteAddr: address,
  } as unknown as Deno.Conn;
}

/** A connected pair of in-memory ends. */
export function memoryConnectionPair(): [Deno.Conn, Deno.Conn] {
  const there = new Direction();
  const back = new Direction();
  return [end(back, there), end(there, back)];
}
