/**
 * What a server entry point promises the connections it accepts: a default handshake timeout, so a client
 * that connects and says nothing cannot hold a handler forever. `attachSsl` (and so `makeInstance` and
 * `createSslSocketStream`) uses it when it is given none.
 *
 * @module
 */

/** The handshake timeout of the server entry points when none is given: 10 s. */
export const SERVER_HANDSHAKE_TIMEOUT_MS = 10_000;

const accepted = new WeakMap<object, { handshakeTimeout: number | undefined }>();

/** Records the defaults of the server that accepted `conn`. */
export function acceptedWith(conn: object, defaults: { handshakeTimeout: number | undefined }): void {
  accepted.set(conn, defaults);
}

/** The handshake timeout for a stream over `conn` that was given none: its server's, else none. */
export function defaultHandshakeTimeout(conn: object): number | undefined {
  return accepted.get(conn)?.handshakeTimeout;
}
