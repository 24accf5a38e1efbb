import { JtsError } from '../jts/errors.js';
import { normalisePassword } from '../users/password.js';
import { assertAcceptablePassword, assertCheckablePassword } from './password-rules.js';
import type { AccountMailer } from './account-mail.js';
import type { AuthContext } from './context.js';
import { AuthError } from './errors.js';
import { replacePassword } from './replace-password.js';

/** What account changes read; with `notices`, each change is mailed to the account (README, "Account-change notices"). */
export type AccountDeps = Pick<AuthContext, 'users' | 'hasher' | 'sessions' | 'clock' | 'audit' | 'renewFacts'> & { notices?: { mailer: AccountMailer; appUrl: string } };

/** What a signed-in user changes about their own account. */
export class Account {
  constructor(private readonly deps: AccountDeps) {}

  /**
   * Changes the password of `prn` after checking `currentPassword`, then ends every other
   * session of the user (the one calling, `currentAid`, stays). Resolves to how many ended.
   *
   * Errors, in this order: `invalid_request` (a current password bcrypt cannot check, then the
   * new password's problem), `JTS-401-04` (the user is disabled or gone), `invalid_credentials`
   * (wrong current password), `password_rejected` (the new password is the current one, compared
   * after NFKC normalisation), `service_unavailable`.
   */
  async changePassword(prn: string, currentAid: string, currentPassword: string, newPassword: string): Promise<{ revokedSessions: number }> {
    const { users, hasher } = this.deps;
    assertCheckablePassword(currentPassword);
    assertAcceptablePassword(newPassword);
    const user = await users.get(prn);
    if (!user || user.disabled) throw new JtsError('JTS-401-04');
    if ((await hasher.verify(currentPassword, user.passwordHash)) === 'mismatch') {
      throw new AuthError('invalid_credentials', { message: 'The current password is incorrect.' });
    }
    // After the check, so the answer tells nothing a wrong guess could use. Compared as bcrypt sees
    // them (NFKC): "changing" to the same password would end every other session and change nothing.
    if (normalisePassword(newPassword) === normalisePassword(currentPassword)) {
      throw new AuthError('password_rejected', { message: 'The new password is the current one: choose another.' });
    }
    const passwordHash = await hasher.hash(newPassword);
    const ended = await replacePassword(this.deps, prn, { passwordHash }, { keepAid: currentAid, reason: 'password_change', checkedEpoch: user.credentialEpoch });
    const { notices } = this.deps;
    notices?.mailer.send({ kind: 'password-changed', to: user.email, name: user.name, signedOut: ended.length, appUrl: notices.appUrl });
    return { revokedSessions: ended.length };
  }
}
