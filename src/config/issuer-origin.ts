import ipaddr from 'ipaddr.js';

/**
 * The issuer's origin and the address the server listens on, compared. Outside production the
 * default issuer follows PORT and HOST, so `PORT=4000 npm start` names the origin it really serves
 * (discovery, OpenAPI and every BearerPass's `iss`); in any mode an issuer that cannot be this
 * server's own origin is reported at start-up (a verifier configured with the URL it really calls
 * would otherwise get JTS-403-01).
 */

/** Where the server listens: HOST and the port it bound (PORT, or the one the OS chose for 0). */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * The issuer (and audience) when JTS_ISSUER and JTS_AUDIENCE are unset outside production:
 * `http://<HOST>:<PORT>` when HOST is a concrete host, `http://localhost:<PORT>` when it is a
 * wildcard (0.0.0.0, ::) or empty. PORT=0 (any free port) has no knowable origin before listening:
 * then `http://localhost:3000` as before, and the start-up warning says so.
 */
export function defaultIssuer(listen: ListenAddress): string {
  if (listen.port === 0) return 'http://localhost:3000';
  const host = isWildcard(listen.host) ? 'localhost' : listen.host;
  return new URL(`http://${ipaddr.IPv6.isValid(host) ? `[${host}]` : host}:${listen.port}`).origin;
}

/**
 * Why `issuer` cannot be the origin of a server listening on `listen`, or undefined when it can
 * (a public name may sit behind a proxy on any port; only what is certain is reported):
 * - the issuer is a loopback host (localhost, 127.0.0.0/8, ::1) on another port than the server's;
 * - the issuer is a loopback host while the server listens only on a non-loopback address;
 * - the issuer is an IP address the server does not listen on (HOST is another concrete address).
 */
export function issuerOriginProblem(issuer: string, listen: ListenAddress): string | undefined {
  const url = new URL(issuer);
  const issuerHost = url.hostname.replace(/^\[|\]$/g, '');
  const issuerPort = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const bound = `${listen.host || '*'}:${listen.port}`;
  if (isLoopback(issuerHost)) {
    if (issuerPort !== listen.port) return `the issuer ${url.origin} is this machine on port ${issuerPort}, but the server listens on ${bound}; set JTS_ISSUER (and JTS_AUDIENCE) to the origin clients call`;
    if (!isWildcard(listen.host) && !isLoopback(listen.host)) return `the issuer ${url.origin} is a loopback address, but the server listens only on ${bound}; set JTS_ISSUER (and JTS_AUDIENCE) to the origin clients call`;
    return undefined;
  }
  if (ipaddr.isValid(issuerHost) && ipaddr.isValid(listen.host) && !isWildcard(listen.host) && !sameAddress(issuerHost, listen.host)) {
    return `the issuer ${url.origin} is an address the server does not listen on (${bound}); set JTS_ISSUER (and JTS_AUDIENCE) to the origin clients call`;
  }
  return undefined;
}

function isWildcard(host: string): boolean {
  return host === '' || (ipaddr.isValid(host) && ipaddr.process(host).range() === 'unspecified');
}

function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  // RFC 6761 §6.3: localhost and every name under it resolve to loopback.
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return ipaddr.isValid(name) && ipaddr.process(name).range() === 'loopback';
}

function sameAddress(a: string, b: string): boolean {
  return ipaddr.process(a).toNormalizedString() === ipaddr.process(b).toNormalizedString();
}
