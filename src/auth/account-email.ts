import { randomId } from '../jts/state-proof.js';
import { normaliseEmail, type User } from '../users/types.js';
import { hashToken, newToken } from './challenge-secrets.js';
import type { AuthContext } from './context.js';
import { refuseToken, tokenHashOf } from './email-challenges.js';
import type { EmailFlowDeps } from './email-deps.js';
import { AuthError } from './errors.js';
import { assertFreshSignIn } from './fresh-auth.js';
import { JtsError } from '../jts/errors.js';
import type { AccountMail, EmailChangedNotice } from './account-mail.js';

/** What changing the address reads. */
export type AccountEmailDeps = Pick<AuthContext, 'users' | 'clock' | 'audit'> &
  Pick<EmailFlowDeps, 'challenges' | 'mailer' | 'background' | 'emailSettings'> & {
    /** JTS_FRESH_AUTH_MAX_AGE: how recent the sign-in asking for a change must be (seconds). */
    freshAuthMaxAgeSeconds: number;
    /** JTS_NOT_ME_TOKEN_LIFETIME: how long the old address may undo the change (seconds). */
    notMeTokenLifetimeSeconds: number;
    /** AuthServerDeps.onEmailChanged. */
    onEmailChanged?: (prn: string, via: 'link' | 'not_me', version: number) => void;
  };

/** The caller's sign-in, as its verified BearerPass says it. */
export interface SignedIn {
  prn: string;
  /** `auth_time`, seconds since the epoch. */
  authTime: number | undefined;
}

/**
 * A signed-in user changes their account's address (README, "Changing the address"). The address
 * is what every reset link and sign-in code is mailed to, so moving it is guarded like a credential:
 *
 * 1. the request needs a fresh sign-in (JTS_FRESH_AUTH_MAX_AGE, as adding a factor does): a stolen
 *    BearerPass or an unattended browser alone cannot redirect the account's mail;
 * 2. nothing changes until the new mailbox proves itself with a single-use link bound to the account
 *    and to that address (challenge purpose `email-change`, only its SHA-256 stored), opened from a
 *    session of the same account — a link forwarded to, or phished from, someone signed in to
 *    another account (or to none) does nothing (better-auth#7196: a change confirmed from any browser);
 * 3. the old address is told, with a "this wasn't me" link that restores it, ends every session and
 *    voids the password (not-me.ts).
 *
 * Whether the new address already has an account is never answered: the request is 202 either way
 * and its work runs after the answer; a taken address is mailed a notice that someone tried.
 */
export class AccountEmail {
  constructor(private readonly deps: AccountEmailDeps) {}

  /**
   * POST /jts/account/email: checks the sign-in's freshness and that `newEmail` differs from the
   * account's address, then mails in the background (see class). Resolves before any mail is sent.
   *
   * Errors: `fresh_auth_required` (StepUpError), `JTS-401-04` (account disabled or gone),
   * `email_unchanged`, `service_unavailable`.
   */
  async requestChange(signIn: SignedIn, newEmail: string): Promise<void> {
    const { users, clock, background } = this.deps;
    assertFreshSignIn(signIn.authTime, clock.now(), this.deps.freshAuthMaxAgeSeconds);
    const email = normaliseEmail(newEmail);
    // The caller's own row only: its read costs the same whatever the new address is.
    const user = await users.get(signIn.prn);
    if (!user || user.disabled) throw new JtsError('JTS-401-04');
    if (user.email === email) throw new AuthError('email_unchanged');
    background.run('email-change', () => this.mailChange(user, email));
  }

  /**
   * POST /jts/account/email/confirm: the link's address becomes the account's, verified. The token
   * must be a live `email-change` link of `prn`'s own account (another account's is `token_invalid`
   * and stays unspent). One atomic use of the link, then one guarded write: the unique index decides
   * between two accounts confirming the same address at once (`email_taken` for the loser, whose link
   * is spent), a password change since the request voids the link. Every other outstanding link or
   * code (they were mailed to the old address) ends; sessions stay (README, "Changing the address").
   *
   * Errors: `token_invalid | token_expired | token_used | token_voided`, `email_taken`, `service_unavailable`.
   */
  async confirmChange(prn: string, token: string): Promise<{ email: string }> {
    const { challenges, clock, users, audit } = this.deps;
    const secretHash = tokenHashOf(token);
    if (secretHash === undefined) throw refuseToken(this.deps, 'email-change', 'invalid');
    const looked = await challenges.inspectToken(secretHash, 'email-change', clock.now());
    if (looked.outcome !== 'consumed') throw refuseToken(this.deps, 'email-change', looked.outcome);
    if (looked.userId !== prn) {
      audit({ event: 'challenge.refused', purpose: 'email-change', reason: 'invalid', prn });
      throw new AuthError('token_invalid');
    }
    const used = await challenges.consumeToken(secretHash, 'email-change', clock.now());
    if (used.outcome !== 'consumed') throw refuseToken(this.deps, 'email-change', used.outcome);
    audit({ event: 'challenge.consumed', purpose: 'email-change', prn });
    const email = used.email;
    const before = await users.get(prn);
    if (email === undefined || !before || before.disabled) throw refuseToken(this.deps, 'email-change', 'voided');
    const result = await users.write(prn, { patch: { email, emailVerified: true }, now: clock.now() }, {
      beforeWrite: (row) => {
        // A password change between the link's use and this write voids the link, as it would have a moment earlier.
        if (row.credentialEpoch !== used.credentialEpoch) throw refuseToken(this.deps, 'email-change', 'voided');
        return Promise.resolve();
      },
    });
    if (result.outcome === 'email_taken') {
      audit({ event: 'email.change_refused', prn, reason: 'email_taken', via: 'link' });
      throw new AuthError('email_taken');
    }
    if (result.outcome !== 'written' || !result.after) throw refuseToken(this.deps, 'email-change', 'voided');
    // Links and codes mailed to the old address must not outlive it there (notices' not-me links do).
    await challenges.endOutstanding(prn, clock.now());
    audit({ event: 'email.changed', prn, via: 'link' });
    this.deps.onEmailChanged?.(prn, 'link', result.after.version);
    const { before: old, after } = result;
    // After the answer: the change stands whether or not the notice could be issued (a failure is logged).
    this.deps.background.run('email-changed', () => this.noticeToOldAddress(old, after));
    return { email: after.email };
  }

  /** After the answer: the confirmation link to a free address, or a notice to a taken one. */
  private async mailChange(user: User, email: string): Promise<void> {
    const { users, challenges, mailer, clock, audit, emailSettings } = this.deps;
    const token = newToken();
    const now = clock.now();
    const lifetime = emailSettings.verifyTokenLifetimeSeconds;
    // Issuing ends the account's previous change link: only the latest address asked for can be
    // confirmed. Issued for a taken address too (its token is never mailed, so it confirms nothing):
    // were the previous link left live there, the requester would learn from their own earlier link
    // whether the address has an account (security review).
    await challenges.issue({ id: randomId(), userId: user.id, purpose: 'email-change', secretHash: hashToken(token), credentialEpoch: user.credentialEpoch, email, maxAttempts: 1, createdAt: now, expiresAt: now + lifetime * 1000 });
    const holder = await users.findByEmail(email);
    if (holder) {
      // Its owner learns that someone tried; the requester learns nothing. No link: there is nothing to confirm.
      audit({ event: 'challenge.skipped', purpose: 'email-change', reason: 'email_taken' });
      mailer.send({ kind: 'email-change-taken', to: holder.email, name: holder.name, appUrl: emailSettings.publicUrl });
      return;
    }
    audit({ event: 'challenge.issued', purpose: 'email-change', prn: user.id });
    mailer.send({ kind: 'email-change', to: email, name: user.name, link: `${emailSettings.publicUrl}/#email-change=${token}`, expiresInMinutes: Math.round(lifetime / 60) });
  }

  /**
   * Mails the old address that it was replaced. When that address was verified, the notice carries
   * a "this wasn't me" link bound to it: followed, it restores the address, ends every session and
   * voids the password (not-me.ts). An unverified old address gets no such link: it may be a typo
   * or someone else's mailbox, and a link there would hand its reader the account. The notice is
   * queued as its intent (the notice outbox), the link minted when it leaves (withUndoLink).
   */
  private noticeToOldAddress(before: User, after: User): Promise<void> {
    const { mailer, clock } = this.deps;
    mailer.send({ kind: 'email-changed', to: before.email, name: after.name, newEmail: maskEmail(after.email), at: clock.now(), userId: after.id, credentialEpoch: after.credentialEpoch, undo: before.emailVerified });
    return Promise.resolve();
  }
}

/** What minting an address-change notice's link reads. */
export type UndoLinkDeps = Pick<AccountEmailDeps, 'challenges' | 'clock' | 'audit' | 'emailSettings' | 'notMeTokenLifetimeSeconds'> & { users: Pick<AccountEmailDeps['users'], 'get'> };

/**
 * The mail of a queued address-change notice: called by whoever delivers it, just before it is
 * sent, so no usable token waits in the outbox. The "this wasn't me" token (when the notice has
 * one) is bound to the old address (`to`) and issued under the epoch of the change, its lifetime
 * counting from the mail's departure; each attempt of a retried mail may issue one (the not-me
 * purpose keeps several live; the unsent ones expire unused). Undefined when the account is gone.
 */
export async function withUndoLink(deps: UndoLinkDeps, notice: EmailChangedNotice): Promise<AccountMail | undefined> {
  const { challenges, clock, audit, emailSettings, notMeTokenLifetimeSeconds: lifetime, users } = deps;
  if (!(await users.get(notice.userId))) return undefined;
  const mail = { kind: 'email-changed', to: notice.to, name: notice.name, newEmail: notice.newEmail, at: notice.at } as const;
  if (!notice.undo) return mail;
  const token = newToken();
  const now = clock.now();
  await challenges.issue({ id: randomId(), userId: notice.userId, purpose: 'not-me', secretHash: hashToken(token), credentialEpoch: notice.credentialEpoch, email: notice.to, maxAttempts: 1, createdAt: now, expiresAt: now + lifetime * 1000 });
  audit({ event: 'challenge.issued', purpose: 'not-me', prn: notice.userId });
  return { ...mail, undo: { link: `${emailSettings.publicUrl}/#not-me=${token}`, expiresInMinutes: Math.round(lifetime / 60) } };
}

/**
 * An address as a notice to another mailbox shows it: enough for its owner to recognise, not
 * enough to hand whoever reads the old mailbox the new one ("ad***@example.com").
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(2, Math.max(1, local.length - 1)))}***${email.slice(at)}`;
}
