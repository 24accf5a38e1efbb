import type { ChallengePurpose, TokenRefusal } from '../users/challenges.js';

/**
 * Security events, logged as explicit lines with a stable `event` field (and counted in
 * metrics). Fields never include a password, StateProof or BearerPass.
 */
export type AuditEvent =
  | { event: 'login.succeeded'; prn: string; aid: string; evicted: string[] }
  | { event: 'login.failed'; reason: 'unknown_email' | 'wrong_password' | 'disabled' }
  | { event: 'register'; prn: string; aid: string }
  | { event: 'renew'; prn: string; aid: string; generation: number }
  | { event: 'renew.grace'; prn: string; aid: string; generation: number }
  | { event: 'renew.rejected'; reason: 'invalid' | 'missing' | 'compromised' | 'user_gone' | 'device_mismatch'; prn?: string; aid?: string }
  | { event: 'replay.detected'; prn: string; aid: string; presented: number; revoked: string[] }
  | { event: 'logout'; prn: string; aid: string; ended: boolean }
  | { event: 'logout.rejected'; reason: 'device_mismatch'; prn: string; aid: string }
  | { event: 'session.revoked'; prn: string; aids: string[]; reason: 'user' | 'others' | 'password_change' | 'password_reset' | 'policy' }
  | { event: 'password.changed'; prn: string }
  | { event: 'password.reset'; prn: string }
  | { event: 'email.verified'; prn: string }
  /** A link or code was mailed (never the secret itself). */
  | { event: 'challenge.issued'; purpose: ChallengePurpose; prn: string }
  /** Asked for an address with no usable account: nothing was sent (the requester saw the same 202). */
  | { event: 'challenge.skipped'; purpose: ChallengePurpose; reason: 'unknown_email' | 'disabled' | 'already_verified' }
  | { event: 'challenge.consumed'; purpose: ChallengePurpose; prn: string }
  | { event: 'challenge.refused'; purpose: ChallengePurpose; reason: TokenRefusal | 'wrong_code' | 'no_code'; prn?: string }
  | { event: 'rate_limited'; limiter: string }
  | { event: 'store.unavailable'; operation: string };

export type AuditSink = (event: AuditEvent) => void;
