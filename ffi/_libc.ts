/**
 * The few libc calls that carry bytes over a raw socket descriptor. `read`,
 * `write` and `accept` block, so they run on Deno's blocking thread pool
 * (`nonblocking: true`) and the event loop never stalls.
 *
 * @module
 */

/** libc's socket calls, typed for `Deno.dlopen`. */
export const libcSymbols = {
  // ssize_t read(int fd, void *buf, size_t count);
  read: { parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  // ssize_t write(int fd, const void *buf, size_t count);
  write: { parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // int shutdown(int sockfd, int how);
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  // int fcntl(int fd, int cmd, ... /* int arg */);  -- called with one int argument
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen);
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen);
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // int getpeername(int sockfd, struct sockaddr *addr, socklen_t *addrlen);
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded libc. */
export type Libc = Deno.DynamicLibrary<typeof libcSymbols>;

let loaded: Libc["symbols"] | undefined;

/**
 * libc's symbols, loaded once.
 *
 * @throws {TypeError} on Windows, where sockets are not file descriptors.
 */
export function loadLibc(): Libc["symbols"] {
  if (loaded) return loaded;
  const path = Deno.build.os === "darwin"
    ? "libSystem.B.dylib"
    : Deno.build.os === "linux"
    ? "libc.so.6"
    : undefined;
  if (path === undefined) {
    throw new TypeError(`Raw socket descriptors are supported on Linux and macOS, not ${Deno.build.os}`);
  }
  loaded = Deno.dlopen(path, libcSymbols).symbols;
  return loaded;
}

/** fcntl's F_GETFL / F_SETFL and O_NONBLOCK for the running OS. */
export const FCNTL = {
  F_GETFL: 3,
  F_SETFL: 4,
  O_NONBLOCK: Deno.build.os === "darwin" ? 0x4 : 0x800,
} as const;

/** getsockopt's SOL_SOCKET / SO_TYPE, and SOCK_STREAM. */
export const SOCKOPT = {
  SOL_SOCKET: Deno.build.os === "darwin" ? 0xffff : 1,
  SO_TYPE: Deno.build.os === "darwin" ? 0x1008 : 3,
  SOCK_STREAM: 1,
} as const;

/** shutdown's SHUT_WR and SHUT_RDWR. */
export const SHUT = { WR: 1, RDWR: 2 } as const;

/** The address families the module can describe. */
export const AF = {
  UNIX: 1,
  INET: 2,
  INET6: Deno.build.os === "darwin" ? 30 : 10,
} as const;
