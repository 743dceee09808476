/**
 * Where in a buffer to start gathering a memory BIO's records so that OpenSSL's copy into it stays fast.
 *
 * glibc's `memcpy` for 4 KiB and more (`rep movsb`) runs at about a tenth of its speed on some x86-64 CPUs
 * when the destination lies 1 to 31 bytes past the source, modulo the 4 KiB page ("4K aliasing"): here
 * (AMD EPYC, Debian 12's glibc 2.36) 1.7-2.7 GB/s against 20-45 GB/s, while Debian 13's glibc 2.41 no longer
 * takes that path. A sending end copies every record out of its write BIO (`BIO_read`) into the buffer of its
 * next socket write, records back to back, so a buffer and a BIO at unlucky addresses paid that on three
 * records of four (a fifth of the sender's CPU in the bench). Starting the records where the first lies
 * {@link COPY_DISTANCE} bytes past the source keeps every record of a gathering out of that range: each
 * record moves the distance on by its size modulo 4096 (22 bytes for a full TLS 1.3 AES-GCM record, at most
 * 85 for TLS 1.2 with CBC), and four records never come round to the page's end.
 *
 * @module
 */

const PAGE = 4096;

/** How far past the source, modulo 4096, the first record's copy lands. */
const COPY_DISTANCE = 256;

/** The smallest copy that can take the slow path (glibc's `rep movsb` threshold with AVX2). */
export const SLOW_COPY_MIN = 4096;

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

/** The address of a buffer's first byte, as a number. */
export function addressOf(buffer: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}
