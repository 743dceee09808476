// The TLS engine against itself, in memory, with no sockets: the handshake,
// data both ways, one-byte fragments, close_notify, garbage and truncation.
import assert from "node:assert/strict";
import { makeSslCtx, SslFailure, sslNew, SslUnexpectedEof, SslVerificationFailure } from "../mod.ts";
import { loadOpenssl } from "../ffi/mod.ts";
import { CLOSED, TlsEngine, WANT_READ } from "../streams/_tls_engine.ts";
import { addressOf, FAST_COPY_PIECE, isSlowCopy } from "../streams/_copy_alignment.ts";
import type { SslPointer } from "../ffi/pointers.ts";
import {
  assertNoLiveObjects,
  assertSameBytes,
  decoder,
  encoder,
  patternBytes,
  trustTestCa,
  useCertificate,
} from "./_helpers.ts";

interface Pair extends Disposable {
  client: TlsEngine;
  server: TlsEngine;
  serverSsl: SslPointer;
}

function enginePair(options: { trust?: boolean; host?: string } = {}): Pair {
  const { libssl } = loadOpenssl();
  const clientCtx = makeSslCtx({ sslSide: "client" });
  const serverCtx = makeSslCtx({ sslSide: "server" });
  useCertificate(serverCtx);
  if (options.trust !== false) trustTestCa(clientCtx);
  const clientSsl = sslNew(clientCtx);
  const serverSsl = sslNew(serverCtx);
  libssl.SSL_set_connect_state(clientSsl.pointer);
  libssl.SSL_set_accept_state(serverSsl.pointer);
  if (options.host) libssl.SSL_set1_host(clientSsl.pointer, encoder.encode(`${options.host}\0`));
  const client = new TlsEngine(clientSsl);
  const server = new TlsEngine(serverSsl);
  return {
    client,
    server,
    serverSsl,
    [Symbol.dispose]() {
      client.dispose();
      server.dispose();
      clientSsl.destroy();
      serverSsl.destroy();
      clientCtx.destroy();
      serverCtx.destroy();
    },
  };
}

// Moves ciphertext from one engine to the other, `fragment` bytes at a time.
function transfer(from: TlsEngine, to: TlsEngine, fragment = Infinity): number {
  const output = from.takeOutput();
  if (!output) return 0;
  for (let offset = 0; offset < output.length; offset += fragment) {
    to.feed(output.subarray(offset, Math.min(output.length, offset + fragment)));
  }
  return output.length;
}

function handshake(pair: Pair, fragment = Infinity): number {
  let rounds = 0;
  for (; rounds < 20; rounds++) {
    const clientState = pair.client.handshake();
    transfer(pair.client, pair.server, fragment);
    const serverState = pair.server.handshake();
    transfer(pair.server, pair.client, fragment);
    if (clientState === "done" && serverState === "done") return rounds;
  }
  throw new Error("handshake did not finish");
}

function readAllFrom(engine: TlsEngine): Uint8Array {
  const parts: number[] = [];
  const buffer = new Uint8Array(1000);
  for (;;) {
    const result = engine.read(buffer);
    if (typeof result !== "number") break;
    parts.push(...buffer.subarray(0, result));
  }
  return new Uint8Array(parts);
}

Deno.test("engine: a client and a server handshake in memory and agree on TLS 1.3", () => {
  {
    using pair = enginePair({ host: "localhost" });
    handshake(pair);
    assert.equal(pair.client.handshakeDone, true);
    assert.equal(pair.server.handshakeDone, true);
    const negotiated = pair.client.negotiated();
    assert.equal(negotiated.protocol, "TLSv1.3");
    assert.equal(negotiated.cipher, pair.server.negotiated().cipher);
    assert.equal(negotiated.alpnProtocol, null);
  }
  assertNoLiveObjects();
});

Deno.test("engine: data goes both ways and arrives intact", () => {
  {
    using pair = enginePair();
    handshake(pair);
    const upstream = patternBytes(100_000, 1);
    let offset = 0;
    while (offset < upstream.length) {
      const taken = pair.client.write(upstream.subarray(offset));
      assert.equal(typeof taken, "number");
      offset += taken as number;
    }
    transfer(pair.client, pair.server);
    assertSameBytes(readAllFrom(pair.server), upstream);
    assert.equal(pair.server.write(encoder.encode("pong")), 4);
    transfer(pair.server, pair.client);
    assert.equal(decoder.decode(readAllFrom(pair.client)), "pong");
  }
  assertNoLiveObjects();
});

Deno.test("engine: one-byte fragments handshake and carry data", () => {
  using pair = enginePair();
  handshake(pair, 1);
  assert.equal(pair.client.write(encoder.encode("fragmented")), 10);
  transfer(pair.client, pair.server, 1);
  assert.equal(decoder.decode(readAllFrom(pair.server)), "fragmented");
});

Deno.test("engine: an empty read BIO means want-read, not end of stream", () => {
  using pair = enginePair();
  handshake(pair);
  assert.equal(pair.server.read(new Uint8Array(10)), WANT_READ);
});

Deno.test("engine: close_notify is a clean end, and the unconsumed bytes after it are kept", () => {
  using pair = enginePair();
  handshake(pair);
  pair.client.write(encoder.encode("last words"));
  pair.client.shutdown();
  transfer(pair.client, pair.server);
  pair.server.feed(encoder.encode("PLAIN AFTER"));
  const buffer = new Uint8Array(100);
  const count = pair.server.read(buffer);
  assert.equal(decoder.decode(buffer.subarray(0, count as number)), "last words");
  assert.equal(pair.server.read(buffer), CLOSED);
  assert.equal(pair.server.receivedCloseNotify, true);
  assert.equal(decoder.decode(pair.server.takeUnconsumedInput()), "PLAIN AFTER");
});

Deno.test("engine: the transport ending without close_notify is SslUnexpectedEof", () => {
  using pair = enginePair();
  handshake(pair);
  pair.client.write(encoder.encode("partial"));
  transfer(pair.client, pair.server);
  pair.server.endTransport();
  const buffer = new Uint8Array(100);
  assert.equal(pair.server.read(buffer), 7);
  assert.throws(() => pair.server.read(buffer), SslUnexpectedEof);
});

Deno.test("engine: EOF in the middle of the handshake is SslUnexpectedEof", () => {
  using pair = enginePair();
  pair.client.handshake();
  pair.client.endTransport();
  assert.throws(() => pair.client.handshake(), SslUnexpectedEof);
});

Deno.test("engine: garbage instead of a ClientHello fails with SslFailure carrying the error queue", () => {
  using pair = enginePair();
  pair.server.feed(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  assert.throws(() => pair.server.handshake(), (error: unknown) => {
    assert.ok(error instanceof SslFailure);
    assert.ok(error.queue.length > 0, "the OpenSSL error queue is drained into the error");
    return true;
  });
  // The failure is sticky: the engine never calls OpenSSL on the dead session again.
  assert.throws(() => pair.server.read(new Uint8Array(1)), SslFailure);
});

Deno.test("engine: an untrusted server fails the client's handshake with SslVerificationFailure", () => {
  using pair = enginePair({ trust: false });
  assert.throws(() => handshake(pair), (error: unknown) => {
    assert.ok(error instanceof SslVerificationFailure);
    assert.equal(error.verifyCode, 20); // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert.match(error.verifyMessage, /local issuer/);
    return true;
  });
});

Deno.test("engine: a disposed engine refuses every call", () => {
  using pair = enginePair();
  pair.client.dispose();
  assert.throws(() => pair.client.handshake(), Deno.errors.BadResource);
  assert.equal(pair.client.takeOutput(), null);
});

// Counts BIO_write calls on `bio` while `run` runs (a BIO callback; OpenSSL calls it before and after each
// operation: BIO_CB_WRITE is 3, BIO_CB_RETURN 0x80).
function countBioWrites(bio: Deno.PointerValue, run: () => void): number {
  const libcrypto = Deno.dlopen("libcrypto.so.3", {
    BIO_set_callback_ex: { parameters: ["pointer", "function"], result: "void" },
  });
  let writes = 0;
  const callback = new Deno.UnsafeCallback(
    {
      parameters: ["pointer", "i32", "pointer", "usize", "i32", "i64", "i32", "pointer"],
      result: "i64",
    } as const,
    (_bio, operation, _argp, _length, _argi, _argl, ret) => {
      if (operation === 3) writes++;
      return BigInt((operation & 0x80) !== 0 ? ret : 1);
    },
  );
  try {
    libcrypto.symbols.BIO_set_callback_ex(bio, callback.pointer);
    try {
      run();
    } finally {
      libcrypto.symbols.BIO_set_callback_ex(bio, null);
    }
  } finally {
    callback.close();
    libcrypto.close();
  }
  return writes;
}

Deno.test("engine: ciphertext whose copy into the read BIO would be slow goes in small pieces, intact", () => {
  {
    using pair = enginePair();
    handshake(pair);
    const upstream = patternBytes(64 * 1024, 3);
    assert.equal(pair.client.write(upstream.subarray(0, 16384)), 16384);
    assert.equal(pair.client.write(upstream.subarray(16384, 32768)), 16384);
    assert.equal(pair.client.write(upstream.subarray(32768, 49152)), 16384);
    assert.equal(pair.client.write(upstream.subarray(49152)), 16384);
    const ciphertext = pair.client.takeOutput()!;
    // The server's read BIO, empty now: the next write lands at the start of its buffer.
    const rbio = loadOpenssl().libssl.SSL_get_rbio(pair.serverSsl.pointer);
    const cell = new BigUint64Array(1);
    loadOpenssl().libcrypto.BIO_ctrl(rbio, 115, /* BIO_C_GET_BUF_MEM_PTR */ 0n, Deno.UnsafePointer.of(cell));
    const bufMem = Deno.UnsafePointer.create(cell[0])!;
    const bioData = Number(new Deno.UnsafePointerView(bufMem).getBigUint64(8));
    // The first 8 KiB of ciphertext placed 22 bytes before the BIO's buffer, modulo 4096.
    const room = new Uint8Array(ciphertext.length + 8192);
    const at = (((addressOf(room) - bioData + 22) % 4096) + 4096) % 4096;
    const slowPiece = room.subarray(4096 - at, 4096 - at + 8192);
    slowPiece.set(ciphertext.subarray(0, 8192));
    assert.ok(isSlowCopy(bioData, addressOf(slowPiece)));
    const received: number[] = [];
    const buffer = new Uint8Array(100_000);
    const writes = countBioWrites(rbio, () => {
      pair.server.feed(slowPiece);
      assert.equal(pair.server.read(buffer), WANT_READ); // 8 KiB: not a whole record yet
    });
    assert.equal(writes, Math.ceil(8192 / FAST_COPY_PIECE));
    pair.server.feed(ciphertext.subarray(8192));
    for (
      let result = pair.server.read(buffer);
      typeof result === "number";
      result = pair.server.read(buffer)
    ) {
      received.push(...buffer.subarray(0, result));
    }
    assertSameBytes(new Uint8Array(received), upstream);
  }
  assertNoLiveObjects();
});
