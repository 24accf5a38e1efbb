import type { SecondFactorMethod } from './errors.js';
import type { FirstFactor } from '../users/factors.js';

/**
 * RFC 8176 Authentication Method Reference values this server records: `pwd` a password, `otp` a
 * one-time code (emailed, TOTP or recovery code), `swk` a passkey, `user` the passkey's
 * authenticator verified its user, `mfa` more than one factor.
 */
export type AuthMethod = 'pwd' | 'otp' | 'swk' | 'user' | 'mfa';

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
export function amrOf(first: FirstFactor, second?: Exclude<SecondFactorMethod, 'webauthn'>): AuthMethod[] {
  const methods: AuthMethod[] = [first === 'pwd' ? 'pwd' : 'otp'];
  if (second !== undefined) methods.push('otp', 'mfa');
  return [...new Set(methods)];
}

/**
 * The `amr` of a sign-in with a passkey, alone (`first` undefined) or after a first factor:
 *
 * - `swk`, not `hwk`: RFC 8176 `hwk` is proof of possession of a hardware-secured key. We ask for
 *   no attestation (and could not check one without a metadata service), and synced passkeys live
 *   in password managers anyway, so all we know is "a key the user holds": `swk`.
 * - `user` when the authenticator set the UV flag (a PIN or biometric check on the device): RFC
 *   8176 `user` is a test that the user is present and interacting; we cannot tell which check it
 *   was, so `pin`, `fpt` or `face` would claim more than we know.
 * - `mfa` when the passkey was a second factor, or alone with user verification: possession of
 *   the key plus the device's PIN or biometric are two factors (NIST SP 800-63B §5.1.9,
 *   multi-factor cryptographic authenticator). A passwordless sign-in always requires it.
 *
 * Alone: `swk, user, mfa`. After a password: `pwd, swk, mfa` (plus `user` before `mfa` when verified).
 */
export function amrOfPasskey(userVerified: boolean, first?: FirstFactor): AuthMethod[] {
  const methods: AuthMethod[] = first === undefined ? [] : amrOf(first);
  methods.push('swk');
  if (userVerified) methods.push('user');
  if (first !== undefined || userVerified) methods.push('mfa');
  return methods;
}
