import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where deliveries may go. Without WEBHOOK_ALLOW_PRIVATE a target must be https and every address
 * its host resolves to must be public unicast: private, loopback, link-local (cloud metadata at
 * 169.254.169.254), unique-local, carrier-grade NAT, multicast and reserved ranges are refused, so
 * a subscription cannot make the service call into its own network. The host is resolved when the
 * subscription is created (a clear 400) and again at each delivery, at connection time, by the
 * lookup the HTTP client connects with: a name that later resolves elsewhere (DNS rebinding) is
 * refused then, and the address checked is the address connected to.
 */

export class TargetRefused extends Error {}

/** IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === 'unicast';
}

/** The URL's problems as a sentence, or null when it may be subscribed (before resolving its host). */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    return allowPrivate ? 'must be an https:// or http:// URL' : 'must be an https:// URL';
  }
  if (url.username || url.password) return 'must not carry credentials: sign-in is the signature';
  if (url.hash) return 'must not have a fragment';
  return null;
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Resolves the URL's host and refuses it unless every address is public (or private ones are allowed). */
export async function checkTarget(raw: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(new URL(raw));
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new TargetRefused(`the host ${host} does not resolve`);
    }
  }
  const refused = addresses.find((a) => !isPublicAddress(a));
  if (refused !== undefined) throw new TargetRefused(`the host ${host} resolves to ${refused}, a private, loopback, link-local or reserved address`);
}

/**
 * The lookup the sender connects with: dns.lookup, refusing the connection when any address is
 * not public (unless private ones are allowed).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true, verbatim: true }).then(
      (all) => {
        const refused = allowPrivate ? undefined : all.find((a) => !isPublicAddress(a.address));
        if (refused) return callback(new TargetRefused(`${hostname} resolves to ${refused.address}, which is not a public address`), '', 4);
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof all) => void)(null, all);
        callback(null, all[0]!.address, all[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };
}

/** A host given as an IP literal is connected to without any lookup, so it is checked here. */
export function literalRefused(raw: string, allowPrivate: boolean): string | null {
  const host = hostOf(new URL(raw));
  return !allowPrivate && isIP(host) && !isPublicAddress(host) ? `${host} is not a public address` : null;
}
