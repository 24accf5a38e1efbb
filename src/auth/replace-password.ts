import type { UserPatch } from '../users/types.js';
import type { AuthContext } from './context.js';
import { AuthError } from './errors.js';

/** What replacing a password reads. */
export type ReplacePasswordDeps = Pick<AuthContext, 'users' | 'sessions' | 'clock' | 'audit' | 'renewFacts'>;

/**
 * Writes a new password hash (which bumps the credential epoch: BearerPasses of ended sessions are
 * refused, outstanding reset links are void) and ends every session of `prn` but `keepAid`.
 * Sessions end before the write, so a change that fails half-way (503) has ended them rather than
 * left them renewing on a password that changed; and again after it, for a sign-in with the old
 * password that raced the write (one that slips past both is refused at its first renewal by its
 * credential epoch). The kept session is moved to the new epoch. Resolves to the ended aids. Audits `password.changed` or
 * `password.reset`, then `session.revoked` with `reason`.
 *
 * `checkedEpoch`: the credential epoch under which the caller checked the current password (a
 * password change). The write happens only while the account is still at it, decided under the
 * row lock: a reset or first mailbox proof that lands during the change's bcrypt steps is not
 * overwritten by a password its attacker chose (review R1). Otherwise `invalid_credentials`,
 * before any session ends when seen early.
 */
export async function replacePassword(
  deps: ReplacePasswordDeps,
  prn: string,
  patch: UserPatch & { passwordHash: string },
  options: { keepAid?: string; reason: 'password_change' | 'password_reset'; checkedEpoch?: number },
): Promise<string[]> {
  const { users, sessions, clock, audit, renewFacts } = deps;
  const { keepAid, checkedEpoch } = options;
  const assertStillChecked = (epoch: number | undefined): void => {
    if (checkedEpoch !== undefined && epoch !== checkedEpoch) throw new AuthError('invalid_credentials', { message: 'The current password is incorrect.' });
  };
  // The kept session made this change: it moves to the new credential epoch with it, before the
  // mirror does (so no renewal of it in between is refused as a sign-in the change outdated).
  const current = keepAid === undefined && checkedEpoch === undefined ? undefined : await users.get(prn);
  assertStillChecked(current?.credentialEpoch);
  const cause = { reason: options.reason === 'password_change' ? 'password_changed' : 'password_reset', initiator: 'user' } as const;
  const before = await sessions.revokeAll(prn, cause, keepAid, keepAid === undefined ? undefined : current && current.credentialEpoch + 1);
  const result = await users.write(prn, { patch, now: clock.now() }, {
    beforeWrite: (row) => {
      assertStillChecked(row.credentialEpoch);
      return Promise.resolve();
    },
  });
  const written = result.outcome === 'written' ? result.after : undefined;
  // The credential change is published with the second revocation, once the new password is written.
  const ended = [...before, ...(await sessions.revokeAll(prn, { ...cause, credentialChange: result.outcome === 'written' }, keepAid, keepAid === undefined ? undefined : written?.credentialEpoch))];
  renewFacts.forget(prn, ended);
  audit({ event: options.reason === 'password_change' ? 'password.changed' : 'password.reset', prn });
  if (ended.length > 0) audit({ event: 'session.revoked', prn, aids: ended, reason: options.reason });
  return ended;
}
