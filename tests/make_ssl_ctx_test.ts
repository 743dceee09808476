// makeSslCtx for every symbol and side, the errors for "v2" / "v3" and wrong
// arguments, and the freed-pointer guard.
import assert from "node:assert/strict";
import {
  destroySsl,
  destroySslCtx,
  makeSslCtx,
  opensslVersion,
  SslCondition,
  SslCtxPointer,
  sslNew,
  SslPointer,
} from "../mod.ts";
import {
  loadOpenssl,
  SSL_CTX_get_max_proto_version,
  SSL_CTX_get_min_proto_version,
  SSL_VERIFY_NONE,
  SSL_VERIFY_PEER,
  TLS1_1_VERSION,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
  TLS1_VERSION,
} from "../ffi/mod.ts";
import { assertNoLiveObjects } from "./_helpers.ts";

const { libssl } = loadOpenssl();
const METHODS = {
  client: libssl.TLS_client_method(),
  server: libssl.TLS_server_method(),
  both: libssl.TLS_method(),
};
const PINS: Record<string, number> = {
  "tls-v1": TLS1_VERSION,
  "tls-v1-1": TLS1_1_VERSION,
  "tls-v1-2": TLS1_2_VERSION,
  "tls-v1-3": TLS1_3_VERSION,
};
const defaultLevel = (() => {
  const ctx = libssl.SSL_CTX_new(libssl.TLS_method());
  const level = libssl.SSL_CTX_get_security_level(ctx);
  libssl.SSL_CTX_free(ctx);
  return level;
})();

for (const sslCtx of [true, "default", "v23", "tls-v1", "tls-v1-1", "tls-v1-2", "tls-v1-3"] as const) {
  for (const sslSide of ["client", "server", "both"] as const) {
    Deno.test(`makeSslCtx ${JSON.stringify(sslCtx)} / ${sslSide}: method, versions, security level, verification`, () => {
      {
        using ctx = makeSslCtx({ sslCtx, sslSide });
        const raw = ctx.pointer;
        assert.equal(
          Deno.UnsafePointer.value(libssl.SSL_CTX_get_ssl_method(raw)),
          Deno.UnsafePointer.value(METHODS[sslSide]),
        );
        const pin = typeof sslCtx === "string" ? PINS[sslCtx] : undefined;
        // The flexible symbols mean TLS 1.2 or later on purpose, not by the security level's accident.
        assert.equal(SSL_CTX_get_min_proto_version(raw), pin ?? TLS1_2_VERSION);
        assert.equal(SSL_CTX_get_max_proto_version(raw), pin ?? 0);
        const legacy = sslCtx === "tls-v1" || sslCtx === "tls-v1-1";
        assert.equal(libssl.SSL_CTX_get_security_level(raw), legacy ? 0 : defaultLevel);
        assert.equal(
          libssl.SSL_CTX_get_verify_mode(raw),
          sslSide === "client" ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
          "secure by default for clients only",
        );
      }
      assertNoLiveObjects();
    });
  }
}

Deno.test('makeSslCtx defaults to sslCtx true and sslSide "server"', () => {
  using ctx = makeSslCtx();
  assert.equal(
    Deno.UnsafePointer.value(libssl.SSL_CTX_get_ssl_method(ctx.pointer)),
    Deno.UnsafePointer.value(METHODS.server),
  );
  assert.equal(SSL_CTX_get_min_proto_version(ctx.pointer), TLS1_2_VERSION);
});

for (const protocol of ["v2", "v3"] as const) {
  Deno.test(`makeSslCtx "${protocol}" throws an SslCondition naming the protocol and the OpenSSL, allocating nothing`, () => {
    assert.throws(() => makeSslCtx({ sslCtx: protocol }), (error: unknown) => {
      assert.ok(error instanceof SslCondition);
      assert.ok(error.message.includes(protocol === "v2" ? "SSLv2" : "SSLv3"));
      assert.ok(error.message.includes(opensslVersion()));
      return true;
    });
    assertNoLiveObjects();
  });
}

Deno.test("makeSslCtx rejects pointers and unknown values with a TypeError", () => {
  using ctx = makeSslCtx();
  using ssl = sslNew(ctx);
  assert.throws(() => makeSslCtx({ sslCtx: ssl as never }), /not an SslPointer/);
  assert.throws(() => makeSslCtx({ sslCtx: ctx as never }), TypeError);
  assert.throws(() => makeSslCtx({ sslCtx: "tls-v9" as never }), TypeError);
  assert.throws(() => makeSslCtx({ sslSide: "middle" as never }), /sslSide must be/);
});

Deno.test("the caller owns makeSslCtx's and sslNew's results; a freed pointer never reaches OpenSSL", () => {
  const ctx = makeSslCtx({ sslSide: "client" });
  const ssl = sslNew(ctx);
  assert.ok(ssl instanceof SslPointer);
  destroySsl(ssl);
  assert.equal(ssl.freed, true);
  assert.throws(() => ssl.pointer, TypeError);
  assert.throws(() => destroySsl(ssl), TypeError, "a double free is refused");
  destroySslCtx(ctx);
  assert.throws(() => sslNew(ctx), TypeError);
  assert.throws(() => destroySslCtx(ctx), TypeError);
  // Disposing an already destroyed pointer is a no-op, so `using` stays safe.
  ctx[Symbol.dispose]();
  assertNoLiveObjects();
});

Deno.test("SslCtxPointer.from wraps a caller's pointer, returns the module's own wrapper for its objects, and rejects null", () => {
  using ctx = makeSslCtx();
  assert.equal(SslCtxPointer.from(ctx.pointer), ctx);
  assert.throws(() => SslCtxPointer.from(null), TypeError);
  assert.throws(() => SslPointer.from(null), TypeError);
  const raw = libssl.SSL_CTX_new(libssl.TLS_method());
  const wrapped = SslCtxPointer.from(raw);
  assert.notEqual(wrapped, ctx);
  destroySslCtx(wrapped); // the caller asked: it is freed
  assert.equal(wrapped.freed, true);
});

Deno.test("opensslVersion reports the linked OpenSSL 3 and rejects unknown keys", () => {
  assert.match(opensslVersion(), /^OpenSSL 3\./);
  assert.match(opensslVersion("platform"), /\S/);
  assert.throws(() => opensslVersion("colour" as never), RangeError);
});
