import { decodeSegment } from '../jts/bearer-pass/decode.js';
import { seconds } from '../jts/clock.js';
import { JtsError } from '../jts/errors.js';
import type { StateProofParts } from '../jts/state-proof.js';
import type { ClientContext } from './client-info.js';
import type { AuthContext, AuthServerSettings } from './context.js';
import type { RenewedCredentials } from './credentials.js';
import { deviceAccepted } from './device-binding.js';
import type { RenewFacts } from './renew-facts.js';
import type { TheftAlerts } from './theft-alerts.js';

/** What renewal reads; the durations are in seconds. */
export interface RenewalDeps extends Pick<AuthContext, 'sessions' | 'stateProofs' | 'clock' | 'audit' | 'renewFacts' | 'credentials'> {
  settings: Pick<AuthServerSettings, 'bearerPassLifetimeSeconds' | 'rotationGraceSeconds' | 'replayRevoke'>;
  /** Told of each detected replay, off the request path (mail, the owner's list); absent: none. */
  theftAlerts?: TheftAlerts;
}

/**
 * Renewal (JTS.md, "StateProof lifecycle"): a StateProof buys the next BearerPass and the next
 * StateProof, once. The rotation itself, the grace window and replay detection are one atomic
 * step of the session store; this module decides what to mint and maps the store's outcome to
 * an answer, an audit event and an error code.
 */
export class Renewal {
  private readonly graceMs: number;
  /** A compromised session is remembered while any of its BearerPasses could still be presented. */
  private readonly tombstoneMs: number;

  constructor(private readonly deps: RenewalDeps) {
    this.graceMs = deps.settings.rotationGraceSeconds * 1000;
    this.tombstoneMs = (deps.settings.bearerPassLifetimeSeconds + 120) * 1000;
  }

  /**
   * Errors: `JTS-401-03` (not a StateProof of ours: no store round trip), `JTS-401-04` (session
   * ended, its user disabled or gone, or signed in under a credential epoch a password change or
   * reset has since passed: the session is deleted), `JTS-401-05` (replay, or a session already
   * compromised), `JTS-401-06` (another device than the one bound), `service_unavailable`.
   */
  async renew(stateProof: unknown, client: ClientContext): Promise<RenewedCredentials> {
    const parts = this.deps.stateProofs.parse(stateProof);
    if (!parts) {
      this.deps.audit({ event: 'renew.rejected', reason: 'invalid' });
      throw new JtsError('JTS-401-03');
    }
    // Fast path: mint from what this instance remembers and let the store confirm it atomically.
    // Anything it cannot confirm (or a device that does not match) takes the full path below,
    // so every rejection keeps its exact code and order.
    const known = this.deps.renewFacts.get(parts.prn, parts.aid);
    if (known && deviceAccepted(known.deviceHash, client)) {
      const renewed = await this.rotate(parts, known, client, 'store-confirms-user');
      if (renewed !== 'stale') return renewed;
    }
    return this.renewFromStore(parts, client);
  }

  /**
   * Reads the session and the user's security mirror (never PostgreSQL: one Redis round trip),
   * checks them in order, then rotates.
   */
  private async renewFromStore(parts: StateProofParts, client: ClientContext): Promise<RenewedCredentials> {
    const { sessions, audit, renewFacts } = this.deps;
    const { prn, aid } = parts;
    const { session: state, user } = await sessions.sessionAndUser(prn, aid);
    if (state.state === 'missing') {
      audit({ event: 'renew.rejected', reason: 'missing', prn, aid });
      throw new JtsError('JTS-401-04');
    }
    if (state.state === 'compromised') {
      audit({ event: 'renew.rejected', reason: 'compromised', prn, aid });
      throw new JtsError('JTS-401-05');
    }
    if (!deviceAccepted(state.deviceHash, client)) {
      audit({ event: 'renew.rejected', reason: 'device_mismatch', prn, aid });
      throw new JtsError('JTS-401-06');
    }
    if (!user || user.disabled) {
      renewFacts.delete(prn, aid);
      // A leftover of a disable or deletion whose own revocation it slipped past.
      await sessions.revoke(prn, aid, { reason: user ? 'user_disabled' : 'user_deleted', initiator: 'admin' });
      audit({ event: 'renew.rejected', reason: 'user_gone', prn, aid });
      throw new JtsError('JTS-401-04', { message: 'The account is disabled or no longer exists.' });
    }
    // A session signed in under an older credential epoch is refused by the rotation itself
    // ('superseded'), atomically, whichever path took it there.
    // A session stored before amr was gets none in its tokens rather than a guess (README, "BearerPass claims").
    const facts: RenewFacts = { createdAt: state.createdAt, deviceHash: state.deviceHash, permissions: [...user.permissions], credentialEpoch: user.credentialEpoch, amr: state.amr, emailVerified: user.emailVerified, stepUp: state.stepUp, device: state.device };
    renewFacts.set(prn, aid, facts);
    return this.rotate(parts, facts, client, 'user-was-read');
  }

  /**
   * Mints the next BearerPass from `facts` and rotates the session. When the user was not read
   * for this renewal, the store rotates only if the user still matches `facts` ('stale' if not).
   */
  private rotate(parts: StateProofParts, facts: RenewFacts, client: ClientContext, user: 'store-confirms-user'): Promise<RenewedCredentials | 'stale'>;
  private rotate(parts: StateProofParts, facts: RenewFacts, client: ClientContext, user: 'user-was-read'): Promise<RenewedCredentials>;
  private async rotate(parts: StateProofParts, facts: RenewFacts, client: ClientContext, user: 'store-confirms-user' | 'user-was-read'): Promise<RenewedCredentials | 'stale'> {
    const { sessions, stateProofs, clock, audit, settings, credentials, renewFacts } = this.deps;
    const { prn, aid } = parts;
    const now = clock.now();
    const minted = credentials.bearerPass(prn, aid, facts);
    const request = {
      prn,
      aid,
      presented: parts.generation,
      sealedBearerPass: stateProofs.seal(parts, minted.token),
      now,
      graceMs: this.graceMs,
      tombstoneMs: this.tombstoneMs,
      replayRevoke: settings.replayRevoke,
    };
    const result = user === 'store-confirms-user' ? await sessions.rotateConfirmingUser(request, facts) : await sessions.rotate(request);

    if (result.outcome !== 'rotated' && result.outcome !== 'grace') renewFacts.delete(prn, aid);
    switch (result.outcome) {
      case 'rotated':
        audit({ event: 'renew', prn, aid, generation: result.generation });
        return credentials.issue(parts, result.generation, minted.token, minted.expiresIn, facts.createdAt);
      case 'grace': {
        const token = stateProofs.open(parts, result.sealedBearerPass);
        if (token === undefined) throw new JtsError('JTS-401-03');
        audit({ event: 'renew.grace', prn, aid, generation: result.generation });
        return credentials.issue(parts, result.generation, token, expiresInOf(token, now), facts.createdAt);
      }
      case 'stale':
        return 'stale';
      case 'replay':
        audit({ event: 'replay.detected', prn, aid, presented: parts.generation, revoked: result.revoked });
        // The store reports a replay once per session (it leaves a tombstone that answers
        // 'compromised' from then on), so this runs once per theft, however often it is retried.
        // What this instance knows of the ended sessions (the others, with JTS_REPLAY_REVOKE=principal,
        // from their remembered facts when it has them), taken before it forgets them.
        this.deps.theftAlerts?.replayDetected({
          prn,
          at: now,
          client,
          ended: result.revoked.map((ended) => {
            const known = ended === aid ? facts : renewFacts.get(prn, ended);
            return { aid: ended, device: known?.device, signedInAt: known?.createdAt };
          }),
        });
        renewFacts.forget(prn, result.revoked);
        throw new JtsError('JTS-401-05');
      // Also what a renewal from remembered facts learns instead of the full path's read.
      case 'compromised':
        audit({ event: 'renew.rejected', reason: 'compromised', prn, aid });
        throw new JtsError('JTS-401-05');
      case 'missing':
        audit({ event: 'renew.rejected', reason: 'missing', prn, aid });
        throw new JtsError('JTS-401-04');
      // The store deleted the session in the same step.
      case 'superseded':
        audit({ event: 'renew.rejected', reason: 'credentials_changed', prn, aid });
        throw new JtsError('JTS-401-04', { message: CREDENTIALS_CHANGED });
    }
  }
}

const CREDENTIALS_CHANGED = 'The password changed after this session signed in.';

/**
 * Seconds the grace window's BearerPass has left at `now` (ms), from its own `exp`. The token
 * was sealed by this server (AES-GCM), so one without a readable `exp` is a bug, not a client's
 * doing: it throws a plain Error (answered 500), never a client's error code.
 */
function expiresInOf(token: string, now: number): number {
  const exp = decodeSegment(token.split('.')[1] ?? '')?.exp;
  if (typeof exp !== 'number') throw new Error('the sealed BearerPass has no readable exp');
  return Math.max(0, exp - seconds(now));
}
