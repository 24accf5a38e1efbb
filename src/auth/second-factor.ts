import type { FactorUse, FirstFactor, LiveMfaTicket, SecondFactorStore, TicketPurpose, TotpFactor } from '../users/factors.js';
import type { User } from '../users/types.js';
import { StepUpError } from '../verifier/step-up.js';
import type { AccountMailer } from './account-mail.js';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { amrOf, amrOfPasskey, type AuthMethod } from './amr.js';
import { hashToken, TOKEN_PATTERN } from './challenge-secrets.js';
import type { ClientContext } from './client-info.js';
import type { AuthContext, MfaSettings } from './context.js';
import { AuthError, MfaEnrollmentRequiredError, MfaRequiredError, type SecondFactorMethod } from './errors.js';
import { clientBinding, hashRecoveryCode, newRecoveryCode, newTicket, RECOVERY_CODE_COUNT, seal, unseal } from './factor-secrets.js';
import { assertFreshSignIn } from './fresh-auth.js';
import { matchTotp, newTotpSecret, qrSvg, totpUri } from './totp.js';

/** What the second-factor use cases read. */
export interface SecondFactorDeps extends Pick<AuthContext, 'users' | 'clock' | 'audit'> {
  factors: SecondFactorStore;
  /** AES-256-GCM key of the TOTP secrets (deriveFactorKey). */
  factorKey: Buffer;
  mfaSettings: MfaSettings;
  /** Notices to the account when a factor is added or removed (none when absent). */
  mailer?: AccountMailer;
  /** Passkeys as a second factor (passkeys.ts); absent: only TOTP and recovery codes. */
  passkeys?: PasskeySecondFactor;
}

/** The outcome of a passkey presented as second factor: the refusal's error code, or whether the authenticator verified its user. */
export type SecondFactorPasskeyResult = { ok: true; userVerified: boolean } | { ok: false; code: 'passkey_rejected' | 'passkey_challenge_invalid' };

/** What this module asks of passkeys (implemented by passkeys.ts, which audits its refusals). */
export interface PasskeySecondFactor {
  has(userId: string): Promise<boolean>;
  /** Options whose challenge is bound to the ticket (its hash) and the user. */
  secondFactorOptions(ticketHash: string, userId: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  verifySecondFactor(ticketHash: string, user: User, response: AuthenticationResponseJSON): Promise<SecondFactorPasskeyResult>;
}

/** A ticket lives 5 minutes (long enough to find the phone, short enough to be useless later). */
export const MFA_TICKET_LIFETIME_SECONDS = 300;
/**
 * Codes one ticket has checked before it dies (the per-account sign-in limits count them too). An
 * attempt is reserved before its code is checked, so concurrent requests cannot check more.
 */
export const MFA_TICKET_MAX_ATTEMPTS = 5;
/** An enrolment not confirmed within 15 minutes expires: its secret was shown once, long ago. */
export const TOTP_ENROLMENT_LIFETIME_SECONDS = 900;

const TOTP_METHODS: readonly SecondFactorMethod[] = ['totp', 'recovery_code'];

/** A second factor presented at POST /jts/mfa/verify. */
export type SecondFactorProof = { code: string } | { recoveryCode: string } | { webauthn: AuthenticationResponseJSON };

/** A TOTP or recovery code: what a step-up (POST /jts/reauth) takes. */
export type CodeProof = Exclude<SecondFactorProof, { webauthn: unknown }>;

/** Who asks and when they signed in: `prn` and `auth_time` (seconds since the epoch) of their verified BearerPass. */
/** What the caller's verified BearerPass says of its sign-in (`auth_time` seconds, RFC 8176 `amr`). */
export interface SignInProof {
  prn: string;
  authTime: number | undefined;
  amr: readonly string[] | undefined;
}

/** GET /jts/mfa: which factors the account has (never a secret). */
export interface FactorsView {
  totp: { confirmed: boolean; createdAt: number; confirmedAt: number | undefined } | undefined;
  recoveryCodesLeft: number;
}

/** POST /jts/mfa/totp: what the authenticator app needs, shown once. */
export interface TotpEnrolment {
  /** Base32 (RFC 4648), for typing into the app. */
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/**
 * Second factors (README, "Second factor (TOTP)"): enrol, confirm and remove a TOTP authenticator
 * with its recovery codes; stop a sign-in whose first factor was right with an `mfa_required`
 * ticket; complete it with a code. Opening the session stays with the sign-in (sign-in.ts).
 */
export class SecondFactors {
  constructor(private readonly deps: SecondFactorDeps) {}

  async view(prn: string): Promise<FactorsView> {
    const { factors } = this.deps;
    const [totp, recoveryCodesLeft] = await Promise.all([factors.totp(prn), factors.recoveryCodesLeft(prn)]);
    return { totp: totp && { confirmed: totp.confirmed, createdAt: totp.createdAt, confirmedAt: totp.confirmedAt }, recoveryCodesLeft };
  }

  /**
   * Starts a TOTP enrolment (replacing an unconfirmed one). Errors: `fresh_auth_required`,
   * `mfa_already_enrolled`, `mfa_email_unverified` (403 `email_unverified`: the address is not
   * verified yet, review R2), `service_unavailable`.
   */
  async startTotp(signIn: SignInProof): Promise<TotpEnrolment> {
    const { clock, users, mfaSettings } = this.deps;
    assertFreshSignIn(signIn.authTime, clock.now(), mfaSettings.freshAuthMaxAgeSeconds);
    const user = await users.get(signIn.prn);
    // Deleted since the BearerPass was minted: the sign-in it shows no longer stands.
    if (!user) throw new StepUpError('fresh_auth_required');
    // Security review: next to a passkey, an app added on one factor would outlive the session
    // that added it; as removing a factor does, adding one to an account that has one needs `mfa`.
    if (!signIn.amr?.includes('mfa') && (await this.deps.passkeys?.has(user.id)) === true) throw new StepUpError('auth_method_required');
    return this.enrol(user);
  }

  /** Stores a new unconfirmed authenticator for `user` (replacing an unconfirmed one) and shows it once. */
  private async enrol(user: User): Promise<TotpEnrolment> {
    const { factors, clock, audit, factorKey, mfaSettings } = this.deps;
    // Review R2, for the ticket's way in as for a session's.
    if (mfaSettings.enrolmentNeedsVerifiedEmail && !user.emailVerified) throw new AuthError('mfa_email_unverified');
    const secret = newTotpSecret();
    if ((await factors.enrolTotp(user.id, seal(factorKey, user.id, secret), clock.now())) === 'confirmed_exists') throw new AuthError('mfa_already_enrolled');
    audit({ event: 'mfa.enrolment.started', prn: user.id, factor: 'totp' });
    const otpauthUri = totpUri(secret, user.email, mfaSettings.issuerName);
    return { secret, otpauthUri, qrSvg: await qrSvg(otpauthUri) };
  }

  /**
   * Confirms the enrolment with a first code; resolves to ten recovery codes, shown once (only
   * their hashes are kept). Errors: `mfa_not_enrolled` (nothing to confirm, or an enrolment started
   * more than TOTP_ENROLMENT_LIFETIME_SECONDS ago), `mfa_already_enrolled`,
   * `mfa_code_invalid`, `service_unavailable`.
   */
  async confirmTotp(prn: string, code: string): Promise<string[]> {
    const { factors, clock, audit, factorKey } = this.deps;
    const factor = await factors.totp(prn);
    if (!factor) throw new AuthError('mfa_not_enrolled');
    if (factor.confirmed) throw new AuthError('mfa_already_enrolled');
    const secret = unseal(factorKey, prn, factor.secretSealed);
    const step = secret === undefined ? undefined : matchTotp(secret, code, clock.now());
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const startedAfter = clock.now() - TOTP_ENROLMENT_LIFETIME_SECONDS * 1000;
    if (factor.createdAt <= startedAfter) throw new AuthError('mfa_not_enrolled');
    if (step === undefined || !(await factors.confirmTotp(prn, factor.secretSealed, step, recoveryCodes.map(hashRecoveryCode), clock.now(), startedAfter))) {
      audit({ event: 'mfa.failed', prn, reason: 'wrong_code', method: 'totp' });
      throw new AuthError('mfa_code_invalid');
    }
    audit({ event: 'mfa.factor.added', prn, factor: 'totp' });
    await this.notify(prn, 'added');
    return recoveryCodes;
  }

  /**
   * Removes the authenticator and its recovery codes. A confirmed one only for a fresh sign-in that
   * completed the second factor (`amr` holds `mfa`): a password-only session signed in shortly
   * before the enrolment is fresh too, and must not undo it (review R3).
   * Errors: `fresh_auth_required`, `auth_method_required`, `mfa_not_enrolled`, `service_unavailable`.
   */
  async removeTotp(signIn: SignInProof): Promise<void> {
    const { factors, clock, audit, mfaSettings } = this.deps;
    assertFreshSignIn(signIn.authTime, clock.now(), mfaSettings.freshAuthMaxAgeSeconds);
    const { prn } = signIn;
    const factor = await factors.totp(prn);
    if (factor?.confirmed && !signIn.amr?.includes('mfa')) throw new StepUpError('auth_method_required');
    if (!(await factors.removeTotp(prn))) throw new AuthError('mfa_not_enrolled');
    audit({ event: 'mfa.factor.removed', prn, factor: 'totp' });
    // Removing an enrolment that was never confirmed changed nothing the owner relies on.
    if (factor?.confirmed) await this.notify(prn, 'removed');
  }

  /** Removes the authenticator app and its recovery codes (an administrator's reset; audited, no mail: the caller sends one). */
  async removeTotpByAdministrator(prn: string): Promise<boolean> {
    const removed = await this.deps.factors.removeTotp(prn);
    if (removed) this.deps.audit({ event: 'mfa.factor.removed', prn, factor: 'totp' });
    return removed;
  }

  /**
   * The step between a right first factor and a session: when `user` has a confirmed factor, a
   * ticket is stored and `MfaRequiredError` thrown (no session is opened); otherwise nothing.
   *
   * The new ticket voids the account's older ones (SecondFactorStore.issueTicket): one live ticket
   * per account bounds the codes that can be tried at once to one ticket's attempts, whatever the
   * number of sign-ins started with the password. A cap of several would multiply that bound and
   * still let whoever knows the password void the owner's ticket by starting more; the cost of one
   * is that two sign-ins of the same account raced within five minutes leave the first to sign in
   * again (`mfa_ticket_invalid`).
   */
  async requireIfEnrolled(user: User, client: ClientContext, firstFactor: FirstFactor): Promise<void> {
    const { factors, clock, audit } = this.deps;
    const [totp, passkey] = await Promise.all([factors.totp(user.id), this.deps.passkeys?.has(user.id) ?? false]);
    const methods = [...(totp?.confirmed ? TOTP_METHODS : []), ...(passkey ? (['webauthn'] as const) : [])];
    // An account an administrator requires a factor of, without one (a passkey counts): the ticket only enrols one.
    if (methods.length === 0 && !user.mfaRequired) return;
    const purpose: TicketPurpose = methods.length > 0 ? 'verify' : 'enrol';
    const { ticket, ticketHash } = newTicket();
    const now = clock.now();
    await factors.issueTicket({
      purpose,
      ticketHash,
      userId: user.id,
      clientHash: clientBinding(client),
      firstFactor,
      credentialEpoch: user.credentialEpoch,
      maxAttempts: MFA_TICKET_MAX_ATTEMPTS,
      createdAt: now,
      expiresAt: now + MFA_TICKET_LIFETIME_SECONDS * 1000,
    });
    if (purpose === 'enrol') {
      audit({ event: 'mfa.enrolment.required', prn: user.id, firstFactor });
      throw new MfaEnrollmentRequiredError(ticket, MFA_TICKET_LIFETIME_SECONDS);
    }
    audit({ event: 'mfa.required', prn: user.id, firstFactor });
    throw new MfaRequiredError(ticket, methods, MFA_TICKET_LIFETIME_SECONDS);
  }

  /**
   * Checks the ticket and the second factor; resolves to the user and the sign-in's `amr`. Each
   * check first spends one of the ticket's attempts; a right code consumes the ticket and itself
   * together.
   *
   * Errors: `mfa_ticket_invalid` (unknown, used, expired, another client, out of attempts, the
   * account disabled or its password changed since), `mfa_code_invalid`, `service_unavailable`.
   */
  async verify(ticket: string, proof: SecondFactorProof, client: ClientContext): Promise<{ user: User; amr: AuthMethod[] }> {
    const { factors, clock, audit } = this.deps;
    const { ticketHash, live, user } = await this.usableTicket(ticket, client, 'verify');
    const method: SecondFactorMethod = 'code' in proof ? 'totp' : 'recoveryCode' in proof ? 'recovery_code' : 'webauthn';
    // Review R4: the attempt is spent before the code is checked, so concurrent wrong codes on one
    // ticket are checked at most MFA_TICKET_MAX_ATTEMPTS times in all; the rest find it dead.
    const attemptsLeft = await factors.reserveTicketAttempt(ticketHash, clock.now());
    if (attemptsLeft === undefined) {
      audit({ event: 'mfa.failed', prn: user.id, reason: 'ticket_invalid' });
      throw new AuthError('mfa_ticket_invalid');
    }
    let userVerified = false;
    let use: FactorUse | undefined;
    if ('webauthn' in proof) {
      // passkeys.ts spends the assertion's challenge (bound to this ticket) and moves the counter
      // itself, auditing its refusals; only the ticket is left to spend.
      const checked = this.deps.passkeys ? await this.deps.passkeys.verifySecondFactor(ticketHash, user, proof.webauthn) : ({ ok: false, code: 'passkey_rejected' } as const);
      if (!checked.ok) {
        audit({ event: 'mfa.failed', prn: user.id, reason: 'wrong_code', method, attemptsLeft });
        throw new AuthError(checked.code);
      }
      userVerified = checked.userVerified;
      use = { passkey: true };
    } else {
      // The factor is spent only together with the ticket (one atomic step): of two right recovery
      // codes racing on one ticket, the loser's code stays unused.
      use = this.factorUse(user.id, proof, 'code' in proof ? await factors.totp(user.id) : undefined);
    }
    const outcome = use === undefined ? 'factor_refused' : await factors.consumeTicket(ticketHash, user.id, use, clock.now());
    if (outcome === 'factor_refused') {
      audit({ event: 'mfa.failed', prn: user.id, reason: 'wrong_code', method, attemptsLeft });
      throw new AuthError('mfa_code_invalid');
    }
    if (outcome === 'ticket_lost') {
      audit({ event: 'mfa.failed', prn: user.id, reason: 'ticket_invalid' });
      throw new AuthError('mfa_ticket_invalid');
    }
    audit({ event: 'mfa.succeeded', prn: user.id, method });
    if (method === 'recovery_code') audit({ event: 'mfa.recovery_code.used', prn: user.id, left: await factors.recoveryCodesLeft(user.id) });
    return { user, amr: method === 'webauthn' ? amrOfPasskey(userVerified, live.firstFactor) : amrOf(live.firstFactor, method) };
  }

  /**
   * WebAuthn options for a live `verify` ticket's passkey step (POST /jts/mfa/webauthn/options),
   * the challenge bound to the ticket. Errors: `mfa_ticket_invalid` (as verify judges it),
   * `passkey_not_found` (the account has no passkey), `service_unavailable`.
   */
  async passkeyOptions(ticket: string, client: ClientContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { passkeys } = this.deps;
    const { ticketHash, user } = await this.usableTicket(ticket, client, 'verify');
    if (!passkeys || !(await passkeys.has(user.id))) throw new AuthError('passkey_not_found');
    return passkeys.secondFactorOptions(ticketHash, user.id);
  }

  /**
   * POST /jts/mfa/totp with an `enrol` ticket (no session yet): starts the enrolment of an account
   * an administrator requires a factor of. The ticket stays live for the confirmation. Errors:
   * `mfa_ticket_invalid`, `mfa_email_unverified`, `mfa_already_enrolled`, `service_unavailable`.
   */
  async startTotpWithTicket(ticket: string, client: ClientContext): Promise<TotpEnrolment> {
    const { user } = await this.usableTicket(ticket, client, 'enrol');
    return this.enrol(user);
  }

  /**
   * POST /jts/mfa/totp/confirm with an `enrol` ticket: confirms the enrolment with its first code
   * and consumes the ticket in the same step (an attempt reserved first, as at verify). Resolves
   * to the user, the sign-in's `amr` (first factor + TOTP) and the ten recovery codes; the caller
   * opens the session. Errors: `mfa_ticket_invalid`, `mfa_not_enrolled` (none started, or
   * expired), `mfa_code_invalid`, `service_unavailable`.
   */
  async confirmTotpWithTicket(ticket: string, code: string, client: ClientContext): Promise<{ user: User; amr: AuthMethod[]; recoveryCodes: string[] }> {
    const { factors, clock, audit, factorKey } = this.deps;
    const { ticketHash, live, user } = await this.usableTicket(ticket, client, 'enrol');
    const factor = await factors.totp(user.id);
    const startedAfter = clock.now() - TOTP_ENROLMENT_LIFETIME_SECONDS * 1000;
    if (!factor || factor.confirmed || factor.createdAt <= startedAfter) throw new AuthError('mfa_not_enrolled');
    const attemptsLeft = await factors.reserveTicketAttempt(ticketHash, clock.now());
    if (attemptsLeft === undefined) {
      audit({ event: 'mfa.failed', prn: user.id, reason: 'ticket_invalid' });
      throw new AuthError('mfa_ticket_invalid');
    }
    const secret = unseal(factorKey, user.id, factor.secretSealed);
    const totpStep = secret === undefined ? undefined : matchTotp(secret, code, clock.now());
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const outcome =
      totpStep === undefined
        ? 'factor_refused'
        : await factors.consumeTicket(ticketHash, user.id, { enrolment: { secretSealed: factor.secretSealed, totpStep, recoveryCodeHashes: recoveryCodes.map(hashRecoveryCode), startedAfter } }, clock.now());
    if (outcome === 'factor_refused') {
      audit({ event: 'mfa.failed', prn: user.id, reason: 'wrong_code', method: 'totp', attemptsLeft });
      throw new AuthError('mfa_code_invalid');
    }
    if (outcome === 'ticket_lost') {
      audit({ event: 'mfa.failed', prn: user.id, reason: 'ticket_invalid' });
      throw new AuthError('mfa_ticket_invalid');
    }
    audit({ event: 'mfa.factor.added', prn: user.id, factor: 'totp' });
    await this.notify(user.id, 'added');
    return { user, amr: amrOf(live.firstFactor, 'totp'), recoveryCodes };
  }

  /**
   * A ticket for `purpose`, live, presented by the client it was issued to, of an enabled account
   * whose password has not changed since; `mfa_ticket_invalid` (audited) for anything else.
   */
  private async usableTicket(ticket: string, client: ClientContext, purpose: TicketPurpose): Promise<{ ticketHash: string; live: LiveMfaTicket; user: User }> {
    const { factors, clock, users, audit } = this.deps;
    const ticketHash = TOKEN_PATTERN.test(ticket) ? hashToken(ticket) : undefined;
    const live = ticketHash === undefined ? undefined : await factors.liveTicket(ticketHash, clock.now());
    // An enrolment ticket never completes a sign-in with a factor, nor the other way round.
    if (ticketHash === undefined || !live || live.purpose !== purpose) {
      audit({ event: 'mfa.failed', reason: 'ticket_invalid' });
      throw new AuthError('mfa_ticket_invalid');
    }
    if (live.clientHash !== clientBinding(client)) {
      audit({ event: 'mfa.failed', prn: live.userId, reason: 'other_client' });
      throw new AuthError('mfa_ticket_invalid');
    }
    const user = await users.get(live.userId);
    // An enrolment ticket is for an account without a factor: once the owner has added one
    // (security review: a passkey meanwhile), enrolling with the first factor alone would go around it.
    const gainedFactor = purpose === 'enrol' && user !== undefined && (await hasSecondFactor(this.deps.factors, this.deps.passkeys, user.id));
    if (!user || user.disabled || user.credentialEpoch !== live.credentialEpoch || gainedFactor) {
      audit({ event: 'mfa.failed', prn: live.userId, reason: 'voided' });
      throw new AuthError('mfa_ticket_invalid');
    }
    return { ticketHash, live, user };
  }

  /** The address of a live ticket's account, for the per-account sign-in limits; undefined for anything else. */
  async ticketAccount(ticket: string): Promise<string | undefined> {
    if (!TOKEN_PATTERN.test(ticket)) return undefined;
    const live = await this.deps.factors.liveTicket(hashToken(ticket), this.deps.clock.now());
    return live && (await this.deps.users.get(live.userId))?.email;
  }

  /** What `proof` would spend: the recovery code's hash, or the time step a TOTP code matches (undefined: none). */
  private factorUse(userId: string, proof: CodeProof, factor: TotpFactor | undefined): Extract<FactorUse, { recoveryCodeHash: string } | { totpStep: number }> | undefined {
    if ('recoveryCode' in proof) return { recoveryCodeHash: hashRecoveryCode(proof.recoveryCode) };
    if (!factor?.confirmed) return undefined;
    // Unreadable after a change of the StateProof secret: only recovery codes work then.
    const secret = unseal(this.deps.factorKey, userId, factor.secretSealed);
    const totpStep = secret === undefined ? undefined : matchTotp(secret, proof.code, this.deps.clock.now());
    return totpStep === undefined ? undefined : { totpStep };
  }

  /** A TOTP code accepted once (atomic, per step), or an unused recovery code (atomic, consumed); for a step-up, which has no ticket. */
  async check(userId: string, proof: CodeProof): Promise<boolean> {
    const { factors, clock } = this.deps;
    const use = this.factorUse(userId, proof, 'code' in proof ? await factors.totp(userId) : undefined);
    if (use === undefined) return false;
    return 'recoveryCodeHash' in use ? factors.useRecoveryCode(userId, use.recoveryCodeHash, clock.now()) : factors.acceptTotpStep(userId, use.totpStep);
  }

  private async notify(prn: string, change: 'added' | 'removed'): Promise<void> {
    if (!this.deps.mailer) return;
    const user = await this.deps.users.get(prn);
    if (user) this.deps.mailer.send({ kind: 'second-factor-changed', to: user.email, name: user.name, change });
  }
}

/** Whether an account has a second factor: a confirmed authenticator app or a passkey. */
export async function hasSecondFactor(factors: Pick<SecondFactorStore, 'totp'>, passkeys: Pick<PasskeySecondFactor, 'has'> | undefined, userId: string): Promise<boolean> {
  const [totp, passkey] = await Promise.all([factors.totp(userId), passkeys?.has(userId) ?? false]);
  return totp?.confirmed === true || passkey;
}
