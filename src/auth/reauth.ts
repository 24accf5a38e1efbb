import { JtsError } from '../jts/errors.js';
import type { BearerPassClaims } from '../jts/bearer-pass/claims.js';
import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { FirstFactor } from '../users/factors.js';
import { amrOfPasskey, stepUpAmr, type AuthMethod } from './amr.js';
import type { ClientContext } from './client-info.js';
import type { ReauthRefusal } from './audit.js';
import type { AuthContext } from './context.js';
import { deviceAccepted } from './device-binding.js';
import { AuthError } from './errors.js';
import { ensureMirror } from './mirrored-users.js';
import { CLIENT_CREDENTIALS_ATM, TOKEN_EXCHANGE_ATM } from './oauth-grants.js';
import { assertCheckablePassword } from './password-rules.js';
import type { RenewFacts } from './renew-facts.js';
import type { CodeProof, PasskeySecondFactor, SecondFactors } from './second-factor.js';

/** What a step-up reads. */
export interface ReauthDeps extends Pick<AuthContext, 'users' | 'hasher' | 'sessions' | 'clock' | 'audit' | 'renewFacts' | 'credentials' | 'settings'> {
  /** Absent: only the password steps up. */
  secondFactors?: SecondFactors;
  /** Absent: no passkey steps up. */
  passkeys?: PasskeySecondFactor;
}

/** The credential proven again: the account's password, or one of its second factors. */
export type ReauthProof = { password: string } | CodeProof | { webauthn: AuthenticationResponseJSON };

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
    if (isServiceToken(bearer)) {
      audit({ event: 'reauth.failed', prn, reason: 'service_token' });
      throw new AuthError('reauth_needs_session');
    }
    if ('password' in proof) assertCheckablePassword(proof.password);
    const [user, { session }] = await Promise.all([users.get(prn), sessions.sessionAndUser(prn, aid)]);
    if (!user || user.disabled) throw fail(audit, prn, aid, 'user_gone', new JtsError('JTS-401-04'));
    if (session.state === 'missing') throw fail(audit, prn, aid, 'missing', new JtsError('JTS-401-04'));
    if (session.state === 'compromised') throw fail(audit, prn, aid, 'compromised', new JtsError('JTS-401-05'));
    if (!deviceAccepted(session.deviceHash, client)) throw fail(audit, prn, aid, 'device_mismatch', new JtsError('JTS-401-06'));

    const proved = await this.prove(user.id, user.passwordHash, aid, session.amr, proof);
    if (!proved.ok) {
      const password = 'password' in proof;
      throw fail(audit, prn, aid, password ? 'wrong_password' : 'wrong_code', password ? new AuthError('invalid_credentials') : new AuthError(proved.code));
    }
    const stepUp = { authTime: clock.now(), amr: proved.amr };
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
    audit({ event: 'reauth.succeeded', prn, aid, method: proved.method, amr: stepUp.amr });
    const facts: RenewFacts = { createdAt: session.createdAt, deviceHash: session.deviceHash, permissions: [...user.permissions], credentialEpoch: user.credentialEpoch, amr: session.amr, emailVerified: user.emailVerified, stepUp };
    const minted = credentials.bearerPass(prn, aid, facts);
    return { bearerPass: minted.token, expiresIn: minted.expiresIn };
  }

  /**
   * WebAuthn options for a step-up with a passkey (POST /jts/reauth/webauthn/options): the
   * challenge is bound to this session (its aid) and the user, and spent by the step-up.
   * Errors: `reauth_needs_session` (a service's token), `passkey_not_found` (no passkey).
   */
  async passkeyOptions(bearer: BearerPassClaims): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { passkeys, audit } = this.deps;
    if (isServiceToken(bearer)) {
      audit({ event: 'reauth.failed', prn: bearer.prn, reason: 'service_token' });
      throw new AuthError('reauth_needs_session');
    }
    if (!passkeys || !(await passkeys.has(bearer.prn))) throw new AuthError('passkey_not_found');
    return passkeys.secondFactorOptions(sessionBinding(bearer.aid), bearer.prn);
  }

  /** What `proof` proved, as the step-up's amr (a code is used up only when right), or why it was refused. */
  private async prove(userId: string, passwordHash: string, aid: string, signInAmr: readonly string[] | undefined, proof: ReauthProof): Promise<Proved> {
    if ('password' in proof) return (await this.deps.hasher.verify(proof.password, passwordHash)) === 'mismatch' ? { ok: false, code: 'invalid_credentials' } : { ok: true, method: 'pwd', amr: stepUpAmr(signInAmr, 'pwd') };
    if ('webauthn' in proof) {
      const user = await this.deps.users.get(userId);
      const checked = user && this.deps.passkeys ? await this.deps.passkeys.verifySecondFactor(sessionBinding(aid), user, proof.webauthn) : ({ ok: false, code: 'passkey_rejected' } as const);
      if (!checked.ok) return checked;
      // As at sign-in (amr.ts): the passkey on top of the session's first factor, or alone when it
      // verified its user; never an older `mfa` carried forward.
      return { ok: true, method: 'webauthn', amr: amrOfPasskey(checked.userVerified, firstFactorOf(signInAmr)) };
    }
    const method = 'code' in proof ? 'totp' : 'recovery_code';
    return this.deps.secondFactors !== undefined && (await this.deps.secondFactors.check(userId, proof)) ? { ok: true, method, amr: stepUpAmr(signInAmr, method) } : { ok: false, code: 'mfa_code_invalid' };
  }
}

type Proved = { ok: true; method: 'pwd' | 'totp' | 'recovery_code' | 'webauthn'; amr: AuthMethod[] } | { ok: false; code: 'invalid_credentials' | 'mfa_code_invalid' | 'passkey_rejected' | 'passkey_challenge_invalid' };

/** The first factor a session's sign-in proved, as its amr says (none stored: undefined). */
function firstFactorOf(signInAmr: readonly string[] | undefined): FirstFactor | undefined {
  if (signInAmr?.includes('pwd') === true) return 'pwd';
  if (signInAmr?.includes('otp') === true) return 'email_code';
  return undefined;
}

/** A passkey step-up's challenge binding: the session, in the shape of a ticket hash (never a ticket's). */
function sessionBinding(aid: string): string {
  return createHash('sha256').update(`reauth:${aid}`).digest('base64url');
}

function isServiceToken(bearer: BearerPassClaims): boolean {
  return bearer.atm === CLIENT_CREDENTIALS_ATM || bearer.atm === TOKEN_EXCHANGE_ATM || bearer.act !== undefined || bearer.scope !== undefined;
}

/** Audits a refused step-up and hands back its error. */
function fail(audit: AuthContext['audit'], prn: string, aid: string, reason: ReauthRefusal, error: Error): Error {
  audit({ event: 'reauth.failed', prn, aid, reason });
  return error;
}
