import ipaddr from 'ipaddr.js';

/** Where passkeys are valid (JTS_WEBAUTHN_*): the relying party id, its display name, the page origins. */
export interface WebAuthnSettings {
  rpId: string;
  rpName: string;
  /** Exact origins (`scheme://host[:port]`) whose pages may register and use passkeys. */
  origins: string[];
  /** Set when the defaults derived from the issuer cannot work in a browser: why (logged at start-up). */
  unusable?: string[];
}

/**
 * The WebAuthn settings from the environment, with defaults from the issuer: RP ID its host name,
 * origins its origin, name the product name. Returns the problems instead when the values cannot
 * work in a browser (WebAuthn §5.1.3, §13.4.9):
 * - every origin must be https, or http on localhost (the only insecure context browsers allow);
 * - the RP ID must be a domain (never an IP address, never a URL) and every origin's host must be
 *   the RP ID or one of its subdomains, else every ceremony from that origin fails in the browser.
 */
export function webAuthnSettings(input: { rpId: string | undefined; rpName: string; origins: string[]; issuer: string }): WebAuthnSettings | { problems: string[] } {
  const issuer = new URL(input.issuer);
  const rpId = input.rpId ?? issuer.hostname;
  const origins = input.origins.length > 0 ? input.origins : [issuer.origin];
  const problems: string[] = [];
  const named = input.rpId === undefined ? `JTS_WEBAUTHN_RP_ID (unset: the issuer's host ${JSON.stringify(rpId)})` : `JTS_WEBAUTHN_RP_ID=${JSON.stringify(rpId)}`;
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(rpId) || ipaddr.isValid(rpId)) {
    problems.push(`${named}: expected a lower-case domain such as example.com (browsers refuse IP addresses; set JTS_ISSUER or JTS_WEBAUTHN_RP_ID to a host name, e.g. localhost)`);
  }
  for (const origin of origins) {
    const url = parseOrigin(origin);
    const shown = input.origins.length > 0 ? `JTS_WEBAUTHN_ORIGINS=${JSON.stringify(origin)}` : `JTS_WEBAUTHN_ORIGINS (unset: the issuer's origin ${JSON.stringify(origin)})`;
    if (url === undefined) {
      problems.push(`${shown}: expected an exact origin such as https://app.example.com (no path or trailing slash)`);
      continue;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === 'localhost')) problems.push(`${shown}: browsers allow passkeys only on https:// origins (http:// only on localhost)`);
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) problems.push(`${shown}: its host is neither the RP ID ${JSON.stringify(rpId)} nor one of its subdomains`);
  }
  return problems.length > 0 ? { problems } : { rpId, rpName: input.rpName, origins };
}

function parseOrigin(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.origin === value ? url : undefined;
  } catch {
    return undefined;
  }
}
