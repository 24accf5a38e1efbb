import { newUser } from '../users/new-user.js';
import { ensureMirror } from './mirrored-users.js';
import { assertAcceptablePassword, assertCheckablePassword } from './password-rules.js';
import type { User } from '../users/types.js';
import type { ClientContext } from './client-info.js';
import type { AuthContext, AuthServerSettings } from './context.js';
import type { IssuedCredentials } from './credentials.js';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { amrOf, amrOfPasskey } from './amr.js';
import { openSession, type OpenSessionDeps } from './open-session.js';
import { AuthError } from './errors.js';
import type { Passkeys } from './passkeys.js';
import type { SecondFactorProof, SecondFactors } from './second-factor.js';
import type { SignInRisk } from './sign-in-risk.js';

/** What sign-in reads: the user store and hasher, plus what opening a session needs. */
export interface SignInDeps extends OpenSessionDeps, Pick<AuthContext, 'users' | 'hasher'> {
  settings: Pick<AuthServerSettings, 'sessionPolicy' | 'stateProofLifetimeSeconds' | 'allowRegistration'>;
  /**
   * Present with JTS_EMAIL_VERIFICATION=required: an account whose address is not verified opens
   * no session; this mails it a fresh link and the sign-in answers `email_unverified`.
   */
  requireVerifiedEmail?: (user: User) => void;
  /** Second factors (second-factor.ts); absent: no account is asked for one. */
  secondFactors?: SecondFactors;
  /** Passkeys (passkeys.ts); absent: no passwordless sign-in. */
  passkeys?: Passkeys;
  /** Risk-based step-up (sign-in-risk.ts); absent: JTS_RISK_FAILED_SIGN_INS=off. */
  risk?: SignInRisk;
}

/** A registration as the HTTP layer validated it (lengths, email shape); the password is checked here. */
export interface RegistrationInput {
  email: string;
  password: string;
  name: string;
}

/** What a new account may do until an administrator grants more. */
const NEW_ACCOUNT_PERMISSIONS = ['read:profile'] as const;

/**
 * Sign-in, as a short sequence of steps, each a function below or in open-session.ts:
 *
 *     login:     verifyPassword → [second factor enrolled: mfa_required, stop] → openSession → confirmCredentialsStillValid
 *     mfa:       SecondFactors.verify (ticket + code or passkey) → openSession → confirmCredentialsStillValid
 *     passkey:   Passkeys.authenticate (a discoverable credential, user verified) → openSession → confirmCredentialsStillValid
 *     register:  createAccount → openSession
 *
 * A step that must stand between a verified password and a session (an emailed code, a second
 * factor) is one more function called between the first two; renewal never sees it.
 */
export class SignIn {
  constructor(private readonly deps: SignInDeps) {}

  /**
   * Errors: `invalid_request` (a password bcrypt cannot check), `invalid_credentials`,
   * `mfa_required` (MfaRequiredError: the password was right, the account has a second factor),
   * `mfa_enrollment_required` (MfaEnrollmentRequiredError: the password was right, the account must
   * have a second factor and has none), `email_code_required` (risk step-up, sign-in-risk.ts: many
   * failures from unknown devices; answered for a right or a wrong password alike),
   * `service_unavailable`.
   */
  async login(email: string, password: string, client: ClientContext): Promise<IssuedCredentials> {
    const { risk } = this.deps;
    const stepUp = (await risk?.stepUpRequired(email, client)) ?? false;
    const user = await verifyPassword(this.deps, email, password, async (prn) => {
      await risk?.failed(email, prn, client);
      if (!stepUp) return;
      this.deps.audit({ event: 'risk.step_up', ...(prn === undefined ? {} : { prn }) });
      throw new AuthError('email_code_required');
    });
    if (stepUp) {
      this.deps.audit({ event: 'risk.step_up', prn: user.id });
      throw new AuthError('email_code_required');
    }
    assertVerified(this.deps, user);
    await this.deps.secondFactors?.requireIfEnrolled(user, client, 'pwd');
    // Redis may have come back empty: the mirror renewals read is rebuilt from PostgreSQL here.
    await ensureMirror(this.deps, user);
    const issued = await openSession(this.deps, user, client, 'login.succeeded', amrOf('pwd'));
    await confirmCredentialsStillValid(this.deps, user, issued);
    return issued;
  }

  /**
   * Completes a sign-in stopped by `mfa_required` with its ticket and a second factor: the same
   * session and answer as a login. Errors: those of {@link SecondFactors.verify}, `invalid_credentials`
   * (the password changed meanwhile), `service_unavailable`.
   */
  async completeWithSecondFactor(ticket: string, proof: SecondFactorProof, client: ClientContext): Promise<IssuedCredentials> {
    if (!this.deps.secondFactors) throw new Error('SignIn was built without second factors');
    const { user, amr } = await this.deps.secondFactors.verify(ticket, proof, client);
    await ensureMirror(this.deps, user);
    const issued = await openSession(this.deps, user, client, 'login.succeeded', amr);
    await confirmCredentialsStillValid(this.deps, user, issued);
    return issued;
  }

  /**
   * Signs in with a passkey alone: the same session, answer, audit and checks as a login; `amr`
   * `swk, user, mfa` (amr.ts). Errors: those of {@link Passkeys.authenticate}, `email_unverified`
   * (JTS_EMAIL_VERIFICATION=required), `invalid_credentials` (disabled or password changed meanwhile),
   * `service_unavailable`.
   */
  async loginWithPasskey(response: AuthenticationResponseJSON, client: ClientContext): Promise<IssuedCredentials> {
    if (!this.deps.passkeys) throw new Error('SignIn was built without passkeys');
    const { user, userVerified } = await this.deps.passkeys.authenticate(response, client);
    assertVerified(this.deps, user);
    await ensureMirror(this.deps, user);
    const issued = await openSession(this.deps, user, client, 'login.succeeded', amrOfPasskey(userVerified));
    await confirmCredentialsStillValid(this.deps, user, issued);
    return issued;
  }

  /**
   * Completes a sign-in stopped by `mfa_enrollment_required`: confirms the authenticator enrolled
   * with the ticket (POST /jts/mfa/totp) by its first code, then opens the session as a login does.
   * Resolves to the login answer and the ten recovery codes. Errors: those of
   * {@link SecondFactors.confirmTotpWithTicket}, `invalid_credentials` (the password changed
   * meanwhile), `service_unavailable`.
   */
  async completeWithEnrolment(ticket: string, code: string, client: ClientContext): Promise<{ issued: IssuedCredentials; recoveryCodes: string[] }> {
    if (!this.deps.secondFactors) throw new Error('SignIn was built without second factors');
    const { user, amr, recoveryCodes } = await this.deps.secondFactors.confirmTotpWithTicket(ticket, code, client);
    await ensureMirror(this.deps, user);
    const issued = await openSession(this.deps, user, client, 'login.succeeded', amr);
    await confirmCredentialsStillValid(this.deps, user, issued);
    return { issued, recoveryCodes };
  }

  /**
   * Errors: `registration_closed`, `invalid_request` (the password's problem), `email_taken`,
   * `email_unverified` (JTS_EMAIL_VERIFICATION=required: the account exists, a link was mailed, no
   * session yet), `service_unavailable`.
   */
  async register(input: RegistrationInput, client: ClientContext): Promise<IssuedCredentials> {
    const user = await createAccount(this.deps, input);
    assertVerified(this.deps, user);
    try {
      return await openSession(this.deps, user, client, 'register', amrOf('pwd'));
    } catch (error) {
      // No session, no account: undone, so the client's retry registers instead of meeting email_taken.
      await this.deps.users.discardNew(user.id, user.version);
      throw error;
    }
  }
}

/** With verification required, an unverified account gets a fresh link and `email_unverified` instead of a session. */
function assertVerified(deps: Pick<SignInDeps, 'requireVerifiedEmail'>, user: User): void {
  if (deps.requireVerifiedEmail === undefined || user.emailVerified) return;
  deps.requireVerifiedEmail(user);
  throw new AuthError('email_unverified');
}

/**
 * Finds the user by email and checks the password: always one bcrypt comparison, whether or
 * not the email exists (invariant 9). Unknown email, wrong password and disabled account are the
 * same `invalid_credentials` to the client and differ only in the `login.failed` audit.
 * A password bcrypt could check only truncated is `invalid_request` before any lookup.
 * `onFailure` is told of a failure (with the account's id when it exists) before it is answered.
 * A hash made before passwords were normalised is replaced by one of the normalised form once it
 * matched (upgradeLegacyHash); the user returned carries the hash now stored.
 */
export async function verifyPassword(deps: Pick<SignInDeps, 'users' | 'hasher' | 'audit'>, email: string, password: string, onFailure?: (prn: string | undefined) => Promise<void>): Promise<User> {
  const { users, hasher, audit } = deps;
  assertCheckablePassword(password);
  const user = await users.findByEmail(email);
  const verdict = await hasher.verify(password, user?.passwordHash);
  if (!user || verdict === 'mismatch' || user.disabled) {
    audit({ event: 'login.failed', reason: !user ? 'unknown_email' : verdict === 'mismatch' ? 'wrong_password' : 'disabled', ...(user ? { prn: user.id } : {}) });
    // May throw its own answer instead (the risk step-up's), after counting the failure.
    await onFailure?.(user?.id);
    throw new AuthError('invalid_credentials');
  }
  return verdict === 'legacy_match' ? upgradeLegacyHash(deps, user, password) : user;
}

/**
 * Stores a hash of the normalised password in place of the legacy hash of the text as sent, so the
 * same password in another Unicode form works from now on. Not a password change: the credential
 * epoch stays and no session ends (UserStore.upgradePasswordHash). When the hash changed meanwhile
 * (a password change won), nothing is written and the caller's later checks decide.
 */
async function upgradeLegacyHash(deps: Pick<SignInDeps, 'users' | 'hasher' | 'audit'>, user: User, password: string): Promise<User> {
  const passwordHash = await deps.hasher.hash(password);
  if (!(await deps.users.upgradePasswordHash(user.id, user.passwordHash, passwordHash))) return user;
  deps.audit({ event: 'password.rehashed', prn: user.id });
  return { ...user, passwordHash };
}

/**
 * Stores a new account (see newUser) when registration is open and the password acceptable.
 * Errors, in this order: `registration_closed`, `invalid_request` with the password's problem,
 * `email_taken` (checked by the store, whatever the email's case).
 */
export async function createAccount(deps: Pick<SignInDeps, 'users' | 'hasher' | 'clock' | 'settings'>, input: RegistrationInput): Promise<User> {
  const { users, hasher, clock, settings } = deps;
  if (!settings.allowRegistration) throw new AuthError('registration_closed');
  assertAcceptablePassword(input.password);
  const now = clock.now();
  const user = newUser({ email: input.email, name: input.name, passwordHash: await hasher.hash(input.password), permissions: NEW_ACCOUNT_PERMISSIONS }, now);
  if ((await users.create(user)) === 'email_taken') throw new AuthError('email_taken');
  return user;
}

/**
 * A password change or a disable that lands while this login was inside bcrypt ends every
 * session that exists at that moment — but not one created just after. Reading the user again
 * once the session exists closes that gap: either the change's revocation sees our session, or
 * we see the change (both steps are atomic in the store, so one of the two must happen). A change
 * is recognised by the credential epoch, not the hash: upgrading a legacy hash (another login's)
 * changes the hash but not the password.
 * When we see it, the new session is revoked and the login answers `invalid_credentials`.
 */
export async function confirmCredentialsStillValid(deps: Pick<SignInDeps, 'users' | 'sessions' | 'renewFacts'>, user: User, issued: IssuedCredentials): Promise<void> {
  const latest = await deps.users.get(user.id);
  if (latest && !latest.disabled && latest.credentialEpoch === user.credentialEpoch) return;
  deps.renewFacts.delete(issued.prn, issued.aid);
  await deps.sessions.revoke(issued.prn, issued.aid, latest?.disabled === false ? { reason: 'password_changed', initiator: 'system' } : { reason: latest ? 'user_disabled' : 'user_deleted', initiator: 'admin' });
  throw new AuthError('invalid_credentials');
}
