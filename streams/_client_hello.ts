/**
 * Reads a TLS ClientHello before any SSL exists, so a server can pick the context for the name a client asks
 * for and make the SSL from that context: every setting of the chosen context then holds by construction
 * (OpenSSL's `SSL_set_SSL_CTX`, called later from the servername callback, swaps only the certificate and
 * key). Only what choosing needs is parsed; anything odd is left to OpenSSL to refuse.
 *
 * @module
 */

/** What a ClientHello offers, as far as choosing a context goes. */
export interface ClientHelloInfo {
  /** The host name the client asks for (SNI), or `null`. */
  serverName: string | null;
  /** The ALPN protocols offered, in the client's order. */
  alpnProtocols: string[];
  /** The cipher suite code points offered. */
  cipherSuites: number[];
  /** The versions offered (supported_versions, else the legacy version), e.g. 0x0304 for TLS 1.3. */
  versions: number[];
}

/** Not enough bytes yet. */
export const NEED_MORE = "need-more";

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_ALPN = 16;
const EXTENSION_SUPPORTED_VERSIONS = 43;
/** The longest record payload a peer may send before encryption (TLS 1.2 allows 2 KiB of expansion). */
const MAX_RECORD = 16384 + 2048;
/** OpenSSL's own limit for a ClientHello message (CLIENT_HELLO_MAX_LENGTH). */
export const MAX_CLIENT_HELLO = 131396;

class Reader {
  #offset = 0;
  constructor(readonly bytes: Uint8Array) {}
  get left(): number {
    return this.bytes.length - this.#offset;
  }
  u8(): number {
    if (this.left < 1) throw new RangeError("short");
    return this.bytes[this.#offset++];
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  take(length: number): Uint8Array {
    if (this.left < length) throw new RangeError("short");
    const part = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return part;
  }
  vector(lengthBytes: 1 | 2): Reader {
    return new Reader(this.take(lengthBytes === 1 ? this.u8() : this.u16()));
  }
}

const ascii = new TextDecoder("latin1");

// A host name as OpenSSL would take it: 1 to 255 bytes, no NUL (OpenSSL refuses one), lower-cased.
function hostNameOf(bytes: Uint8Array): string | null {
  if (bytes.length === 0 || bytes.length > 255 || bytes.includes(0)) return null;
  return ascii.decode(bytes).toLowerCase();
}

function parseBody(body: Uint8Array): ClientHelloInfo | null {
  try {
    const hello = new Reader(body);
    const legacyVersion = hello.u16();
    hello.take(32); // random
    hello.vector(1); // legacy_session_id
    const suites = hello.vector(2);
    const cipherSuites: number[] = [];
    while (suites.left >= 2) cipherSuites.push(suites.u16());
    hello.vector(1); // compression methods
    const info: ClientHelloInfo = {
      serverName: null,
      alpnProtocols: [],
      cipherSuites,
      versions: [legacyVersion],
    };
    const extensions = hello.left > 0 ? hello.vector(2) : new Reader(new Uint8Array(0));
    const seen = new Set<number>();
    while (extensions.left > 0) {
      const type = extensions.u16();
      const data = extensions.vector(2);
      // OpenSSL refuses a ClientHello that repeats an extension: no choice is made from one.
      if (seen.has(type)) return null;
      seen.add(type);
      if (type === EXTENSION_SERVER_NAME) {
        const names = data.vector(2);
        while (names.left > 0) {
          const nameType = names.u8();
          const name = names.vector(2).bytes;
          if (nameType === 0 && info.serverName === null) {
            info.serverName = hostNameOf(name);
            if (info.serverName === null) return null;
          }
        }
      } else if (type === EXTENSION_ALPN) {
        const protocols = data.vector(2);
        while (protocols.left > 0) info.alpnProtocols.push(ascii.decode(protocols.vector(1).bytes));
      } else if (type === EXTENSION_SUPPORTED_VERSIONS) {
        const versions = data.vector(1);
        info.versions = [];
        while (versions.left >= 2) info.versions.push(versions.u16());
      }
    }
    return info;
  } catch {
    return null;
  }
}

/** A ClientHello cut into more records than this is not read here (OpenSSL still reads it). */
const MAX_RECORDS = 64;

// The first four bytes of the handshake message, across fragments.
function headerOf(fragments: Uint8Array[]): number[] {
  const header: number[] = [];
  for (const fragment of fragments) {
    for (const byte of fragment) {
      header.push(byte);
      if (header.length === 4) return header;
    }
  }
  return header;
}

/**
 * Parses the ClientHello at the start of `bytes` (what a server has received so far): its parameters,
 * `NEED_MORE` if it is not complete yet, or `null` if the bytes are not a ClientHello this reads (not TLS,
 * malformed, or cut into too many records); OpenSSL decides about those itself.
 */
export function parseClientHello(bytes: Uint8Array): ClientHelloInfo | typeof NEED_MORE | null {
  const fragments: Uint8Array[] = [];
  let handshakeBytes = 0;
  for (let offset = 0; fragments.length < MAX_RECORDS;) {
    if (bytes.length - offset < 5) return NEED_MORE;
    const type = bytes[offset];
    const major = bytes[offset + 1];
    const length = (bytes[offset + 3] << 8) | bytes[offset + 4];
    if (type !== RECORD_HANDSHAKE || major !== 3 || length > MAX_RECORD) return null;
    if (bytes.length - offset - 5 < length) return NEED_MORE;
    fragments.push(bytes.subarray(offset + 5, offset + 5 + length));
    handshakeBytes += length;
    offset += 5 + length;
    if (handshakeBytes < 4) continue;
    const [messageType, ...size] = headerOf(fragments);
    if (messageType !== HANDSHAKE_CLIENT_HELLO) return null;
    const bodyLength = (size[0] << 16) | (size[1] << 8) | size[2];
    if (bodyLength > MAX_CLIENT_HELLO) return null;
    if (handshakeBytes - 4 < bodyLength) continue;
    const message = new Uint8Array(handshakeBytes);
    let filled = 0;
    for (const fragment of fragments) {
      message.set(fragment, filled);
      filled += fragment.length;
    }
    return parseBody(message.subarray(4, 4 + bodyLength));
  }
  return null;
}

/** Where `readClientHello` finds a connection's first bytes: a buffer that only grows, and more. */
export interface HelloSource {
  /** The bytes received so far (left in place: they belong to TLS afterwards). */
  bytes(): Uint8Array;
  /** Whether the transport has ended. */
  ended(): boolean;
  /** Resolves once more bytes (or the end) arrived. */
  pull(): Promise<void>;
}

/** The most a ClientHello may take on the wire here: OpenSSL's limit and the record headers of 64 records. */
const MAX_HELLO_BYTES = MAX_CLIENT_HELLO + 4 + MAX_RECORDS * 5;

/**
 * Waits until the first bytes of a connection hold a whole ClientHello and parses it; `null` when they do not
 * (not TLS, malformed, too large, or the transport ended first). The bytes stay where they are.
 */
export async function readClientHello(source: HelloSource): Promise<ClientHelloInfo | null> {
  for (;;) {
    const bytes = source.bytes();
    const parsed = parseClientHello(bytes);
    if (parsed !== NEED_MORE) return parsed;
    if (source.ended() || bytes.length > MAX_HELLO_BYTES) return null;
    await source.pull();
  }
}
