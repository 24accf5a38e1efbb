import { randomBytes } from 'node:crypto';
import type { User } from '../users/types.js';
import { hashCode } from './challenge-secrets.js';
import type { ClientContext } from './client-info.js';
import type { AuthContext } from './context.js';
import type { IssuedCredentials } from './credentials.js';
import { inBackground, mailCode, mailLink, refuseToken, tokenHashOf, type EmailContext } from './email-challenges.js';
import type { EmailFlowDeps } from './email-deps.js';
import { AuthError } from './errors.js';
import { ensureMirror } from './mirrored-users.js';
import { amrOf } from './amr.js';
import { openSession } from './open-session.js';
import { assertAcceptablePassword } from './password-rules.js';
import { replacePassword } from './replace-password.js';
import type { SecondFactors } from './second-factor.js';
import { confirmCredentialsStillValid } from './sign-in.js';

/** What the email flows read: the shared auth context plus the challenge store, mailer and settings. */
export type EmailFlowsContext = AuthContext & EmailFlowDeps & { secondFactors?: SecondFactors };

/**
 * Password reset, email verification and sign-in by emailed code (README, "Email recovery"). Every
 * request for a mail returns before any work (see inBackground); every use of a link or code is one
 * atomic step of the challenge store.
 */
export class EmailFlows {
  private readonly context: EmailContext;

  constructor(private readonly deps: EmailFlowsContext) {
    this.context = deps;
  }

  /** POST /jts/password/forgot: mails a reset link when `email` has an enabled account. Never throws. */
  forgotPassword(email: string): void {
    inBackground(this.context, 'reset-password', email, (user) => mailLink(this.context, user, 'reset-password'));
  }

  /**
   * POST /jts/password/reset: sets `newPassword` for the token's account and ends every session of
   * it (the epoch bump also voids every other reset link). Resolves to how many sessions ended.
   *
   * Errors, in this order: `password_rejected` (the policy), `token_invalid | token_expired |
   * token_used | token_voided` (checked before the password is hashed, and again atomically when
   * consumed after it), `service_unavailable`.
   */
  async resetPassword(token: string, newPassword: string): Promise<{ revoked: number }> {
    const { challenges, clock, hasher, users, audit } = this.deps;
    assertAcceptablePassword(newPassword);
    const secretHash = tokenHashOf(token);
    if (secretHash === undefined) throw refuseToken(this.context, 'reset-password', 'invalid');
    // A cheap look first: a dead link costs no bcrypt.
    const looked = await challenges.inspectToken(secretHash, 'reset-password', clock.now());
    if (looked.outcome !== 'consumed') throw refuseToken(this.context, 'reset-password', looked.outcome);
    const passwordHash = await hasher.hash(newPassword);
    const used = await challenges.consumeToken(secretHash, 'reset-password', clock.now());
    if (used.outcome !== 'consumed') throw refuseToken(this.context, 'reset-password', used.outcome);
    const user = await users.get(used.userId);
    if (!user || user.disabled) throw refuseToken(this.context, 'reset-password', 'voided');
    audit({ event: 'challenge.consumed', purpose: 'reset-password', prn: user.id });
    // Opening the link proved the mailbox, so the address counts as verified from here on.
    const ended = await replacePassword(this.deps, user.id, { passwordHash, emailVerified: true }, { reason: 'password_reset' });
    this.deps.mailer.send({ kind: 'password-reset-completed', to: user.email, name: user.name, appUrl: this.deps.emailSettings.publicUrl });
    return { revoked: ended.length };
  }

  /**
   * POST /jts/email/verify: marks the token's address verified. The first proof of an address also
   * ends a possible pre-hijack (review M1, as the first code sign-in does): unless the request
   * also shows the account's password — `proof.prn` is a live session of the token's own account
   * (the registrant verifying where they signed up), or `proof.password` is the account's
   * password (with JTS_EMAIL_VERIFICATION=required, where the registrant has no session) — the
   * password set before the mailbox was proven is voided and every session ends (see
   * firstMailboxProof); the owner then sets one with "forgot password". Resolves to whether that
   * happened (`passwordReset: 'required'`).
   *
   * Errors: the token's four (checked before the password, so a dead link costs no bcrypt),
   * `invalid_credentials` (a wrong `proof.password`; the link is not spent), `service_unavailable`.
   */
  async verifyEmail(token: string, proof: { prn?: string; password?: string } = {}): Promise<{ passwordReset: 'required' | 'not_required' }> {
    const { challenges, clock, users, audit } = this.deps;
    const secretHash = tokenHashOf(token);
    if (secretHash === undefined) throw refuseToken(this.context, 'verify-email', 'invalid');
    if (proof.password !== undefined) await this.assertPasswordOfLink(secretHash, proof.password);
    const used = await challenges.consumeToken(secretHash, 'verify-email', clock.now());
    if (used.outcome !== 'consumed') throw refuseToken(this.context, 'verify-email', used.outcome);
    audit({ event: 'challenge.consumed', purpose: 'verify-email', prn: used.userId });
    const user = await users.get(used.userId);
    if (!user || user.disabled) throw refuseToken(this.context, 'verify-email', 'voided');
    if (user.emailVerified) return { passwordReset: 'not_required' };
    // The password checked above is still the one set: the token carried the current credential epoch.
    const own = proof.password !== undefined || proof.prn === user.id;
    if (own) await users.update(user.id, { emailVerified: true }, clock.now());
    else await this.firstMailboxProof(user);
    audit({ event: 'email.verified', prn: used.userId });
    this.deps.mailer.send({ kind: 'email-verified', to: user.email, name: user.name, appUrl: this.deps.emailSettings.publicUrl });
    return { passwordReset: own ? 'not_required' : 'required' };
  }

  /** Resolves when `password` is that of the live link's account: a dead link is refused first, a wrong password is `invalid_credentials`. */
  private async assertPasswordOfLink(secretHash: string, password: string): Promise<void> {
    const { challenges, clock, users, hasher, audit } = this.deps;
    const looked = await challenges.inspectToken(secretHash, 'verify-email', clock.now());
    if (looked.outcome !== 'consumed') throw refuseToken(this.context, 'verify-email', looked.outcome);
    const user = await users.get(looked.userId);
    if (user && (await hasher.verify(password, user.passwordHash)) !== 'mismatch') return;
    audit({ event: 'login.failed', reason: 'wrong_password', prn: looked.userId });
    throw new AuthError('invalid_credentials');
  }

  /** Mails `user` a verification link in the background (after registration, a refused sign-in, a resend). */
  startVerification(user: Pick<User, 'id'>): void {
    this.deps.background.run('verify-email', async () => {
      const latest = await this.deps.users.get(user.id);
      if (!latest || latest.disabled) return;
      if (latest.emailVerified) {
        this.deps.audit({ event: 'challenge.skipped', purpose: 'verify-email', reason: 'already_verified' });
        return;
      }
      await mailLink(this.context, latest, 'verify-email');
    });
  }

  /** POST /jts/login/code: mails a sign-in code when `email` has an enabled account. Never throws. */
  requestSignInCode(email: string): void {
    inBackground(this.context, 'sign-in-code', email, (user) => mailCode(this.context, user));
  }

  /**
   * POST /jts/login/code/verify: the same session and answer as a password login. The code also
   * proves the mailbox, so the address counts as verified. Errors: `code_invalid` (wrong, expired,
   * used up, superseded, or no such account: one answer), `mfa_required` (a second factor is
   * confirmed: as at a password login), `service_unavailable`.
   */
  async signInWithCode(email: string, code: string, client: ClientContext): Promise<IssuedCredentials> {
    const { users, challenges, clock, audit, codeKey } = this.deps;
    const user = await users.findByEmail(email);
    // The same two queries whether or not the account exists: no timing difference to measure.
    const found = await challenges.liveCode(user?.id ?? '', 'sign-in-code', clock.now());
    const live = user && !user.disabled ? found : undefined;
    if (!user || !live) {
      audit({ event: 'challenge.refused', purpose: 'sign-in-code', reason: 'no_code', ...(user ? { prn: user.id } : {}) });
      throw new AuthError('code_invalid');
    }
    const use = await challenges.useCode(live.id, hashCode(codeKey, live.id, code), clock.now());
    if (use.outcome !== 'consumed') {
      audit({ event: 'challenge.refused', purpose: 'sign-in-code', reason: use.outcome === 'wrong' ? 'wrong_code' : 'no_code', prn: user.id });
      throw new AuthError('code_invalid');
    }
    audit({ event: 'challenge.consumed', purpose: 'sign-in-code', prn: user.id });
    const verified = user.emailVerified ? user : await this.firstMailboxProof(user);
    // The code replaces the password, not the second factor (else it would be a way around it).
    await this.deps.secondFactors?.requireIfEnrolled(verified, client, 'email_code');
    // Redis may have come back empty: the mirror renewals read is rebuilt here, as at a password login.
    await ensureMirror(this.deps, verified);
    const issued = await openSession(this.deps, verified, client, 'login.succeeded', amrOf('email_code'));
    await confirmCredentialsStillValid(this.deps, verified, issued);
    return issued;
  }

  /**
   * The first proof that the account's owner reads its mailbox (account pre-hijacking, review M1):
   * whoever registered the address without owning it must lose the account, so the unproven
   * password is replaced by a random one (the owner sets theirs with "forgot password") and every
   * session ends, before the address counts as verified.
   */
  private async firstMailboxProof(user: User): Promise<User> {
    const passwordHash = await this.deps.hasher.hash(randomBytes(32).toString('base64url'));
    await replacePassword(this.deps, user.id, { emailVerified: true, passwordHash }, { reason: 'password_reset' });
    return (await this.deps.users.get(user.id)) ?? user;
  }
}
