/**
 * The few libc calls the module makes: those that carry bytes over a raw socket descriptor, and the
 * environment as OpenSSL reads it (`secure_getenv`, or `getenv` and `issetugid`; see `_system_trust.ts`). Reads and writes never block
 * (`recv` / `send` with `MSG_DONTWAIT`, on the main thread); waiting for a descriptor to become ready is one
 * `poll` for all of them at once, the only call that runs on Deno's blocking thread pool
 * (`nonblocking: true`). So any number of idle descriptor streams hold one pool thread, and the event loop
 * never stalls.
 *
 * @module
 */

/** libc's socket calls, typed for `Deno.dlopen`. */
export const libcSymbols = {
  // ssize_t recv(int sockfd, void *buf, size_t len, int flags);
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  // ssize_t send(int sockfd, const void *buf, size_t len, int flags);
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  // ssize_t read(int fd, void *buf, size_t count);  -- only on the poller's own non-blocking pipe
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // ssize_t write(int fd, const void *buf, size_t count);  -- only on the poller's own non-blocking pipe
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout);  -- blocks, on the thread pool
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  // int pipe(int pipefd[2]);
  pipe: { parameters: ["buffer"], result: "i32" },
  // char *secure_getenv(const char *name);  -- glibc: how OpenSSL reads SSL_CERT_FILE (nothing when AT_SECURE)
  secure_getenv: { parameters: ["buffer"], result: "pointer", optional: true },
  // char *getenv(const char *name);
  getenv: { parameters: ["buffer"], result: "pointer" },
  // int issetugid(void);  -- macOS: OpenSSL ignores the environment when it says so
  issetugid: { parameters: [], result: "i32", optional: true },
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
  // int *__errno_location(void);  (Linux; macOS calls it __error)
  errnoLocation: {
    name: Deno.build.os === "darwin" ? "__error" : "__errno_location",
    parameters: [],
    result: "pointer",
  },
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

/** getsockopt's SOL_SOCKET / SO_TYPE / SO_ACCEPTCONN, and SOCK_STREAM. */
export const SOCKOPT = {
  SOL_SOCKET: Deno.build.os === "darwin" ? 0xffff : 1,
  SO_TYPE: Deno.build.os === "darwin" ? 0x1008 : 3,
  SO_ACCEPTCONN: Deno.build.os === "darwin" ? 0x0002 : 30,
  SOCK_STREAM: 1,
} as const;

/** recv / send flags: this one call does not block; no SIGPIPE (macOS has no such flag; Deno ignores SIGPIPE). */
export const MSG = {
  DONTWAIT: Deno.build.os === "darwin" ? 0x80 : 0x40,
  NOSIGNAL: Deno.build.os === "darwin" ? 0 : 0x4000,
} as const;

/** The errno values a non-blocking call reports when it would have waited, or was interrupted. */
export const ERRNO = {
  EAGAIN: Deno.build.os === "darwin" ? 35 : 11,
  EINTR: 4,
} as const;

/** poll's events. */
export const POLL = { IN: 0x1, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20 } as const;

/** errno as the last libc call on this thread left it (read right after that call). */
export function errno(): number {
  const location = loadLibc().errnoLocation();
  return location === null ? 0 : new Deno.UnsafePointerView(location).getInt32();
}

/** shutdown's SHUT_WR and SHUT_RDWR. */
export const SHUT = { WR: 1, RDWR: 2 } as const;

/** The address families the module can describe. */
export const AF = {
  UNIX: 1,
  INET: 2,
  INET6: Deno.build.os === "darwin" ? 30 : 10,
} as const;
