/**
 * A raw socket descriptor as a transport (LispWorks' `:socket` handle): the
 * bytes move through libc `read` / `write` on Deno's blocking thread pool,
 * while the TLS engine stays on the main thread over its memory BIOs, so
 * reading and writing can overlap and OpenSSL's callbacks run where
 * JavaScript does.
 *
 * @module
 */

import { AF, FCNTL, loadLibc, SHUT, SOCKOPT } from "../ffi/_libc.ts";
import { describe } from "../ffi/pointers.ts";

function addressOf(fd: number, which: "getsockname" | "getpeername"): Deno.Addr {
  const libc = loadLibc();
  const storage = new Uint8Array(128);
  const length = new Uint32Array([storage.length]);
  if (libc[which](fd, storage, length) !== 0) return { transport: "tcp", hostname: "", port: 0 };
  const view = new DataView(storage.buffer);
  // sa_family is the first 16 bits on Linux; on macOS a length byte comes first.
  const family = Deno.build.os === "darwin" ? storage[1] : view.getUint16(0, true);
  if (family === AF.INET) {
    return { transport: "tcp", hostname: storage.subarray(4, 8).join("."), port: view.getUint16(2, false) };
  }
  if (family === AF.INET6) {
    const groups = Array.from({ length: 8 }, (_, i) => view.getUint16(8 + 2 * i, false).toString(16));
    return {
      transport: "tcp",
      hostname: groups.join(":").replace(/\b(?:0+:){2,}/, ":"),
      port: view.getUint16(2, false),
    };
  }
  if (family === AF.UNIX) {
    const path = new TextDecoder().decode(storage.subarray(2, length[0])).replace(/\0.*$/s, "");
    return { transport: "unix", path };
  }
  return { transport: "tcp", hostname: "", port: 0 };
}

/** A socket descriptor that behaves like a `Deno.Conn` for the module. */
export class FdTransport implements Deno.Conn {
  readonly #fd: number;
  #reading: Promise<unknown> | null = null;
  readonly #writing = new Set<Promise<unknown>>();
  #closed = false;

  /**
   * Takes ownership of `fd` and puts it in blocking mode (its reads and writes
   * run off the main thread).
   *
   * @throws {TypeError} for a value that is not a descriptor, or on Windows.
   */
  constructor(fd: number) {
    if (!Number.isInteger(fd)) {
      throw new TypeError(
        `socket must be a Deno.Conn or a socket descriptor (an integer >= 0), got ${describe(fd)}`,
      );
    }
    if (fd < 0 || fd > 0x7fffffff) {
      throw new RangeError(`socket as a descriptor must be from 0 to 2147483647, got ${fd}`);
    }
    const libc = loadLibc();
    const flags = libc.fcntl(fd, FCNTL.F_GETFL, 0);
    if (flags < 0) throw new TypeError(`socket ${fd} is not an open descriptor`);
    // Only a stream socket: never take over a file, a pipe or the runtime's own descriptors.
    const type = new Int32Array(1);
    const length = new Uint32Array([4]);
    if (
      libc.getsockopt(
          fd,
          SOCKOPT.SOL_SOCKET,
          SOCKOPT.SO_TYPE,
          new Uint8Array(type.buffer),
          new Uint8Array(length.buffer),
        ) !==
        0 || type[0] !== SOCKOPT.SOCK_STREAM
    ) {
      throw new TypeError(`socket ${fd} is not a stream socket`);
    }
    if ((flags & FCNTL.O_NONBLOCK) !== 0) libc.fcntl(fd, FCNTL.F_SETFL, flags & ~FCNTL.O_NONBLOCK);
    this.#fd = fd;
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (this.#closed) throw new Deno.errors.BadResource(`socket ${this.#fd} is closed`);
    const reading = loadLibc().read(this.#fd, p, BigInt(p.length));
    this.#reading = reading;
    const count = Number(await reading.finally(() => this.#reading = null));
    if (count < 0) {
      if (this.#closed) throw new Deno.errors.BadResource(`socket ${this.#fd} is closed`);
      throw new Deno.errors.ConnectionReset(`read(2) failed on socket ${this.#fd}`);
    }
    return count === 0 ? null : count;
  }

  async write(p: Uint8Array): Promise<number> {
    if (this.#closed) throw new Deno.errors.BadResource(`socket ${this.#fd} is closed`);
    const writing = loadLibc().write(this.#fd, p, BigInt(p.length));
    this.#writing.add(writing);
    let count: number;
    try {
      count = Number(await writing);
    } finally {
      this.#writing.delete(writing);
    }
    if (count < 0) throw new Deno.errors.BrokenPipe(`write(2) failed on socket ${this.#fd}`);
    return count;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const libc = loadLibc();
    // Wake a read or write blocked in another thread. The number is closed only once no call that holds it is
    // left: a write still queued on the thread pool would otherwise go to whatever descriptor reuses it.
    libc.shutdown(this.#fd, SHUT.RDWR);
    const fd = this.#fd;
    const pending = [this.#reading, ...this.#writing].filter((call) => call !== null);
    if (pending.length === 0) libc.close(fd);
    else Promise.allSettled(pending).then(() => libc.close(fd));
  }

  closeWrite(): Promise<void> {
    if (!this.#closed) loadLibc().shutdown(this.#fd, SHUT.WR);
    return Promise.resolve();
  }

  get localAddr(): Deno.Addr {
    return addressOf(this.#fd, "getsockname");
  }

  get remoteAddr(): Deno.Addr {
    return addressOf(this.#fd, "getpeername");
  }

  ref(): void {}

  unref(): void {}

  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return new ReadableStream({
      pull: async (controller) => {
        const buffer = new Uint8Array(64 * 1024);
        const count = await this.read(buffer);
        if (count === null) controller.close();
        else controller.enqueue(buffer.subarray(0, count));
      },
    });
  }

  get writable(): WritableStream<Uint8Array> {
    return new WritableStream({
      write: async (chunk) => {
        for (let offset = 0; offset < chunk.length;) offset += await this.write(chunk.subarray(offset));
      },
    });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
