import ipaddr from 'ipaddr.js';

/** Who is asking, as far as the session list and device binding care (from the HTTP request). */
export interface ClientContext {
  userAgent?: string | undefined;
  ip?: string | undefined;
  /** X-JTS-Device-ID of native apps; bound to the session at login (see device-binding.ts). */
  deviceId?: string | undefined;
  /**
   * Where the StateProof came from: the browser's cookie, or the `X-JTS-StateProof` header of a
   * native client, which must come with the device id bound at login. Default: the cookie.
   */
  stateProofVia?: 'cookie' | 'header' | undefined;
  /**
   * The known-device value (its nonce) the request proved for the account it signs in to
   * (http/middleware/known-device.ts); undefined when it showed none or one of another account.
   * The new sign-in notice and the risk step-up read it.
   */
  knownDevice?: string | undefined;
  /**
   * The known-device value this sign-in's answer gives a browser that showed none (set with the
   * cookie if the sign-in succeeds): the notice records the device under it from its first sign-in.
   */
  issuedDevice?: string | undefined;
}

const BROWSERS: [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Version\/[\d.]+ .*?Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^node|undici|axios|node-fetch/i, 'Node.js client'],
  [/^python-requests|aiohttp|httpx/i, 'Python client'],
];

const SYSTEMS: [RegExp, string][] = [
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** "Chrome on macOS", "curl", "Unknown client": enough for a person to recognise a session. */
export function describeDevice(header: string | undefined): string {
  if (!header) return 'Unknown client';
  // Real User-Agents are far shorter; the cap keeps the patterns' work bounded for hostile ones.
  const userAgent = header.slice(0, 512);
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? 'Unknown client';
}

/**
 * One spelling per client address, wherever it is stored, keyed or logged: IPv6 compressed as RFC
 * 5952 writes it (lower case, the longest zero run as `::`), and an IPv4 address that reached a
 * dual-stack socket as `::ffff:a.b.c.d` written as the IPv4 address it is. Parsed by ipaddr.js,
 * not by hand. Undefined for anything that is not an IP address.
 */
export function canonicalIp(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  // Dotted decimal only: ipaddr.js also reads "1.2.3" or octal parts, which no socket reports.
  const valid = address.includes(':') ? ipaddr.IPv6.isValid(address) : ipaddr.IPv4.isValidFourPartDecimal(address);
  if (!valid) return undefined;
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return (ip as ipaddr.IPv6).toIPv4Address().toString();
  // A zone (`%eth0`) names a local interface, not the client; it is dropped.
  return ip.kind() === 'ipv6' ? ipaddr.IPv6.parse(address.split('%')[0] ?? address).toString() : ip.toString();
}

/**
 * Keeps only a prefix of the address: IPv4 /24 (`203.0.113.x`), IPv6 /48 (`2001:db8:a::/48`,
 * host bits zeroed): enough to tell "home" from "elsewhere" in the session list without storing
 * where exactly a person is.
 */
export function maskIp(address: string | undefined): string {
  const canonical = canonicalIp(address);
  if (canonical === undefined) return 'unknown';
  if (ipaddr.IPv4.isValidFourPartDecimal(canonical)) return `${ipaddr.IPv4.networkAddressFromCIDR(`${canonical}/24`).toString().split('.').slice(0, 3).join('.')}.x`;
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${canonical}/48`).toString()}/48`;
}
