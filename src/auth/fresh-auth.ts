import { isFreshAuth, StepUpError } from '../verifier/step-up.js';

/**
 * The one check of "signed in recently" (enrolling or removing a second factor): the sign-in behind
 * the caller's BearerPass must be at most `maxAgeSeconds` old (JTS_FRESH_AUTH_MAX_AGE).
 *
 * The sign-in time is the verified BearerPass's `auth_time` (seconds since the epoch): we signed
 * it, it equals the session's creation, and renewals copy it, so it says what the session store's
 * `createdAt` says without a store read. The HTTP routes answer first with the `requireFreshAuth`
 * guard (same rule, plus RFC 9470's `max_age` challenge); this keeps the use case safe for any
 * other caller. `nowMs` in milliseconds since the epoch.
 *
 * Errors: `StepUpError('fresh_auth_required')` (401 `insufficient_user_authentication`, `action:
 * "reauth"`, RFC 9470) when `authTime` is missing or too old.
 */
export function assertFreshSignIn(authTime: number | undefined, nowMs: number, maxAgeSeconds: number): void {
  if (!isFreshAuth(authTime, nowMs, maxAgeSeconds)) throw new StepUpError('fresh_auth_required');
}
