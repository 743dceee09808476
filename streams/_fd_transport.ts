/**
 * A raw socket descriptor as a transport (LispWorks' `:socket` handle): the
 * bytes move through non-blocking `recv` / `send` on the main thread, and a
 * descriptor that is not ready waits in one `poll` shared by all of them
 * (`_fd_poller.ts`), while the TLS engine stays on the main thread over its
 * memory BIOs, so reading and writing can overlap and OpenSSL's callbacks run
 * where JavaScript does.
 *
 * @module
 */

import { AF, ERRNO, errno, FCNTL, loadLibc, MSG, SHUT, SOCKOPT } from "../ffi/_libc.ts";
import { poller } from "./_fd_poller.ts";
import { describe } from "../ffi/pointers.ts";

// RFC 5952: lower-case hex, the longest run of two or more zero groups (the first of equal ones) as "::".
function ipv6Text(groups: number[]): string {
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8;) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end > start ? end : start + 1;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

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
    const groups = Array.from({ length: 8 }, (_, i) => view.getUint16(8 + 2 * i, false));
    return { transport: "tcp", hostname: ipv6Text(groups), port: view.getUint16(2, false) };
  }
  if (family === AF.UNIX) {
    const path = new TextDecoder().decode(storage.subarray(2, length[0])).replace(/\0.*$/s, "");
    return { transport: "unix", path };
  }
  return { transport: "tcp", hostname: "", port: 0 };
}

// Descriptors a stream owns now: one number is never wrapped twice, so it is never closed twice.
const owned = new Set<number>();

function socketOption(fd: number, option: number): number | null {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  const ok = loadLibc().getsockopt(
    fd,
    SOCKOPT.SOL_SOCKET,
    option,
    new Uint8Array(value.buffer),
    new Uint8Array(length.buffer),
  );
  return ok === 0 ? value[0] : null;
}

/**
 * Checks that `fd` can be wrapped, touching nothing: an open, connected stream socket that no stream owns.
 *
 * @throws {TypeError} for anything else (a file, a pipe, a listening socket, a descriptor already wrapped).
 * @throws {RangeError} for a number no descriptor can have.
 */
export function checkDescriptor(fd: unknown): asserts fd is number {
  if (!Number.isInteger(fd)) {
    throw new TypeError(
      `socket must be a Deno.Conn or a socket descriptor (an integer >= 0), got ${describe(fd)}`,
    );
  }
  const number = fd as number;
  if (number < 0 || number > 0x7fffffff) {
    throw new RangeError(`socket as a descriptor must be from 0 to 2147483647, got ${number}`);
  }
  if (owned.has(number)) throw new TypeError(`socket ${number} is already owned by a SocketStream`);
  if (loadLibc().fcntl(number, FCNTL.F_GETFL, 0) < 0) {
    throw new TypeError(`socket ${number} is not an open descriptor`);
  }
  // Only a stream socket: never take over a file, a pipe or the runtime's own descriptors.
  if (socketOption(number, SOCKOPT.SO_TYPE) !== SOCKOPT.SOCK_STREAM) {
    throw new TypeError(`socket ${number} is not a stream socket`);
  }
  if (socketOption(number, SOCKOPT.SO_ACCEPTCONN) === 1) {
    throw new TypeError(`socket ${number} is a listening socket; accept a connection on it and pass that`);
  }
}

/** A socket descriptor that behaves like a `Deno.Conn` for the module. */
export class FdTransport implements Deno.Conn {
  readonly #fd: number;
  #closed = false;

  /**
   * Takes ownership of `fd` (see `checkDescriptor`). Its flags are left as they are: every read and write is
   * non-blocking by itself (`MSG_DONTWAIT`), and waiting is the shared poller's.
   *
   * @throws {TypeError} for a value that is not a descriptor this can take, or on Windows.
   */
  constructor(fd: number) {
    checkDescriptor(fd);
    this.#fd = fd;
    owned.add(fd);
  }

  async read(p: Uint8Array): Promise<number | null> {
    const libc = loadLibc();
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource(`socket ${this.#fd} is closed`);
      const count = Number(libc.recv(this.#fd, p, BigInt(p.length), MSG.DONTWAIT));
      if (count > 0) return count;
      if (count === 0) return p.length === 0 ? 0 : null;
      const error = errno();
      if (error !== ERRNO.EAGAIN && error !== ERRNO.EINTR) {
        if (this.#closed) throw new Deno.errors.BadResource(`socket ${this.#fd} is closed`);
        throw new Deno.errors.ConnectionReset(`recv(2) failed on socket ${this.#fd} (errno ${error})`);
      }
      await poller.wait(this.#fd, "read");
    }
  }

  async write(p: Uint8Array): Promise<number> {
    const libc = loadLibc();
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource(`socket ${this.#fd} is closed`);
      const count = Number(libc.send(this.#fd, p, BigInt(p.length), MSG.DONTWAIT | MSG.NOSIGNAL));
      if (count >= 0) return count;
      const error = errno();
      if (error !== ERRNO.EAGAIN && error !== ERRNO.EINTR) {
        throw new Deno.errors.BrokenPipe(`send(2) failed on socket ${this.#fd} (errno ${error})`);
      }
      await poller.wait(this.#fd, "write");
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Wakes what waits on it; the number is closed once no poll holds it, so it is never reused under one.
    loadLibc().shutdown(this.#fd, SHUT.RDWR);
    poller.close(this.#fd);
    owned.delete(this.#fd);
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

  ref(): void {
    if (!this.#closed) poller.setReferenced(this.#fd, true);
  }

  unref(): void {
    if (!this.#closed) poller.setReferenced(this.#fd, false);
  }

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
