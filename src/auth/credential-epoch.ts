import type { SessionState, UserSecurity } from '../sessions/types.js';

/**
 * True when the session was signed in under a credential epoch that a password change or reset
 * has since passed (review F2: a sign-in with the old password that raced the change). The rule
 * rotate-4.lua applies at renewal; verification and token exchange read the same two records in
 * one round trip and apply it here. A session stored before sessions kept their epoch has none
 * and is left to the change's revocations.
 */
export function signedInUnderOldCredentials(session: Extract<SessionState, { state: 'active' }>, user: UserSecurity | undefined): boolean {
  return user !== undefined && session.credentialEpoch !== undefined && user.credentialEpoch > session.credentialEpoch;
}
