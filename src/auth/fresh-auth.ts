import type { SessionState, SessionStore } from '../sessions/types.js';
import { AuthError } from './errors.js';

/**
 * The one check of "signed in recently" (enrolling or removing a second factor): the sign-in that
 * opened the caller's session must be at most `maxAgeSeconds` old (JTS_FRESH_AUTH_MAX_AGE).
 *
 * The sign-in time is the session's `createdAt` (renewals do not change it): one session-store
 * read. Once BearerPasses carry `auth_time`, this reads `auth_time` from the verified BearerPass
 * instead (no store read); callers stay as they are.
 *
 * Resolves to the session's state (its `amr` says how that sign-in was made).
 *
 * Errors: `fresh_auth_required` (401 `insufficient_user_authentication`, `action: "reauth"`, RFC
 * 9470's error) when too old or the session is gone; `service_unavailable`.
 */
export async function assertFreshSignIn(
  sessions: Pick<SessionStore, 'state'>,
  session: { prn: string; aid: string },
  now: number,
  maxAgeSeconds: number,
): Promise<Extract<SessionState, { state: 'active' }>> {
  const state = await sessions.state(session.prn, session.aid);
  if (state.state !== 'active' || now - state.createdAt > maxAgeSeconds * 1000) throw new AuthError('fresh_auth_required');
  return state;
}
