import { JtsError } from '../jts/errors.js';
import type { EndedSession, EndedSessionLog } from '../sessions/ended-sessions.js';
import type { SessionRecord } from '../sessions/types.js';
import type { ClientContext } from './client-info.js';
import { deviceAccepted } from './device-binding.js';
import type { AuthContext } from './context.js';

/** What the own-sessions use cases read. */
export type OwnSessionsDeps = Pick<AuthContext, 'sessions' | 'stateProofs' | 'clock' | 'audit' | 'renewFacts'> & { ended?: EndedSessionLog };

/** One session as GET /jts/sessions lists it (JTS.md, "Sessions and policies"). */
export interface SessionView {
  aid: string;
  /** E.g. "Firefox on Linux" (see client-info.ts). */
  device: string;
  /** The client's network, e.g. "203.0.113.x" or "2001:db8:1234::/48" (see client-info.ts). */
  ipPrefix: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** ISO 8601 UTC: the last login or renewal. */
  lastActiveAt: string;
  /** The session of the BearerPass that asked. */
  current: boolean;
}

/** A recently ended session as GET /jts/sessions lists it under `ended` (README, "Token theft alerts"). */
export interface EndedSessionView {
  aid: string;
  /** The session's device description; '' when not known (see ReplayReport). */
  device: string;
  /** ISO 8601 UTC. */
  endedAt: string;
  /** `token_theft`: a replay of one of its StateProofs was detected. */
  reason: EndedSession['reason'];
}

/**
 * A user's own sessions: list them, end one, end all the others, and log out (end the one a
 * StateProof belongs to). Every session ended here is also forgotten by the renewal facts.
 * Only `service_unavailable` is thrown; "no such session" is a value.
 */
export class OwnSessions {
  constructor(private readonly deps: OwnSessionsDeps) {}

  /** The live sessions of `prn`, with `currentAid` marked as current. */
  async list(prn: string, currentAid: string): Promise<SessionView[]> {
    const records = await this.deps.sessions.list(prn, this.deps.clock.now());
    return records.map((record) => toView(record, currentAid));
  }

  /** The user's recently ended sessions, newest first; none without an ended-session log. */
  async listEnded(prn: string): Promise<EndedSessionView[]> {
    const ended = this.deps.ended ? await this.deps.ended.list(prn, this.deps.clock.now()) : [];
    return ended.map((e) => ({ aid: e.aid, device: e.device, endedAt: new Date(e.endedAt).toISOString(), reason: e.reason }));
  }

  /** False when the aid is not a live session of this user (someone else's looks the same: 404). */
  async revoke(prn: string, aid: string): Promise<boolean> {
    this.deps.renewFacts.delete(prn, aid);
    const ended = await this.deps.sessions.revoke(prn, aid, { reason: 'revoked', initiator: 'user' });
    if (ended) this.deps.audit({ event: 'session.revoked', prn, aids: [aid], reason: 'user' });
    return ended;
  }

  /** Ends every session of `prn` except `keepAid`; resolves to the ended aids (audited even when none). */
  async revokeOthers(prn: string, keepAid: string): Promise<string[]> {
    const ended = await this.deps.sessions.revokeAll(prn, { reason: 'revoked', initiator: 'user' }, keepAid);
    this.deps.renewFacts.forget(prn, ended);
    this.deps.audit({ event: 'session.revoked', prn, aids: ended, reason: 'others' });
    return ended;
  }

  /**
   * Ends the StateProof's session; any earlier StateProof of the session will do. Idempotent:
   * a StateProof that is not ours, or whose session already ended, is `{ ended: false }`, and a
   * garbage one costs no store round trip. The device is checked as for a renewal, whichever
   * way the StateProof came: a session bound to a device at login ends only with that device's
   * id, and a StateProof in the `X-JTS-StateProof` header needs one (`JTS-401-06` otherwise, and
   * the session lives on). That costs a read before the revocation; logout is not a hot path.
   */
  async logout(stateProof: unknown, client: ClientContext = {}): Promise<{ ended: boolean }> {
    const parts = this.deps.stateProofs.parse(stateProof);
    if (!parts) return { ended: false };
    const state = await this.deps.sessions.state(parts.prn, parts.aid);
    if (state.state !== 'active') {
      this.deps.audit({ event: 'logout', prn: parts.prn, aid: parts.aid, ended: false });
      return { ended: false };
    }
    if (!deviceAccepted(state.deviceHash, client)) {
      this.deps.audit({ event: 'logout.rejected', reason: 'device_mismatch', prn: parts.prn, aid: parts.aid });
      throw new JtsError('JTS-401-06');
    }
    this.deps.renewFacts.delete(parts.prn, parts.aid);
    const ended = await this.deps.sessions.revoke(parts.prn, parts.aid, { reason: 'logout', initiator: 'user' });
    this.deps.audit({ event: 'logout', prn: parts.prn, aid: parts.aid, ended });
    return { ended };
  }
}

/** The one mapping of a session record to what clients see (GET /jts/sessions and the admin API). */
export function toView(record: SessionRecord, currentAid: string): SessionView {
  return {
    aid: record.aid,
    device: record.device,
    ipPrefix: record.ipPrefix,
    createdAt: new Date(record.createdAt).toISOString(),
    lastActiveAt: new Date(record.lastActiveAt).toISOString(),
    current: record.aid === currentAid,
  };
}
