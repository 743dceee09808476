/**
 * What the C heap holds, read from glibc: the bytes in use (`mallinfo2`) and
 * the resident memory left once glibc has handed its free pages back
 * (`malloc_trim`). A round of load leaves glibc holding the round's peak as
 * free chunks, so plain RSS measures the allocator; these two measure what
 * the module keeps.
 *
 * @module
 */

const SIZE_T_FIELDS = 10;

const glibcSymbols = {
  // struct mallinfo2 mallinfo2(void);  -- ten size_t fields
  mallinfo2: { parameters: [], result: { struct: Array(SIZE_T_FIELDS).fill("usize") } },
  // int malloc_trim(size_t pad);
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let glibc: Deno.DynamicLibrary<typeof glibcSymbols>["symbols"] | null | undefined;

function load(): typeof glibc {
  if (glibc !== undefined) return glibc;
  try {
    glibc = Deno.build.os === "linux" ? Deno.dlopen("libc.so.6", glibcSymbols).symbols : null;
  } catch {
    glibc = null; // musl and others: no mallinfo2
  }
  return glibc;
}

/** Whether these readings are available (Linux with glibc 2.33 or later). */
export function nativeHeapReadable(): boolean {
  return load() !== null;
}

/** Bytes glibc has handed out and not had back: small chunks plus mmapped ones. */
export function nativeBytesInUse(): number {
  const symbols = load();
  if (!symbols) throw new Error("mallinfo2 is not available here");
  const fields = new BigUint64Array((symbols.mallinfo2() as Uint8Array<ArrayBuffer>).buffer);
  const mmapped = fields[4]; // hblkhd
  const allocated = fields[7]; // uordblks
  return Number(mmapped + allocated);
}

/** Resident bytes after glibc returns every free page it can to the kernel. */
export function residentAfterTrim(): number {
  const symbols = load();
  if (!symbols) throw new Error("malloc_trim is not available here");
  symbols.malloc_trim(0n);
  return Deno.memoryUsage().rss;
}
