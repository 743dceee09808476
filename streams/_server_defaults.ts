/**
 * What the server entry points promise the connections they accept: a default handshake timeout, so a
 * client that connects and says nothing cannot hold a handler forever, and a calm retry when accepting
 * fails (descriptors run out, a connection resets in the backlog).
 *
 * @module
 */

/** The handshake timeout of the server entry points when none is given: 10 s. */
export const SERVER_HANDSHAKE_TIMEOUT_MS = 10_000;

const accepted = new WeakMap<object, number | null>();

/** Records the handshake timeout of the server that accepted `conn` (`null`: none). */
export function acceptedWith(conn: object, handshakeTimeout: number | null): void {
  accepted.set(conn, handshakeTimeout);
}

/**
 * The handshake timeout of the server that accepted `conn`: its milliseconds, `null` for none, or
 * `undefined` when no server entry point accepted it.
 */
export function serverHandshakeTimeout(conn: object): number | null | undefined {
  return accepted.get(conn);
}

/** The first pause after a failed accept, and the longest. */
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 1000;

/**
 * Pauses between failed accepts, doubling up to a second, so a listener out of descriptors does not spin a
 * core; the first accept that works resets it.
 */
export class AcceptBackoff {
  #pause = 0;

  /** An accept worked. */
  succeeded(): void {
    this.#pause = 0;
  }

  /** An accept failed: waits the next pause, or less if `stopped` settles first. */
  async failed(stopped: Promise<unknown>): Promise<void> {
    this.#pause = Math.min(Math.max(FIRST_PAUSE_MS, this.#pause * 2), LONGEST_PAUSE_MS);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([stopped, new Promise((resolve) => timer = setTimeout(resolve, this.#pause))]);
    } finally {
      clearTimeout(timer);
    }
  }
}
