import { JtsError } from '../jts/errors.js';
import { assertAcceptablePassword, assertCheckablePassword } from './password-rules.js';
import type { AuthContext } from './context.js';
import { AuthError } from './errors.js';

/** What account changes read. */
export type AccountDeps = Pick<AuthContext, 'users' | 'hasher' | 'sessions' | 'clock' | 'audit' | 'renewFacts'>;

/** What a signed-in user changes about their own account. */
export class Account {
  constructor(private readonly deps: AccountDeps) {}

  /**
   * Changes the password of `prn` after checking `currentPassword`, then ends every other
   * session of the user (the one calling, `currentAid`, stays). Resolves to how many ended.
   *
   * Errors, in this order: `invalid_request` (a current password bcrypt cannot check, then the
   * new password's problem), `JTS-401-04` (the user is disabled or gone), `invalid_credentials`
   * (wrong current password), `service_unavailable`.
   */
  async changePassword(prn: string, currentAid: string, currentPassword: string, newPassword: string): Promise<{ revokedSessions: number }> {
    const { users, hasher, sessions, clock, audit, renewFacts } = this.deps;
    assertCheckablePassword(currentPassword);
    assertAcceptablePassword(newPassword);
    const user = await users.get(prn);
    if (!user || user.disabled) throw new JtsError('JTS-401-04');
    if ((await hasher.verify(currentPassword, user.passwordHash)) === 'mismatch') {
      throw new AuthError('invalid_credentials', { message: 'The current password is incorrect.' });
    }
    const passwordHash = await hasher.hash(newPassword);
    // Other sessions end before the new password is written, so a change that fails half-way
    // (503) has ended them rather than left them renewing on a password that changed; and again
    // after it, for a sign-in with the old password that raced the write.
    const before = await sessions.revokeAll(prn, currentAid);
    await users.update(prn, { passwordHash }, clock.now());
    const ended = [...before, ...(await sessions.revokeAll(prn, currentAid))];
    renewFacts.forget(prn, ended);
    audit({ event: 'password.changed', prn });
    if (ended.length > 0) audit({ event: 'session.revoked', prn, aids: ended, reason: 'password_change' });
    return { revokedSessions: ended.length };
  }
}
