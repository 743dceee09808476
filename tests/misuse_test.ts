// Misuse: every public call on a closed stream, a freed pointer or a wrong
// type gives a TypeError or a typed error, never a crash, and reaches no
// freed OpenSSL object.
import assert from "node:assert/strict";
import {
  attachSsl,
  createSslClientContext,
  destroySsl,
  destroySslCtx,
  detachSsl,
  getVerificationMode,
  makeInstance,
  makeSslCtx,
  openTcpStream,
  setCipherList,
  setCiphersuites,
  setGroups,
  setSslCtxDh,
  setSslCtxOptions,
  setSslCtxPasswordCallback,
  setVerificationMode,
  SocketStream,
  sslConnectionCipher,
  sslConnectionGetPeerCertificatesData,
  sslConnectionProtocolVersion,
  sslConnectionVerify,
  sslNew,
} from "../mod.ts";
import { FreeWatcher, loopbackPair, tlsPair } from "./_helpers.ts";

Deno.test("every helper refuses a freed SslCtxPointer or SslPointer with a TypeError", () => {
  using objects = new FreeWatcher();
  const ctx = makeSslCtx();
  const ssl = sslNew(ctx);
  destroySsl(ssl);
  destroySslCtx(ctx);
  const calls: [string, () => unknown][] = [
    ["sslNew", () => sslNew(ctx)],
    ["setVerificationMode", () => setVerificationMode(ctx, "server", "never")],
    ["getVerificationMode", () => getVerificationMode(ssl)],
    ["setSslCtxOptions", () => setSslCtxOptions(ctx, { noTicket: true })],
    ["setCipherList", () => setCipherList(ssl, "DEFAULT")],
    ["setCiphersuites", () => setCiphersuites(ctx, "TLS_AES_128_GCM_SHA256")],
    ["setGroups", () => setGroups(ctx, "P-256")],
    ["setSslCtxPasswordCallback", () => setSslCtxPasswordCallback(ctx, { password: "x" })],
    ["setSslCtxDh", () => setSslCtxDh(ctx)],
    ["destroySsl", () => destroySsl(ssl)],
    ["destroySslCtx", () => destroySslCtx(ctx)],
  ];
  for (const [name, call] of calls) assert.throws(call, TypeError, name);
  objects.assertAllFreed();
});

Deno.test("every helper refuses a wrong type with a TypeError naming what it needs", () => {
  for (const wrong of [null, undefined, 42, "ctx", {}, new Uint8Array(8)]) {
    assert.throws(() => setVerificationMode(wrong as never, "client", "always"), TypeError);
    assert.throws(() => setSslCtxOptions(wrong as never, {}), TypeError);
    assert.throws(() => setCipherList(wrong as never, "DEFAULT"), TypeError);
    assert.throws(() => sslNew(wrong as never), TypeError);
    assert.throws(() => destroySslCtx(wrong as never), TypeError);
    assert.throws(() => sslConnectionVerify(wrong as never), TypeError);
  }
});

Deno.test("a closed stream refuses reads, writes, handshakes, attach, detach and inspection", async () => {
  using objects = new FreeWatcher();
  const [client, server] = await tlsPair();
  await client[Symbol.asyncDispose]();
  await server[Symbol.asyncDispose]();
  for (const stream of [client, server]) {
    await assert.rejects(stream.read(new Uint8Array(1)), Deno.errors.BadResource);
    await assert.rejects(stream.write(new Uint8Array(1)), Deno.errors.BadResource);
    await assert.rejects(stream.readLine(), Deno.errors.BadResource);
    await assert.rejects(stream.handshake(), Deno.errors.BadResource);
    await assert.rejects(stream.closeWrite(), Deno.errors.BadResource);
    await assert.rejects(attachSsl(stream, { sslSide: "client" }), Deno.errors.BadResource);
    await detachSsl(stream); // plain (its SSL is gone): returns at once
    assert.throws(() => stream.peerCertificate(), Deno.errors.BadResource);
    assert.throws(() => stream.session(), Deno.errors.BadResource);
    assert.throws(() => stream.exportKeyingMaterial(16, "x"), Deno.errors.BadResource);
    assert.throws(() => sslConnectionProtocolVersion(stream), Error);
    assert.throws(() => sslConnectionCipher(stream), Error);
    assert.throws(() => sslConnectionGetPeerCertificatesData(stream), Error);
    assert.equal(stream.ssl, null);
    stream.close(); // still idempotent
  }
  objects.assertAllFreed();
});

for (const side of ["client", "server"] as const) {
  /** The stream under test on `side`, and its peer. */
  const pick = <T>(pair: [T, T]): [T, T] => side === "client" ? pair : [pair[1], pair[0]];

  Deno.test(`close() on a ${side} while a read and a write are pending settles both and leaks nothing`, async () => {
    using objects = new FreeWatcher();
    const [victim, peer] = pick(await tlsPair());
    const reading = victim.read(new Uint8Array(10));
    // The peer does not read: this write fills the socket buffers and waits.
    const writing = victim.write(new Uint8Array(32 * 1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 50));
    victim.close();
    const [read, write] = await Promise.allSettled([reading, writing]);
    assert.equal(read.status, "rejected");
    assert.equal(write.status, "rejected");
    await victim.closed;
    await peer[Symbol.asyncDispose]();
    objects.assertAllFreed();
  });

  Deno.test(`cancelling a ${side}'s readable closes the stream with close_notify`, async () => {
    using objects = new FreeWatcher();
    const [victim, peer] = pick(await tlsPair());
    const reader = victim.readable.getReader();
    const pending = reader.read();
    await reader.cancel();
    assert.equal((await pending).done, true);
    await victim.closed;
    assert.equal(await peer.read(new Uint8Array(1)), null, "the peer got close_notify");
    await peer[Symbol.asyncDispose]();
    objects.assertAllFreed();
  });

  Deno.test(`bytes after the peer's close_notify do not reach a ${side}'s reader`, async () => {
    using objects = new FreeWatcher();
    const [victim, peer] = pick(await tlsPair());
    await peer.write(new TextEncoder().encode("data"));
    // close_notify without waiting, then the peer goes on in plaintext: junk after the end.
    await detachSsl(peer, { retryCount: null });
    await peer.write(new TextEncoder().encode("junk after the end"));
    const buffer = new Uint8Array(64);
    assert.equal(await victim.read(buffer), 4);
    assert.equal(await victim.read(buffer), null);
    assert.equal(await victim.read(buffer), null, "the end stays the end");
    await victim[Symbol.asyncDispose]();
    await peer[Symbol.asyncDispose]();
    objects.assertAllFreed();
  });
}

Deno.test("wrong options of the entry points are TypeError or RangeError naming them", async () => {
  using objects = new FreeWatcher();
  await assert.rejects(openTcpStream("", 443), /hostname/);
  await assert.rejects(openTcpStream("localhost", 70000), RangeError);
  await assert.rejects(openTcpStream("localhost", 1, { timeout: -1 }), /timeout/);
  const [a, b] = await loopbackPair();
  const stream = new SocketStream({ socket: a });
  await assert.rejects(attachSsl(stream, { sslSide: "middle" as never }), /sslSide/);
  await assert.rejects(attachSsl(stream, { handshakeTimeout: -5 }), /handshakeTimeout/);
  await assert.rejects(attachSsl(stream, { ctxConfigureCallback: "f" as never }), /ctxConfigureCallback/);
  await assert.rejects(attachSsl(stream, { tlsextHostName: "" }), /tlsextHostName/);
  await assert.rejects(attachSsl(stream, { sslCtx: "tls-v9" as never }), /sslCtx must be/);
  await assert.rejects(detachSsl(stream, { retryCount: -1 }), RangeError);
  await assert.rejects(stream.readLine({ maxLength: 0 }), RangeError);
  assert.equal(stream.ssl, null, "nothing changed");
  const context = createSslClientContext();
  context.close();
  await assert.rejects(attachSsl(stream, { sslCtx: context }), /closed/);
  await assert.rejects(makeInstance("socket-stream", null as never), TypeError);
  b.close();
  await stream[Symbol.asyncDispose]();
  objects.assertAllFreed();
});
