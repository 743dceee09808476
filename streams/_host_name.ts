/**
 * The names a client connects to, sends as SNI and verifies must mean one thing to the resolver and to
 * OpenSSL.
 *
 * @module
 */

import { checkNoNul } from "../ffi/_cstring.ts";

/** The longest DNS name (RFC 1035), without a trailing dot. */
const MAX_NAME = 253;

/** Whether `host` is an IP address literal (dotted IPv4, or IPv6 with or without brackets). */
export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

/**
 * Checks a host name or IP literal.
 *
 * An all-numeric name that is not plain dotted decimal ("127.0.0.010", "127.1", "2130706433") is refused: the
 * system resolver reads "010" as octal 8 and fills in missing parts, while OpenSSL would verify the
 * certificate against another address, so the connection would go to one address and be verified for
 * another.
 *
 * @throws {TypeError} naming `what` for a NUL, an empty name, or an ambiguous numeric address.
 * @throws {RangeError} for a name longer than DNS allows.
 */
export function checkHostName(host: string, what: string): void {
  checkNoNul(host, what);
  const name = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (name === "") throw new TypeError(`${what} is empty`);
  if (name.replace(/\.$/, "").length > MAX_NAME) {
    throw new RangeError(`${what} is ${name.length} characters long; a DNS name has at most ${MAX_NAME}`);
  }
  if (/^[\d.]+$/.test(name)) {
    const parts = name.split(".");
    const canonical = parts.length === 4 &&
      parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255);
    if (!canonical) {
      throw new TypeError(
        `${what} ${JSON.stringify(host)} is an ambiguous IPv4 address (the resolver reads leading zeros as ` +
          "octal and fills in missing parts, OpenSSL does not); write it as four decimal numbers, a.b.c.d",
      );
    }
  }
}
