import { JtsError } from '../jts/errors.js';
import type { BearerPassClaims } from '../jts/bearer-pass/claims.js';
import { stepUpAmr, type StepUpProof } from './amr.js';
import type { ClientContext } from './client-info.js';
import type { ReauthRefusal } from './audit.js';
import type { AuthContext } from './context.js';
import { deviceAccepted } from './device-binding.js';
import { AuthError } from './errors.js';
import { ensureMirror } from './mirrored-users.js';
import { CLIENT_CREDENTIALS_ATM, TOKEN_EXCHANGE_ATM } from './oauth-grants.js';
import { assertCheckablePassword } from './password-rules.js';
import type { RenewFacts } from './renew-facts.js';
import type { CodeProof, SecondFactors } from './second-factor.js';

/** What a step-up reads. */
export interface ReauthDeps extends Pick<AuthContext, 'users' | 'hasher' | 'sessions' | 'clock' | 'audit' | 'renewFacts' | 'credentials' | 'settings'> {
  /** Absent: only the password steps up. */
  secondFactors?: SecondFactors;
}

/** The credential proven again: the account's password, or one of its second factors. */
export type ReauthProof = { password: string } | CodeProof;

/** A fresh BearerPass of the same session; the StateProof stays the client's. */
export interface ReauthAnswer {
  bearerPass: string;
  expiresIn: number;
}

/**
 * Step-up (README, "Step-up"): the holder of a live session's BearerPass proves a credential again
 * and gets a BearerPass whose `auth_time` is now and whose `amr` is what was proven (stepUpAmr),
 * on the same session. Nothing of the StateProof chain moves: the step-up is a field of the session
 * (SessionStore.stepUp) that every later renewal mints from, so the client's StateProof stays valid,
 * a replayed older one is still a replay, and a renewal racing the step-up cannot fork the session.
 */
export class Reauthentication {
  constructor(private readonly deps: ReauthDeps) {}

  /**
   * Errors, in this order: `reauth_needs_session` (a token from /jts/token: no user session behind
   * it), `invalid_request` (a password bcrypt cannot check), `JTS-401-04` (the user is disabled or
   * gone, the session ended or was signed in under an older password), `JTS-401-05` (a replay
   * ended it), `JTS-401-06` (another device than the session's), `invalid_credentials` (wrong
   * password, or the password changed while it was checked), `mfa_code_invalid` (a wrong or used
   * code, or no authenticator), `service_unavailable`.
   */
  async reauthenticate(bearer: BearerPassClaims, proof: ReauthProof, client: ClientContext): Promise<ReauthAnswer> {
    const { users, sessions, clock, audit, renewFacts, credentials } = this.deps;
    const { prn, aid } = bearer;
    // An exchanged token names its user's session (its aid) but was issued to a service: a step-up
    // is the user's own act, so it is refused before any credential is looked at.
    if (bearer.atm === CLIENT_CREDENTIALS_ATM || bearer.atm === TOKEN_EXCHANGE_ATM || bearer.act !== undefined || bearer.scope !== undefined) {
      audit({ event: 'reauth.failed', prn, reason: 'service_token' });
      throw new AuthError('reauth_needs_session');
    }
    if ('password' in proof) assertCheckablePassword(proof.password);
    const [user, { session }] = await Promise.all([users.get(prn), sessions.sessionAndUser(prn, aid)]);
    if (!user || user.disabled) throw fail(audit, prn, aid, 'user_gone', new JtsError('JTS-401-04'));
    if (session.state === 'missing') throw fail(audit, prn, aid, 'missing', new JtsError('JTS-401-04'));
    if (session.state === 'compromised') throw fail(audit, prn, aid, 'compromised', new JtsError('JTS-401-05'));
    if (!deviceAccepted(session.deviceHash, client)) throw fail(audit, prn, aid, 'device_mismatch', new JtsError('JTS-401-06'));

    const proved = await this.prove(user.id, user.passwordHash, proof);
    if (proved === undefined) {
      const password = 'password' in proof;
      throw fail(audit, prn, aid, password ? 'wrong_password' : 'wrong_code', password ? new AuthError('invalid_credentials') : new AuthError('mfa_code_invalid'));
    }
    const stepUp = { authTime: clock.now(), amr: stepUpAmr(session.amr, proved) };
    // Redis may have come back empty (the session would then be gone too), or lost only the mirror.
    await ensureMirror(this.deps, user);
    switch (await sessions.stepUp(prn, aid, stepUp, user.credentialEpoch)) {
      case 'stepped':
        break;
      case 'missing':
      case 'superseded':
        throw fail(audit, prn, aid, 'missing', new JtsError('JTS-401-04'));
      case 'compromised':
        throw fail(audit, prn, aid, 'compromised', new JtsError('JTS-401-05'));
      case 'credentials_changed':
        throw fail(audit, prn, aid, 'credentials_changed', new AuthError('invalid_credentials'));
    }
    // This instance's remembered facts are older than the step-up; the next renewal here reads them
    // again. Other instances learn it from the rotation itself (rotate-4.lua: 'stale' on sa).
    renewFacts.delete(prn, aid);
    audit({ event: 'reauth.succeeded', prn, aid, method: proved, amr: stepUp.amr });
    const facts: RenewFacts = { createdAt: session.createdAt, deviceHash: session.deviceHash, permissions: [...user.permissions], credentialEpoch: user.credentialEpoch, amr: session.amr, emailVerified: user.emailVerified, stepUp };
    const minted = credentials.bearerPass(prn, aid, facts);
    return { bearerPass: minted.token, expiresIn: minted.expiresIn };
  }

  /** What `proof` proved for the user, or undefined when it is wrong (a code is used up only when right). */
  private async prove(userId: string, passwordHash: string, proof: ReauthProof): Promise<StepUpProof | undefined> {
    if ('password' in proof) return (await this.deps.hasher.verify(proof.password, passwordHash)) === 'mismatch' ? undefined : 'pwd';
    const method = 'code' in proof ? 'totp' : 'recovery_code';
    return this.deps.secondFactors !== undefined && (await this.deps.secondFactors.check(userId, proof)) ? method : undefined;
  }
}

/** Audits a refused step-up and hands back its error. */
function fail(audit: AuthContext['audit'], prn: string, aid: string, reason: ReauthRefusal, error: Error): Error {
  audit({ event: 'reauth.failed', prn, aid, reason });
  return error;
}
