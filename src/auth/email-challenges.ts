import { randomId } from '../jts/state-proof.js';
import type { ChallengePurpose, TokenRefusal } from '../users/challenges.js';
import type { User } from '../users/types.js';
import { hashCode, hashToken, newCode, newToken, TOKEN_PATTERN } from './challenge-secrets.js';
import type { AuthContext } from './context.js';
import type { EmailFlowDeps } from './email-deps.js';
import { AuthError, type AuthCode } from './errors.js';

export type EmailContext = Pick<AuthContext, 'users' | 'clock' | 'audit'> & EmailFlowDeps;

/** Digits of a sign-in code: 10^6 codes against at most CODE_ATTEMPTS guesses per code. */
export const CODE_DIGITS = 6;
/** Wrong codes before a code is dead (the per-account failure limit throttles across codes). */
export const CODE_ATTEMPTS = 5;

/** Where each link lands: the demo page at the public URL reads the token from the fragment. */
const LINK_FRAGMENT = { 'verify-email': 'verify', 'reset-password': 'reset' } as const;

/**
 * Issues a link challenge for `user` and mails it. The token travels only in the URL fragment
 * (`<PUBLIC_URL>/#reset=<token>`), which browsers never send to a server, so no access log, proxy
 * or Referer ever holds it; the database holds only its SHA-256.
 */
export async function mailLink(context: EmailContext, user: User, purpose: 'verify-email' | 'reset-password'): Promise<void> {
  const { challenges, mailer, clock, audit, emailSettings: settings } = context;
  const token = newToken();
  const lifetime = purpose === 'reset-password' ? settings.resetTokenLifetimeSeconds : settings.verifyTokenLifetimeSeconds;
  const now = clock.now();
  await challenges.issue({ id: randomId(), userId: user.id, purpose, secretHash: hashToken(token), credentialEpoch: user.credentialEpoch, maxAttempts: 1, createdAt: now, expiresAt: now + lifetime * 1000 });
  audit({ event: 'challenge.issued', purpose, prn: user.id });
  mailer.send({ kind: purpose, to: user.email, name: user.name, link: `${settings.publicUrl}/#${LINK_FRAGMENT[purpose]}=${token}`, expiresInMinutes: Math.round(lifetime / 60) });
}

/** Issues a sign-in code for `user` (stored as an HMAC, see challenge-secrets.ts) and mails it. */
export async function mailCode(context: EmailContext, user: User): Promise<void> {
  const { challenges, mailer, clock, audit, emailSettings: settings, codeKey } = context;
  const id = randomId();
  const code = newCode(CODE_DIGITS);
  const now = clock.now();
  const lifetime = settings.loginCodeLifetimeSeconds;
  await challenges.issue({ id, userId: user.id, purpose: 'sign-in-code', secretHash: hashCode(codeKey, id, code), credentialEpoch: user.credentialEpoch, maxAttempts: CODE_ATTEMPTS, createdAt: now, expiresAt: now + lifetime * 1000 });
  audit({ event: 'challenge.issued', purpose: 'sign-in-code', prn: user.id });
  mailer.send({ kind: 'sign-in-code', to: user.email, name: user.name, code, expiresInMinutes: Math.round(lifetime / 60) });
}

/**
 * Answers a request for a mail about `email` the same way whether or not an account exists: the
 * caller answers 202 at once and this runs in the background (lookup, challenge, mail), so neither
 * the body nor the timing depends on the account.
 */
export function inBackground(context: EmailContext, purpose: ChallengePurpose, email: string, send: (user: User) => Promise<void>): void {
  context.background.run(purpose, async () => {
    const user = await context.users.findByEmail(email);
    if (!user || user.disabled) {
      context.audit({ event: 'challenge.skipped', purpose, reason: !user ? 'unknown_email' : 'disabled' });
      return;
    }
    await send(user);
  });
}

const REFUSALS: Record<TokenRefusal, AuthCode> = { invalid: 'token_invalid', expired: 'token_expired', used: 'token_used', voided: 'token_voided' };

/** The error for a refused token, audited. A token of the wrong shape is `invalid` without a lookup. */
export function refuseToken(context: Pick<EmailContext, 'audit'>, purpose: ChallengePurpose, reason: TokenRefusal): AuthError {
  context.audit({ event: 'challenge.refused', purpose, reason });
  return new AuthError(REFUSALS[reason]);
}

/** The stored hash of a presented token, or undefined when it cannot be one of ours (tampered, truncated). */
export function tokenHashOf(token: string): string | undefined {
  return TOKEN_PATTERN.test(token) ? hashToken(token) : undefined;
}
