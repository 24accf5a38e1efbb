import { codedErrorClass, type ErrorInfo } from '../jts/errors.js';

/** Outcomes of the auth use cases that are not token errors (those are `JtsError`s). */
const AUTH_CODES = {
  invalid_credentials: { status: 401, key: 'invalid_credentials', action: 'none', message: 'Email or password is incorrect.', expose: true },
  /** A password the policy refuses, or one bcrypt could not check exactly (over 72 bytes, NUL). */
  password_rejected: { status: 400, key: 'invalid_request', action: 'none', message: 'The password is not acceptable.', expose: true },
  registration_closed: { status: 403, key: 'registration_closed', action: 'none', message: 'Registration is turned off.', expose: true },
  email_taken: { status: 409, key: 'email_taken', action: 'none', message: 'An account with this email already exists.', expose: true },
  /** POST /jts/account/email with the account's own address (after trimming and lower-casing). */
  email_unchanged: { status: 400, key: 'invalid_request', action: 'none', message: 'This is already the address of your account.', expose: true },
  /** The admin API: no account has this id. */
  user_not_found: { status: 404, key: 'not_found', action: 'none', message: 'No such user.', expose: true },
  /** The change would leave no enabled account holding admin:users (user-administration.ts). */
  last_admin: { status: 409, key: 'last_admin', action: 'none', message: 'This is the last enabled account with admin:users: grant it to another account first.', expose: true },
  /** A link token that is unknown, tampered with, or made for another purpose (reset vs verify). */
  token_invalid: { status: 400, key: 'token_invalid', action: 'none', message: 'This link is not valid; ask for a new one.', expose: true },
  token_expired: { status: 400, key: 'token_expired', action: 'none', message: 'This link has expired; ask for a new one.', expose: true },
  /** Used already, or replaced by a newer link of the same kind. */
  token_used: { status: 400, key: 'token_used', action: 'none', message: 'This link was already used or replaced by a newer one; ask for a new one.', expose: true },
  /** The password changed after the link was sent (every outstanding reset link dies with it). */
  token_voided: { status: 400, key: 'token_voided', action: 'none', message: 'The password changed after this link was sent; ask for a new one.', expose: true },
  /** Wrong, expired, used up or never sent: one answer, so it tells nothing about the account. */
  code_invalid: { status: 401, key: 'code_invalid', action: 'none', message: 'The code is wrong or no longer valid.', expose: true },
  /** JTS_EMAIL_VERIFICATION=required and the address is not verified yet (a new link was mailed). */
  email_unverified: { status: 403, key: 'email_unverified', action: 'none', message: 'Verify your email address first: a new link is on its way.', expose: true },
  /**
   * Many failed sign-ins to this account from unknown devices (JTS_RISK_FAILED_SIGN_INS): a password
   * sign-in from a client without the account's known-device value must use an emailed code
   * (POST /jts/login/code, then /jts/login/code/verify). Answered whether or not the password was
   * right (sign-in-risk.ts).
   */
  email_code_required: { status: 401, key: 'email_code_required', action: 'none', message: 'For your safety, sign in from this device with a code sent to your email.', expose: true },
  /** A second factor is added only to a proven address (review R2; MfaSettings.enrolmentNeedsVerifiedEmail). */
  mfa_email_unverified: { status: 403, key: 'email_unverified', action: 'none', message: 'Verify your email address before adding a second factor.', expose: true },
  /**
   * The first factor was right and the account has a confirmed second factor: no session yet. The
   * body adds `mfa_ticket` and `methods`; POST /jts/mfa/verify completes the sign-in (MfaRequiredError).
   */
  mfa_required: { status: 401, key: 'mfa_required', action: 'mfa', message: 'A second factor is required to complete the sign-in.', expose: true },
  /**
   * The first factor was right and an administrator requires a second factor of the account, which
   * has none: no session. The body adds `mfa_ticket` (good only for POST /jts/mfa/totp and its
   * confirmation, which answers as a login), `methods` and `expires_in` (MfaEnrollmentRequiredError).
   */
  mfa_enrollment_required: { status: 401, key: 'mfa_enrollment_required', action: 'mfa_enroll', message: 'This account must set up a second factor to sign in.', expose: true },
  /** Unknown, used, expired, issued to another client, out of attempts, or voided by a password change: one answer. */
  mfa_ticket_invalid: { status: 401, key: 'mfa_ticket_invalid', action: 'reauth', message: 'This sign-in can no longer be completed; sign in again.', expose: true },
  /** A TOTP code that is wrong, outside ±1 step, or already used; a recovery code that is wrong or used. */
  mfa_code_invalid: { status: 401, key: 'mfa_code_invalid', action: 'none', message: 'The code is wrong or was already used.', expose: true },
  // A sign-in older than JTS_FRESH_AUTH_MAX_AGE is StepUpError's `fresh_auth_required` (verifier/step-up.ts), shared with the guards.
  /** POST /jts/mfa/totp while a confirmed authenticator exists: remove it first. */
  mfa_already_enrolled: { status: 409, key: 'mfa_already_enrolled', action: 'none', message: 'An authenticator is already set up; remove it first.', expose: true },
  /** Confirm with no enrolment in progress, or remove with no authenticator. */
  mfa_not_enrolled: { status: 404, key: 'mfa_not_enrolled', action: 'none', message: 'No authenticator enrolment to act on.', expose: true },
  /** A passkey challenge that is unknown, used, expired, or issued for another purpose, user, ticket or client: ask for new options. */
  passkey_challenge_invalid: { status: 400, key: 'passkey_challenge_invalid', action: 'none', message: 'This passkey request is unknown, used or expired; start again.', expose: true },
  /** A passkey answer refused: wrong origin or RP ID, bad signature, no user verification, another account's passkey, a stale counter (a clone). The reason is in the audit only. */
  passkey_rejected: { status: 401, key: 'passkey_rejected', action: 'none', message: 'The passkey could not be verified.', expose: true },
  /** A passwordless sign-in with a credential no account has (removed here, still on the authenticator). */
  passkey_unknown: { status: 401, key: 'passkey_unknown', action: 'none', message: 'This passkey is not registered here; sign in another way.', expose: true },
  /** The credential is registered already (to this account or another). */
  passkey_already_registered: { status: 409, key: 'passkey_already_registered', action: 'none', message: 'This passkey is already registered.', expose: true },
  /** Rename or remove: the caller has no passkey with this id. */
  passkey_not_found: { status: 404, key: 'not_found', action: 'none', message: 'No such passkey.', expose: true },
  /** POST /jts/reauth with a token issued by /jts/token: a service's token has no user session to step up. */
  reauth_needs_session: { status: 403, key: 'reauth_needs_session', action: 'none', message: 'A step-up needs the BearerPass of a user’s own session, not a token issued to a service.', expose: true },
  /** Every password-hashing slot is taken (BCRYPT_MAX_PENDING): retry shortly. */
  hashing_busy: { status: 503, key: 'service_unavailable', action: 'retry', message: 'Too many passwords are being checked right now; retry shortly.', expose: true },
} as const satisfies Record<string, ErrorInfo>;

export type AuthCode = keyof typeof AUTH_CODES;

/** The auth layer's error (sign-in, registration, password change, user administration). */
export class AuthError extends codedErrorClass('AuthError', AUTH_CODES) {}

/** How a sign-in that waits for its second factor may complete it (POST /jts/mfa/verify). */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'webauthn';

/**
 * `mfa_required`: the first factor was right, no session was opened. The JTS error envelope gains
 * two extensions: `mfa_ticket` (single use, bound to the account and this client) and `methods`,
 * plus `expires_in` (seconds the ticket lives).
 */
export class MfaRequiredError extends AuthError {
  constructor(
    readonly ticket: string,
    readonly methods: readonly SecondFactorMethod[],
    readonly expiresIn: number,
  ) {
    super('mfa_required');
  }

  override toBody(now?: number): ReturnType<AuthError['toBody']> & { mfa_ticket: string; methods: SecondFactorMethod[]; expires_in: number } {
    return { ...super.toBody(now), mfa_ticket: this.ticket, methods: [...this.methods], expires_in: this.expiresIn };
  }
}

/**
 * `mfa_enrollment_required`: the first factor was right, the account must have a second factor and
 * has none; no session was opened. The envelope gains `mfa_ticket` (single use, this client only,
 * good only for enrolling an authenticator), `methods` (`['totp']`) and `expires_in`.
 */
export class MfaEnrollmentRequiredError extends AuthError {
  constructor(
    readonly ticket: string,
    readonly expiresIn: number,
  ) {
    super('mfa_enrollment_required');
  }

  override toBody(now?: number): ReturnType<AuthError['toBody']> & { mfa_ticket: string; methods: ['totp']; expires_in: number } {
    return { ...super.toBody(now), mfa_ticket: this.ticket, methods: ['totp'], expires_in: this.expiresIn };
  }
}
