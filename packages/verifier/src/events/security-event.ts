import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { KeySet } from '../key-set.js';

/** RFC 8417 §2.3: the media type of a SET, in the short form of the `typ` header. */
export const SET_TYP = 'secevent+jwt';
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

/** What a verified security event asks of a verifier. */
export type SecurityEvent =
  /** Refuse BearerPasses of session `aid` until `notAfter` (seconds): none of them lives longer. */
  | { kind: 'session-revoked'; jti: string; aid: string; notAfter: number }
  /** A valid event of a type a verifier has nothing to do with (credential-change, future types). */
  | { kind: 'other'; jti: string };

/** Why an event was not accepted: the feed's reasons, as metric labels. */
export type RejectReason = 'unknown_key' | 'invalid' | 'malformed';

export type SecurityEventResult = { ok: true; event: SecurityEvent } | { ok: false; reason: RejectReason };

/**
 * Verifies one SET of the feed (docs: the events wire format): signed by a key of the issuer's
 * JWKS with that key's algorithm, `typ` secevent+jwt (a BearerPass, also signed by that key, is
 * not an event), `iss` the issuer, a `jti`, and exactly one event. A session-revoked event must
 * name the session and the time after which no BearerPass of it can be alive.
 */
export async function verifySecurityEvent(token: string, keys: KeySet, issuer: string | undefined): Promise<SecurityEventResult> {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof kid !== 'string' || kid.length === 0) return { ok: false, reason: 'malformed' };
  await keys.prepare(kid);
  const key = keys.get(kid);
  if (key === undefined) return { ok: false, reason: 'unknown_key' };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.publicKey, { algorithms: [key.alg], typ: SET_TYP, ...(issuer === undefined ? {} : { issuer }) }));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const { jti, events } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || typeof events !== 'object' || events === null || Array.isArray(events)) return { ok: false, reason: 'malformed' };
  const types = Object.keys(events);
  if (types.length !== 1) return { ok: false, reason: 'malformed' };
  if (types[0] !== SESSION_REVOKED) return { ok: true, event: { kind: 'other', jti } };
  const revoked = (events as Record<string, unknown>)[SESSION_REVOKED] as { jts_not_after?: unknown } | null;
  const aid = sessionOf(payload.sub_id);
  const notAfter = revoked?.jts_not_after;
  if (aid === undefined || typeof notAfter !== 'number' || !Number.isFinite(notAfter)) return { ok: false, reason: 'malformed' };
  return { ok: true, event: { kind: 'session-revoked', jti, aid, notAfter } };
}

/** The session id of an SSF complex subject `{"format":"complex","session":{"format":"opaque","id":…}}`. */
function sessionOf(subject: unknown): string | undefined {
  if (typeof subject !== 'object' || subject === null) return undefined;
  const { format, session } = subject as { format?: unknown; session?: unknown };
  if (format !== 'complex' || typeof session !== 'object' || session === null) return undefined;
  const { id } = session as { id?: unknown };
  return typeof id === 'string' && id.length > 0 && id.length <= 256 ? id : undefined;
}
