import type { BearerPassClaims } from '../jts/bearer-pass/claims.js';
import type { AccountMailer } from './account-mail.js';
import { Account } from './account.js';
import { AccountEmail, type SignedIn } from './account-email.js';
import { EmailFlows } from './email-flows.js';
import type { ClientContext } from './client-info.js';
import { createAuthContext, type AuthServerDeps } from './context.js';
import type { IssuedCredentials, RenewedCredentials } from './credentials.js';
import { OwnSessions, type EndedSessionView, type SessionView } from './own-sessions.js';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { Passkeys, type PasskeyView } from './passkeys.js';
import { Reauthentication, type ReauthAnswer, type ReauthProof } from './reauth.js';
import { Renewal } from './renewal.js';
import { SecondFactors, type FactorsView, type SecondFactorProof, type SignInProof, type TotpEnrolment } from './second-factor.js';
import { SignIn, type RegistrationInput } from './sign-in.js';
import { TheftAlerts } from './theft-alerts.js';
import { reportNotMe, type NotMeAnswer, type NotMeDeps } from './not-me.js';
import { SignInNotices } from './sign-in-notices.js';
import { SignInRisk } from './sign-in-risk.js';

export type { AuthServerDeps, AuthServerSettings } from './context.js';
export type { ClientContext } from './client-info.js';
export type { IssuedCredentials, RenewedCredentials } from './credentials.js';
export type { EndedSessionView, SessionView } from './own-sessions.js';
export type { PasskeyView } from './passkeys.js';
export type { ReauthAnswer, ReauthProof } from './reauth.js';
export type { NotMeAnswer } from './not-me.js';
export type { FactorsView, SecondFactorProof, TotpEnrolment } from './second-factor.js';

/** JTS_NOT_ME_TOKEN_LIFETIME's default (7 days), for a server built without the setting. */
const DEFAULT_NOT_ME_TOKEN_LIFETIME_SECONDS = 604_800;

/**
 * JTSAuthServer: the auth-server half of JTS-S — login, register, renew with a rotating
 * StateProof and replay detection, logout, and the caller's own sessions. No HTTP here.
 *
 * A façade: each method is one use case's (sign-in.ts, renewal.ts, account.ts,
 * own-sessions.ts), documented there with its errors. They share one renew-facts cache and one
 * credential minter, built here once (context.ts).
 */
export class JTSAuthServer {
  private readonly signIn: SignIn;
  private readonly renewal: Renewal;
  private readonly reauthentication: Reauthentication;
  private readonly account: Account;
  private readonly ownSessions: OwnSessions;
  private readonly email: EmailFlows | undefined;
  private readonly accountEmail: AccountEmail | undefined;
  /** Account notices (absent without email). */
  private readonly mailer: AccountMailer | undefined;
  private readonly users: AuthServerDeps['users'];
  private readonly secondFactors: SecondFactors | undefined;
  private readonly passkeys: Passkeys | undefined;
  /**
   * JTS_FRESH_AUTH_MAX_AGE (seconds): how recent a sign-in enrolling or removing a factor needs;
   * the HTTP routes build their `requireFreshAuth` guard from it. Undefined without second factors.
   */
  readonly freshAuthMaxAgeSeconds: number | undefined;
  /** What a "this wasn't me" link needs (absent without email). */
  private readonly notMe: NotMeDeps | undefined;
  /** JTS_EMAIL_VERIFICATION=optional: a new account is mailed a link (required mails it before refusing the session). */
  private readonly verifyAfterRegistration: boolean;
  /** With notices on: whether a known-device value is still among its account's recorded devices. */
  private readonly stillKnown: ((email: string, knownDevice: string) => Promise<boolean>) | undefined;

  constructor(deps: AuthServerDeps) {
    const context = createAuthContext(deps);
    const mailer = deps.email ? { mailer: deps.email.mailer } : {};
    const passkeys = deps.mfa && deps.passkeys && new Passkeys({ ...context, passkeys: deps.passkeys.store, factors: deps.mfa.factors, webauthn: deps.passkeys.webauthn, mfaSettings: deps.mfa.mfaSettings, ...mailer });
    this.passkeys = passkeys;
    const secondFactors = deps.mfa && new SecondFactors({ ...context, ...deps.mfa, ...mailer, ...(passkeys ? { passkeys } : {}) });
    this.secondFactors = secondFactors;
    this.freshAuthMaxAgeSeconds = deps.mfa?.mfaSettings.freshAuthMaxAgeSeconds;
    const notices = deps.email && deps.notices && new SignInNotices({ ...context, ...deps.email, ...deps.notices });
    const withNotices = notices ? { notices } : {};
    const stillKnown =
      notices &&
      (async (address: string, knownDevice: string) => {
        const user = await deps.users.findByEmail(address);
        return user !== undefined && (await notices.knows(user.id, knownDevice));
      });
    this.stillKnown = stillKnown;
    const email = deps.email && new EmailFlows({ ...context, ...deps.email, ...(secondFactors ? { secondFactors } : {}), ...withNotices });
    const onEmailChanged = deps.onEmailChanged ? { onEmailChanged: deps.onEmailChanged } : {};
    this.notMe = deps.email && { ...context, ...deps.email, ...onEmailChanged, ...(notices && deps.notices ? { devices: deps.notices.devices } : {}) };
    this.email = email;
    this.accountEmail =
      deps.email &&
      deps.mfa &&
      new AccountEmail({
        ...context,
        ...deps.email,
        freshAuthMaxAgeSeconds: deps.mfa.mfaSettings.freshAuthMaxAgeSeconds,
        notMeTokenLifetimeSeconds: deps.settings.notMeTokenLifetimeSeconds ?? DEFAULT_NOT_ME_TOKEN_LIFETIME_SECONDS,
        ...onEmailChanged,
      });
    this.mailer = deps.email?.mailer;
    this.users = deps.users;
    const required = email !== undefined && deps.email?.emailSettings.verification === 'required';
    this.signIn = new SignIn({
      ...context,
      ...withNotices,
      ...(deps.risk
        ? {
            risk: new SignInRisk({
              ...deps.risk,
              audit: context.audit,
              ...(stillKnown ? { stillKnown } : {}),
            }),
          }
        : {}),
      ...(secondFactors ? { secondFactors } : {}),
      ...(passkeys ? { passkeys } : {}),
      ...(required
        ? {
            requireVerifiedEmail: (user) => {
              email.startVerification(user);
            },
          }
        : {}),
    });
    const theftAlerts = deps.email && deps.endedSessions && new TheftAlerts({
        users: deps.users,
        ended: deps.endedSessions,
        mailer: deps.email.mailer,
        background: deps.email.background,
        appUrl: deps.email.emailSettings.publicUrl,
        audit: context.audit,
        ...(deps.theftAlertsMailed ? { mailed: deps.theftAlertsMailed, onCounterError: (error: unknown) => deps.theftAlertsMailed?.onError(error) } : {}),
      });
    this.renewal = new Renewal({ ...context, ...(theftAlerts ? { theftAlerts } : {}) });
    this.reauthentication = new Reauthentication({ ...context, ...(secondFactors ? { secondFactors } : {}), ...(passkeys ? { passkeys } : {}) });
    this.account = new Account({ ...context, ...(deps.email ? { notices: { mailer: deps.email.mailer, appUrl: deps.email.emailSettings.publicUrl } } : {}) });
    this.ownSessions = new OwnSessions({ ...context, ...(deps.endedSessions ? { ended: deps.endedSessions } : {}) });
    this.verifyAfterRegistration = deps.email?.emailSettings.verification === 'optional';
  }

  /** Signs in with email and password (errors: {@link SignIn.login}). */
  /**
   * Whether the validly signed known-device value `nonce` of `email` still counts as the owner's:
   * with notices on, only while the account records it (seen within JTS_SIGN_IN_NOTICE_WINDOW, not
   * forgotten by "this wasn't me"); without them the signature is all there is. The rate limits ask
   * it before a device gets a mail or code budget of its own.
   */
  knownDeviceStillRecorded(email: string, nonce: string): Promise<boolean> {
    return this.stillKnown ? this.stillKnown(email, nonce) : Promise.resolve(true);
  }

  login(email: string, password: string, client: ClientContext): Promise<IssuedCredentials> {
    return this.signIn.login(email, password, client);
  }

  /** Creates an account and signs it in (errors: {@link SignIn.register}). */
  async register(input: RegistrationInput, client: ClientContext): Promise<IssuedCredentials> {
    const issued = await this.signIn.register(input, client);
    if (this.verifyAfterRegistration) this.email?.startVerification({ id: issued.prn });
    return issued;
  }

  /** The next BearerPass and StateProof for a StateProof (errors: {@link Renewal.renew}). */
  renew(stateProof: unknown, client: ClientContext): Promise<RenewedCredentials> {
    return this.renewal.renew(stateProof, client);
  }

  /** A fresh BearerPass of the same session after proving a credential again (errors: {@link Reauthentication.reauthenticate}). */
  reauthenticate(bearer: BearerPassClaims, proof: ReauthProof, client: ClientContext): Promise<ReauthAnswer> {
    return this.reauthentication.reauthenticate(bearer, proof, client);
  }

  /** WebAuthn options for a step-up with a passkey (errors: {@link Reauthentication.passkeyOptions}). */
  reauthPasskeyOptions(bearer: BearerPassClaims): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.reauthentication.passkeyOptions(bearer);
  }

  /** A new sign-in notice's "this wasn't me" link followed (errors: {@link reportNotMe}). */
  reportNotMe(token: string): Promise<NotMeAnswer> {
    if (!this.notMe) throw new Error('JTSAuthServer was built without email');
    return reportNotMe(this.notMe, token);
  }

  /** Ends the StateProof's session. Idempotent: an unknown or ended session is not an error. */
  logout(stateProof: unknown, client: ClientContext = {}): Promise<{ ended: boolean }> {
    return this.ownSessions.logout(stateProof, client);
  }

  /** The user's live sessions, the caller's (`currentAid`) marked current. */
  listSessions(prn: string, currentAid: string): Promise<SessionView[]> {
    return this.ownSessions.list(prn, currentAid);
  }

  /** The user's recently ended sessions (README, "Token theft alerts"), newest first. */
  listEndedSessions(prn: string): Promise<EndedSessionView[]> {
    return this.ownSessions.listEnded(prn);
  }

  /** False when the aid is not a live session of this user (someone else's looks the same: 404). */
  revokeSession(prn: string, aid: string): Promise<boolean> {
    return this.ownSessions.revoke(prn, aid);
  }

  /** Ends every session of the user but `keepAid`; resolves to the ended aids. */
  revokeOtherSessions(prn: string, keepAid: string): Promise<string[]> {
    return this.ownSessions.revokeOthers(prn, keepAid);
  }

  /** Mails a reset link if `email` has an account; returns at once (see {@link EmailFlows.forgotPassword}). */
  forgotPassword(email: string): void {
    this.emailFlows().forgotPassword(email);
  }

  /** Sets a new password from a reset link and ends every session (errors: {@link EmailFlows.resetPassword}). */
  resetPassword(token: string, newPassword: string): Promise<{ revoked: number }> {
    return this.emailFlows().resetPassword(token, newPassword);
  }

  /** Marks the link's address verified (errors: {@link EmailFlows.verifyEmail}). */
  verifyEmail(token: string, proof?: { prn?: string; password?: string }): Promise<{ passwordReset: 'required' | 'not_required' }> {
    return this.emailFlows().verifyEmail(token, proof);
  }

  /** Mails the signed-in user a new verification link unless verified already; returns at once. */
  resendVerification(prn: string): void {
    this.emailFlows().startVerification({ id: prn });
  }

  /** Mails a sign-in code if `email` has an account; returns at once. */
  requestSignInCode(email: string): void {
    this.emailFlows().requestSignInCode(email);
  }

  /** Signs in with an emailed code (errors: {@link EmailFlows.signInWithCode}). */
  signInWithCode(email: string, code: string, client: ClientContext): Promise<IssuedCredentials> {
    return this.emailFlows().signInWithCode(email, code, client);
  }

  private emailFlows(): EmailFlows {
    if (!this.email) throw new Error('JTSAuthServer was built without email deps');
    return this.email;
  }

  /** Completes a sign-in stopped by `mfa_required` (errors: {@link SignIn.completeWithSecondFactor}). */
  completeSignIn(ticket: string, proof: SecondFactorProof, client: ClientContext): Promise<IssuedCredentials> {
    return this.signIn.completeWithSecondFactor(ticket, proof, client);
  }

  /** Starts a TOTP enrolment with an `mfa_enrollment_required` ticket (errors: {@link SecondFactors.startTotpWithTicket}). */
  startTotpEnrolmentWithTicket(ticket: string, client: ClientContext): Promise<TotpEnrolment> {
    return this.mfa().startTotpWithTicket(ticket, client);
  }

  /** Confirms it and signs in: the login answer and the recovery codes (errors: {@link SignIn.completeWithEnrolment}). */
  completeSignInWithEnrolment(ticket: string, code: string, client: ClientContext): Promise<{ issued: IssuedCredentials; recoveryCodes: string[] }> {
    return this.signIn.completeWithEnrolment(ticket, code, client);
  }

  /** The address of a live MFA ticket's account (for the sign-in rate limits), else undefined. */
  ticketAccount(ticket: string): Promise<string | undefined> {
    return this.secondFactors ? this.secondFactors.ticketAccount(ticket) : Promise.resolve(undefined);
  }

  /** Which second factors the user has, and how many recovery codes are left. */
  secondFactorsOf(prn: string): Promise<FactorsView> {
    return this.mfa().view(prn);
  }

  /** Starts a TOTP enrolment; needs a fresh sign-in (errors: {@link SecondFactors.startTotp}). */
  startTotpEnrolment(signIn: SignInProof): Promise<TotpEnrolment> {
    return this.mfa().startTotp(signIn);
  }

  /** Confirms the enrolment with a first code; resolves to the recovery codes (errors: {@link SecondFactors.confirmTotp}). */
  confirmTotpEnrolment(prn: string, code: string): Promise<string[]> {
    return this.mfa().confirmTotp(prn, code);
  }

  /** Removes the authenticator and its recovery codes; needs a fresh sign-in (errors: {@link SecondFactors.removeTotp}). */
  removeTotp(signIn: SignInProof): Promise<void> {
    return this.mfa().removeTotp(signIn);
  }

  /** WebAuthn options of a ticket's passkey step (errors: {@link SecondFactors.passkeyOptions}). */
  /**
   * An administrator's reset (DELETE /admin/users/:id/factors): removes the account's authenticator
   * app, recovery codes and passkeys, each audited, and mails the account once when anything went.
   */
  async resetFactors(prn: string): Promise<{ totp: boolean; passkeys: number }> {
    const totp = this.secondFactors ? await this.secondFactors.removeTotpByAdministrator(prn) : false;
    const passkeys = this.passkeys ? await this.passkeys.removeAll(prn) : 0;
    const user = totp || passkeys > 0 ? await this.users.get(prn) : undefined;
    if (user) this.mailer?.send({ kind: 'second-factor-changed', to: user.email, name: user.name, change: 'removed' });
    return { totp, passkeys };
  }

  secondFactorPasskeyOptions(ticket: string, client: ClientContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.mfa().passkeyOptions(ticket, client);
  }

  /** Options to create a passkey; needs a fresh sign-in (errors: {@link Passkeys.registrationOptions}). */
  passkeyRegistrationOptions(signIn: SignInProof): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.passkeyUseCases().registrationOptions(signIn);
  }

  /** Stores the passkey the browser created (errors: {@link Passkeys.register}). */
  registerPasskey(signIn: SignInProof, response: RegistrationResponseJSON, name: string | undefined): Promise<PasskeyView> {
    return this.passkeyUseCases().register(signIn, response, name);
  }

  listPasskeys(prn: string): Promise<PasskeyView[]> {
    return this.passkeyUseCases().list(prn);
  }

  /** Errors: {@link Passkeys.rename}. */
  renamePasskey(prn: string, id: string, name: string): Promise<void> {
    return this.passkeyUseCases().rename(prn, id, name);
  }

  /** Needs a fresh sign-in with a second factor (errors: {@link Passkeys.remove}). */
  removePasskey(signIn: SignInProof, id: string): Promise<void> {
    return this.passkeyUseCases().remove(signIn, id);
  }

  /** Options of a passwordless sign-in. */
  passkeyLoginOptions(client: ClientContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeyUseCases().loginOptions(client);
  }

  /** Signs in with a passkey alone (errors: {@link SignIn.loginWithPasskey}). */
  loginWithPasskey(response: AuthenticationResponseJSON, client: ClientContext): Promise<IssuedCredentials> {
    return this.signIn.loginWithPasskey(response, client);
  }

  private passkeyUseCases(): Passkeys {
    if (!this.passkeys) throw new Error('JTSAuthServer was built without passkeys');
    return this.passkeys;
  }

  private mfa(): SecondFactors {
    if (!this.secondFactors) throw new Error('JTSAuthServer was built without second factors');
    return this.secondFactors;
  }

  /** Mails a link to the new address, or a notice when it is taken; returns before any mail (errors: {@link AccountEmail.requestChange}). */
  requestEmailChange(signIn: SignedIn, newEmail: string): Promise<void> {
    return this.addressChanges().requestChange(signIn, newEmail);
  }

  /** Makes the link's address the account's (errors: {@link AccountEmail.confirmChange}). */
  confirmEmailChange(prn: string, token: string): Promise<{ email: string }> {
    return this.addressChanges().confirmChange(prn, token);
  }

  private addressChanges(): AccountEmail {
    if (!this.accountEmail) throw new Error('JTSAuthServer was built without email or second-factor deps');
    return this.accountEmail;
  }

  /** Changes the password and ends every other session of the user (errors: {@link Account.changePassword}). */
  changePassword(prn: string, currentAid: string, currentPassword: string, newPassword: string): Promise<{ revokedSessions: number }> {
    return this.account.changePassword(prn, currentAid, currentPassword, newPassword);
  }
}
