import type { SecondFactorMethod } from './errors.js';
import type { FirstFactor } from '../users/factors.js';

/**
 * RFC 8176 Authentication Method Reference values this server records: `pwd` a password, `otp` a
 * one-time code (emailed, TOTP or recovery code), `mfa` more than one factor. Passkeys add
 * `hwk`/`swk`.
 */
export type AuthMethod = 'pwd' | 'otp' | 'mfa';

/**
 * The `amr` (Authentication Methods References, RFC 8176) of a sign-in, computed in this one place
 * from how it was made:
 *
 * - `pwd`: a password. An emailed sign-in code is `otp` (RFC 8176: "one-time password"); RFC 8176
 *   has no value for "sent by email".
 * - A TOTP code is `otp` (RFC 8176 names RFC 6238 under `otp`).
 * - A recovery code is also `otp`: it is a one-time password in RFC 8176's sense (a secret valid
 *   for a single use), NIST SP 800-63B calls it a look-up secret, and no registered value is closer
 *   (`kba` means questions about the person, `swk`/`hwk` a key). The audit line (`mfa.succeeded`,
 *   `method: recovery_code`) tells the two apart.
 * - `mfa` whenever a second factor of another kind completed the sign-in (RFC 8176 §2).
 *
 * Order: first factor, second factor, `mfa`; no duplicates.
 */
export function amrOf(first: FirstFactor, second?: SecondFactorMethod): AuthMethod[] {
  const methods: AuthMethod[] = [first === 'pwd' ? 'pwd' : 'otp'];
  if (second !== undefined) methods.push('otp', 'mfa');
  return [...new Set(methods)];
}
