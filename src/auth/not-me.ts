import { randomBytes } from 'node:crypto';
import { randomId } from '../jts/state-proof.js';
import type { SignInDeviceStore } from '../users/sign-in-devices.js';
import { hashToken, newToken } from './challenge-secrets.js';
import type { AuthContext } from './context.js';
import { refuseToken, tokenHashOf } from './email-challenges.js';
import type { EmailFlowDeps } from './email-deps.js';
import { replacePassword } from './replace-password.js';

/** What answering a "this wasn't me" link reads. */
export type NotMeDeps = Pick<AuthContext, 'users' | 'sessions' | 'clock' | 'audit' | 'renewFacts' | 'hasher'> &
  Pick<EmailFlowDeps, 'challenges' | 'emailSettings'> & {
    /** The notices' device store, when notices are on: the account's known devices are forgotten. */
    devices?: Pick<SignInDeviceStore, 'forget'>;
    /** AuthServerDeps.onEmailChanged: told when the link restored an address. */
    onEmailChanged?: (prn: string, via: 'not_me', version: number) => void;
  };

/** What the page needs to go straight to "choose a new password". */
export type NotMeAnswer =
  | {
      /** Sessions ended. */
      revoked: number;
      /** A reset-password token, as a reset link carries (POST /jts/password/reset). */
      resetToken: string;
      /** Seconds the reset token works (JTS_RESET_TOKEN_LIFETIME). */
      expiresIn: number;
    }
  /** The password changed since the notice: sessions ended, no reset token ("forgot password" instead). */
  | { revoked: number };

/**
 * POST /jts/not-me: the owner says a new sign-in notice's sign-in was not theirs. Consumes the
 * notice's single-use token (purpose `not-me`; it outlives a password change, see
 * NOTICE_TOKEN_PURPOSES), then, as a reset does, replaces the password — by a random one, since
 * whoever signed in knows the current one — which ends every session of the account (revokeAll,
 * published on the security-event feed with the credential change) and voids every other link.
 * The holder proved the mailbox as with a reset link, so the answer carries a fresh reset token:
 * the page asks for the new password at once, and nothing more is mailed — but only while the
 * password is the one the notice was issued under. After a change (the owner's reset, or the
 * thief's change) the link still ends every session and voids the password, yet answers no reset
 * token: a notice mail kept from a mailbox the owner has since secured must not set the password,
 * which a reset link of that time no longer could either; the owner uses "forgot password". Second factors and
 * passkeys stay as they are (README, "Security notices"). The account's known devices are forgotten:
 * each one's next sign-in, the owner's included, mails a notice again.
 *
 * An address-change notice's link (account-email.ts) is bound to the old address and first restores
 * it as the account's — unless another account took it meanwhile (then the rest happens without it,
 * audited as `email.change_refused`).
 *
 * Errors: `token_invalid | token_expired | token_used` (used, or replaced by a newer notice's),
 * `token_voided` (the account is gone or disabled), `service_unavailable`.
 */
export async function reportNotMe(deps: NotMeDeps, token: string): Promise<NotMeAnswer> {
  const { challenges, clock, users, hasher, audit, emailSettings } = deps;
  const secretHash = tokenHashOf(token);
  if (secretHash === undefined) throw refuseToken(deps, 'not-me', 'invalid');
  // A dead link costs no bcrypt: looked at first, consumed after the hash is ready.
  const looked = await challenges.inspectToken(secretHash, 'not-me', clock.now());
  if (looked.outcome !== 'consumed') throw refuseToken(deps, 'not-me', looked.outcome);
  const passwordHash = await hasher.hash(randomBytes(32).toString('base64url'));
  const used = await challenges.consumeToken(secretHash, 'not-me', clock.now());
  if (used.outcome !== 'consumed') throw refuseToken(deps, 'not-me', used.outcome);
  const user = await users.get(used.userId);
  if (!user || user.disabled) throw refuseToken(deps, 'not-me', 'voided');
  audit({ event: 'challenge.consumed', purpose: 'not-me', prn: user.id });
  const sameCredential = used.credentialEpoch === user.credentialEpoch;
  // The password first, the address after: the new credential epoch voids a pending address change,
  // so a confirmation racing this link either landed before (and the restore below overwrites it) or
  // is refused — with the address restored first, one landing in between kept the account (review).
  const ended = await replacePassword(deps, user.id, { passwordHash, emailVerified: true }, { reason: 'password_reset' });
  if (used.email !== undefined) {
    const current = await users.get(user.id);
    if (current !== undefined && current.email !== used.email) await restoreAddress(deps, user.id, used.email);
  }
  // The intruder's device was recorded as known by the sign-in reported here: forgotten with every
  // other, so a later sign-in of it (with a password it stole again) is noticed again.
  await deps.devices?.forget(user.id);
  if (!sameCredential) {
    audit({ event: 'sign_in.reported', prn: user.id, revoked: ended.length });
    return { revoked: ended.length };
  }
  // Issued under the new credential epoch, so the reset the page sends next is not void.
  const latest = (await users.get(user.id)) ?? user;
  const resetToken = newToken();
  const now = clock.now();
  const lifetime = emailSettings.resetTokenLifetimeSeconds;
  await challenges.issue({ id: randomId(), userId: user.id, purpose: 'reset-password', secretHash: hashToken(resetToken), credentialEpoch: latest.credentialEpoch, maxAttempts: 1, createdAt: now, expiresAt: now + lifetime * 1000 });
  audit({ event: 'challenge.issued', purpose: 'reset-password', prn: user.id });
  audit({ event: 'sign_in.reported', prn: user.id, revoked: ended.length });
  return { revoked: ended.length, resetToken, expiresIn: lifetime };
}

/** Makes `email` (the link's old address) the account's again: its mailbox just proved itself. */
async function restoreAddress(deps: Pick<NotMeDeps, 'users' | 'clock' | 'audit' | 'onEmailChanged'>, prn: string, email: string): Promise<void> {
  const result = await deps.users.write(prn, { patch: { email, emailVerified: true }, now: deps.clock.now() }, {});
  if (result.outcome === 'email_taken') deps.audit({ event: 'email.change_refused', prn, reason: 'email_taken', via: 'not_me' });
  if (result.outcome !== 'written' || !result.after) return;
  deps.audit({ event: 'email.changed', prn, via: 'not_me' });
  deps.onEmailChanged?.(prn, 'not_me', result.after.version);
}
