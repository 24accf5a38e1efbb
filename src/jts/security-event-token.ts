import { sign } from 'node:crypto';
import { algorithmSpec, cryptoKeyInput } from './algorithms.js';
import type { KeyRing } from './key-ring.js';

/** RFC 8417 §2.3: the explicit type of a Security Event Token. */
export const SET_TYP = 'secevent+jwt';
/** OpenID CAEP event types. */
export const SESSION_REVOKED_EVENT = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE_EVENT = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';

/** One event as the feed serves it; times in milliseconds, as the stream keeps them. */
export type SecurityEventInput =
  | { jti: string; type: 'session-revoked'; prn: string; aid: string; reason: string; initiator: string; at: number; notAfter: number }
  | { jti: string; type: 'credential-change'; prn: string; initiator: string; at: number };

/** The SET's claims (no aud, no exp, no sub: RFC 8417 §2.2 and the wire format of issue 20). */
export interface SecurityEventClaims {
  iss: string;
  iat: number;
  jti: string;
  sub_id: Record<string, unknown>;
  events: Record<string, Record<string, unknown>>;
}

/**
 * The claims of one event. `iat` is the event's own time, so the same event carries the same
 * claims whichever instance signs it; `jts_not_after` is rounded up (a verifier must not forget
 * the session a second early).
 */
export function securityEventClaims(issuer: string, event: SecurityEventInput): SecurityEventClaims {
  const at = Math.floor(event.at / 1000);
  const base = { iss: issuer, iat: at, jti: event.jti };
  if (event.type === 'credential-change') {
    return {
      ...base,
      sub_id: { format: 'opaque', id: event.prn },
      events: { [CREDENTIAL_CHANGE_EVENT]: { event_timestamp: at, initiating_entity: event.initiator, credential_type: 'password', change_type: 'update' } },
    };
  }
  return {
    ...base,
    sub_id: { format: 'complex', session: { format: 'opaque', id: event.aid }, user: { format: 'opaque', id: event.prn } },
    events: { [SESSION_REVOKED_EVENT]: { event_timestamp: at, initiating_entity: event.initiator, reason_admin: { en: event.reason }, jts_not_after: Math.ceil(event.notAfter / 1000) } },
  };
}

/**
 * Signs SETs with the key ring's signer (the key and `kid` of the JWKS), with node:crypto and the
 * KeyObject parsed at start-up, as BearerPasses are.
 */
export function createSecurityEventSigner(keyRing: KeyRing, issuer: string): (event: SecurityEventInput) => string {
  const signer = keyRing.signer;
  const { hash } = algorithmSpec(signer.alg);
  const keyInput = cryptoKeyInput(signer.alg, signer.privateKey);
  const encodedHeader = Buffer.from(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: SET_TYP })).toString('base64url');
  return function signSecurityEvent(event) {
    const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(securityEventClaims(issuer, event))).toString('base64url')}`;
    return `${signingInput}.${sign(hash, Buffer.from(signingInput), keyInput).toString('base64url')}`;
  };
}
