/**
 * Keeping the copies into and out of the memory BIOs off glibc's slow path.
 *
 * glibc's `memcpy` for 2 KiB and more (`rep movsb`) runs at about a tenth of its speed on some x86-64 CPUs
 * when the destination lies 1 to 31 bytes past the source, modulo the 4 KiB page ("4K aliasing"): here (AMD
 * EPYC, Debian 12's glibc 2.36) 1.7-2.7 GB/s against 20-45 GB/s; Debian 13's glibc 2.41 no longer takes that
 * path. Two of the module's copies are large and between addresses it can see:
 * - a sending end copies each record out of its write BIO (`BIO_read`) into the buffer of its next socket
 *   write, records back to back. A pooled buffer and a BIO at unlucky addresses paid the slow path on most
 *   records (a fifth of the sender's CPU in the bench). Starting the records where the first lies
 *   `COPY_DISTANCE` bytes past the source ({@link fastCopyStart}) keeps every record of a gathering out of
 *   that range: each record moves the distance on by its size modulo 4096 (22 bytes for a full TLS 1.3
 *   AES-GCM record, at most 85 for TLS 1.2 with CBC), and four never come round to the page's end.
 * - a receiving end copies the transport's bytes into its read BIO (`BIO_write`), where it cannot choose the
 *   addresses: a copy found slow ({@link isSlowCopy}) goes in pieces of {@link FAST_COPY_PIECE} bytes, under
 *   the size that takes `rep movsb`.
 *
 * @module
 */

const PAGE = 4096;

/** How far past the source, modulo 4096, the first record's copy lands. */
const COPY_DISTANCE = 256;

/**
 * The smallest copy that may take `rep movsb`: glibc's threshold is 2048 × the vector size / 16 (2048 with
 * SSE2, 4096 with AVX2), or 2112 where the CPU has fast short `rep movsb` (measured here: 2112 bytes copy at
 * full speed 22 bytes past the source, 2560 at a fifth of it).
 */
export const SLOW_COPY_MIN = 2048;

/** A piece small enough for glibc's vector loop whatever the addresses and the CPU. */
export const FAST_COPY_PIECE = SLOW_COPY_MIN - 64;

/** The most {@link fastCopyStart} returns: the room a gathering buffer keeps besides its records. */
export const COPY_SLACK = PAGE - 1;

/**
 * The offset in a buffer at `destination` where a copy from `source` avoids the slow distances
 * (0 to {@link COPY_SLACK}).
 *
 * @example
 * ```ts
 * fastCopyStart(0x10000, 0x20000); // 256
 * ```
 */
export function fastCopyStart(destination: number, source: number): number {
  return (((COPY_DISTANCE - (destination - source)) % PAGE) + PAGE) % PAGE;
}

/**
 * Whether a copy of {@link SLOW_COPY_MIN} bytes or more from `source` to `destination` would take the slow path.
 *
 * @example
 * ```ts
 * isSlowCopy(0x10016, 0x20000); // true: 22 bytes past, modulo 4096
 * ```
 */
export function isSlowCopy(destination: number, source: number): boolean {
  const distance = (((destination - source) % PAGE) + PAGE) % PAGE;
  return distance >= 1 && distance <= 31;
}

/** The address of a buffer's first byte, as a number. */
export function addressOf(buffer: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}
