import { isIP } from 'node:net';

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
 * Keeps only a prefix of the address (IPv4 /24, IPv6 /48): enough to tell "home" from
 * "elsewhere" in the session list without storing where exactly a person is.
 */
export function maskIp(address: string | undefined): string {
  if (!address) return 'unknown';
  const ip = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  switch (isIP(ip)) {
    case 4:
      return `${ip.split('.').slice(0, 3).join('.')}.x`;
    case 6: {
      const groups = ip.split(':').filter((group) => group.length > 0).slice(0, 3);
      return `${groups.join(':')}::/48`;
    }
    default:
      return 'unknown';
  }
}
