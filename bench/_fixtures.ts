/**
 * The certificates and contexts every benchmark uses (from tests/fixtures).
 *
 * @module
 */

import { createSslClientContext, createSslServerContext, type SslAbstractContext } from "../mod.ts";

/** The path of a test fixture. */
export const fixture = (name: string): string =>
  new URL(`../tests/fixtures/${name}`, import.meta.url).pathname;

/** The server's certificate and key and the CA, as PEM text. */
export const pem = {
  cert: Deno.readTextFileSync(fixture("server.pem")),
  key: Deno.readTextFileSync(fixture("server.key")),
  ca: Deno.readTextFileSync(fixture("ca.pem")),
};

/** One server and one client context, shared by every connection of a run. */
export function benchContexts(): { server: SslAbstractContext; client: SslAbstractContext } {
  return {
    server: createSslServerContext({ cert: pem.cert, key: pem.key }),
    client: createSslClientContext({ ca: pem.ca }),
  };
}
