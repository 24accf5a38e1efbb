import type { ChallengePurpose, TokenRefusal } from '../users/challenges.js';

/**
 * Security events, logged as explicit lines with a stable `event` field (and counted in
 * metrics). Fields never include a password, StateProof or BearerPass.
 */
export type AuditEvent =
  | { event: 'login.succeeded'; prn: string; aid: string; evicted: string[] }
  /** `prn` when the account exists (wrong password, disabled), so operators can see whose account is attacked. */
  | { event: 'login.failed'; reason: 'unknown_email' | 'wrong_password' | 'disabled'; prn?: string }
  | { event: 'register'; prn: string; aid: string }
  | { event: 'renew'; prn: string; aid: string; generation: number }
  | { event: 'renew.grace'; prn: string; aid: string; generation: number }
  | { event: 'renew.rejected'; reason: 'invalid' | 'missing' | 'compromised' | 'user_gone' | 'device_mismatch' | 'credentials_changed'; prn?: string; aid?: string }
  | { event: 'replay.detected'; prn: string; aid: string; presented: number; revoked: string[] }
  | { event: 'logout'; prn: string; aid: string; ended: boolean }
  | { event: 'logout.rejected'; reason: 'device_mismatch'; prn: string; aid: string }
  | { event: 'session.revoked'; prn: string; aids: string[]; reason: 'user' | 'others' | 'password_change' | 'password_reset' | 'policy' | 'admin' }
  /** One line per admin API call (user-administration.ts, client-admin.ts); `actor` is the administrator's prn. */
  | { event: 'admin.action'; action: AdminAction; actor: string; target?: string; outcome: AdminOutcome; fields?: string[] }
  | { event: 'password.changed'; prn: string }
  /** A hash from before NFKC normalisation replaced by the normalised form's at sign-in; not a password change. */
  | { event: 'password.rehashed'; prn: string }
  | { event: 'password.reset'; prn: string }
  | { event: 'email.verified'; prn: string }
  /** The account's address changed: by its link (`link`), or back by the old address's "this wasn't me" (`not_me`). Never the addresses. */
  | { event: 'email.changed'; prn: string; via: 'link' | 'not_me' }
  /** The address could not change: another account took it first. */
  | { event: 'email.change_refused'; prn: string; reason: 'email_taken'; via: 'link' | 'not_me' }
  /** A link or code was mailed (never the secret itself). */
  | { event: 'challenge.issued'; purpose: ChallengePurpose; prn: string }
  /** Asked for an address with no usable account: nothing was sent (the requester saw the same 202). */
  | { event: 'challenge.skipped'; purpose: ChallengePurpose; reason: 'unknown_email' | 'disabled' | 'already_verified' | 'email_taken' }
  | { event: 'challenge.consumed'; purpose: ChallengePurpose; prn: string }
  | { event: 'challenge.refused'; purpose: ChallengePurpose; reason: TokenRefusal | 'wrong_code' | 'no_code'; prn?: string }
  | { event: 'rate_limited'; limiter: string }
  | { event: 'store.unavailable'; operation: string }
  | { event: 'client.auth_failed'; reason: 'unknown_client' | 'wrong_secret' | 'disabled'; client: string }
  | { event: 'token.issued'; grant: 'client_credentials'; client: string; scope: string }
  /** RFC 8693 exchange: who (user, session), for whom (audience, acting client) and from where. */
  | { event: 'token.exchanged'; prn: string; aid: string; audience: string; scope: string; client: string | undefined; ip: string | undefined; userAgent: string | undefined }
  /** A TOTP enrolment was started (not yet a factor: it guards nothing until confirmed). */
  | { event: 'mfa.enrolment.started'; prn: string; factor: 'totp' }
  | { event: 'mfa.factor.added'; prn: string; factor: 'totp' }
  | { event: 'mfa.factor.removed'; prn: string; factor: 'totp' }
  /** A right first factor met a confirmed second factor: a ticket was issued, no session. */
  | { event: 'mfa.required'; prn: string; firstFactor: 'pwd' | 'email_code' }
  /** A right first factor of an account required to have a second factor and without one: an enrolment ticket, no session. */
  | { event: 'mfa.enrolment.required'; prn: string; firstFactor: 'pwd' | 'email_code' }
  | { event: 'mfa.succeeded'; prn: string; method: 'totp' | 'recovery_code' | 'webauthn' }
  | { event: 'mfa.recovery_code.used'; prn: string; left: number }
  /** `other_client`: a ticket presented by another device or browser than the one it was issued to. */
  | { event: 'mfa.failed'; reason: 'wrong_code' | 'ticket_invalid' | 'other_client' | 'voided'; prn?: string; method?: 'totp' | 'recovery_code' | 'webauthn'; attemptsLeft?: number }
  /** POST /jts/reauth: a credential proven again on a live session (`method`), its new `amr`. */
  | { event: 'reauth.succeeded'; prn: string; aid: string; method: 'pwd' | 'totp' | 'recovery_code' | 'webauthn'; amr: string[] }
  | { event: 'reauth.failed'; reason: ReauthRefusal; prn: string; aid?: string }
  /** Passkeys (auth/passkeys.ts): `passkey` is our id of it, never the credential id or key. */
  | { event: 'passkey.added'; prn: string; passkey: string }
  | { event: 'passkey.removed'; prn: string; passkey: string }
  | { event: 'passkey.renamed'; prn: string; passkey: string }
  /** A registration or assertion refused (`purpose`: register, login or mfa), with why; `prn` once the account is known. */
  | { event: 'passkey.refused'; purpose: 'register' | 'login' | 'mfa'; reason: PasskeyRefusal; prn?: string }
  /** A valid signature whose counter did not move on: two authenticators hold one key. */
  | { event: 'passkey.cloned'; prn: string; passkey: string; stored: number; presented: number }
  /** A sign-in from a device and network the account has not used within JTS_SIGN_IN_NOTICE_WINDOW: the owner was mailed (sign-in-notices.ts). */
  | { event: 'sign_in.new_device'; prn: string }
  /** A new-device sign-in past NOTICES_PER_HOUR for its account: recorded, not mailed (sign-in-notices.ts). */
  | { event: 'sign_in.notice_suppressed'; prn: string }
  /** A replay past THEFT_ALERTS_PER_HOUR for its account: ended and listed, not mailed (theft-alerts.ts). */
  | { event: 'theft_alert.suppressed'; prn: string }
  /** A "this wasn't me" link was followed: every session ended, the password voided, a reset token answered. */
  | { event: 'sign_in.reported'; prn: string; revoked: number }
  /** Failed sign-ins from unknown devices reached JTS_RISK_FAILED_SIGN_INS for an account (`prn` when it exists). */
  | { event: 'risk.threshold'; prn?: string }
  /** A password sign-in from an unknown device was answered `email_code_required` (sign-in-risk.ts). */
  | { event: 'risk.step_up'; prn?: string }
  /** Every password hashing slot was taken (BCRYPT_MAX_PENDING): a sign-in answered 503 at once. */
  | { event: 'hashing.busy'; slots: number };

/** Why a step-up was refused (`service_token`: a token from /jts/token, which has no session of its own). */
export type ReauthRefusal = 'service_token' | 'user_gone' | 'missing' | 'compromised' | 'device_mismatch' | 'wrong_password' | 'wrong_code' | 'credentials_changed';

/**
 * Why a passkey answer was refused: `challenge` unknown, used or expired; `challenge_binding`
 * issued to another user, ticket or client; `origin`, `rp_id` not ours; `malformed`; `signature`
 * (or any check of the library's); `user_not_verified`; `unknown_credential`; `other_user` (another
 * account's passkey as second factor); `user_handle` (the authenticator names another account);
 * `disabled`; `counter` (a clone, see `passkey.cloned`).
 */
export type PasskeyRefusal =
  | 'challenge'
  | 'challenge_binding'
  | 'origin'
  | 'rp_id'
  | 'malformed'
  | 'signature'
  | 'user_not_verified'
  | 'unknown_credential'
  | 'other_user'
  | 'user_handle'
  | 'disabled'
  | 'counter';

/** What an administrator did (the admin API's operations, the user and client CLIs' commands). */
export type AdminAction =
  | 'users.search'
  | 'users.list'
  | 'user.read'
  | 'user.create'
  | 'user.update'
  | 'user.delete'
  | 'sessions.read'
  | 'sessions.revoke'
  | 'factors.reset'
  | 'clients.list'
  | 'client.read'
  | 'client.create'
  | 'client.update'
  | 'client.disable'
  | 'client.enable'
  | 'client.rotate'
  | 'client.rotation_finish'
  | 'client.delete';

/**
 * `forbidden`: the actor's account no longer holds the admin permission (admin:users,
 * admin:clients); `invalid`: a malformed field (client administration); the others name the refusal.
 */
export type AdminOutcome = 'ok' | 'not_found' | 'email_taken' | 'last_admin' | 'forbidden' | 'invalid' | 'id_taken' | 'audience_taken' | 'rotation_open';

export type AuditSink = (event: AuditEvent) => void;
