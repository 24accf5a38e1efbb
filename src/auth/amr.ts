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

/** What a step-up (POST /jts/reauth) proved: the password, or a code of the account's (passkeys do not step up yet). */
export type StepUpProof = 'pwd' | Exclude<SecondFactorMethod, 'webauthn'>;

/**
 * The `amr` of a step-up on a session signed in with `signInAmr` (undefined: stored before amr
 * was). The rule: a step-up claims what it proved now, plus the session's first factor only when
 * it proved a second factor on top of it.
 *
 * - The password: `['pwd']`, whatever the session had before. A password alone is one factor; a
 *   step-up never carries an older `mfa` forward (a stolen session plus a phished password must
 *   not pass `requireFreshAuth` + `requireAmr('mfa')`, e.g. removing the authenticator).
 * - A TOTP or recovery code: the session's sign-in proved its first factor, and the StateProof
 *   chain shows the same client held the session since, so the code completes a second factor of
 *   another kind: `amrOf(first factor, code)` exactly as a sign-in with both would be — `pwd, otp,
 *   mfa` after a password sign-in, `otp, mfa` after an emailed-code one. A session whose sign-in
 *   names neither (none stored) gets `['otp']`: no guess.
 */
export function stepUpAmr(signInAmr: readonly string[] | undefined, proved: StepUpProof): AuthMethod[] {
  if (proved === 'pwd') return ['pwd'];
  if (signInAmr?.includes('pwd') === true) return amrOf('pwd', proved);
  if (signInAmr?.includes('otp') === true) return amrOf('email_code', proved);
  return ['otp'];
}
