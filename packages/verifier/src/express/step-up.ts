import { codedErrorClass, type ErrorInfo } from '../errors.js';

/**
 * The step-up rule and refusals of the guards `requireFreshAuth` and `requireAmr` (and of the server's own
 * "recent sign-in" check, which shares them): the BearerPass is valid, but the sign-in behind it
 * is too old or was made without a needed method. Both answer RFC 9470's
 * `insufficient_user_authentication` (401, `action: "reauth"`): sign in again as asked, then retry.
 * They live in the verifier layer so other services' guards and the server answer alike.
 */
const STEP_UP_CODES = {
  /** `auth_time` missing or older than the guard's max age (RFC 9470 §3, `max_age`). */
  fresh_auth_required: { status: 401, key: 'insufficient_user_authentication', action: 'reauth', message: 'This needs a recent sign-in: sign in again, then retry.', expose: true },
  /** `amr` (RFC 8176) missing or lacking a method the guard names. */
  auth_method_required: { status: 401, key: 'insufficient_user_authentication', action: 'reauth', message: 'This needs a stronger sign-in: sign in again with the required methods, then retry.', expose: true },
} as const satisfies Record<string, ErrorInfo>;

export type StepUpCode = keyof typeof STEP_UP_CODES;

/** A valid BearerPass whose sign-in does not meet a guard's demand (RFC 9470). */
export class StepUpError extends codedErrorClass('StepUpError', STEP_UP_CODES) {}

/**
 * True when `authTime` (seconds since the epoch, or absent) is at most `maxAgeSeconds` before
 * `nowMs` (milliseconds since the epoch). The one rule of "a recent sign-in", shared by the guard
 * and the server's own check (auth/fresh-auth.ts).
 */
export function isFreshAuth(authTime: number | undefined, nowMs: number, maxAgeSeconds: number): boolean {
  return authTime !== undefined && Math.floor(nowMs / 1000) - authTime <= maxAgeSeconds;
}
