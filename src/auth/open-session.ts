import type { AuthMethod } from './amr.js';
import { randomId } from '../jts/state-proof.js';
import type { User } from '../users/types.js';
import { describeDevice, maskIp, type ClientContext } from './client-info.js';
import type { AuthContext, AuthServerSettings } from './context.js';
import type { IssuedCredentials } from './credentials.js';
import { hashDeviceId } from './device-binding.js';
import type { RenewFacts } from './renew-facts.js';

/** What opening a session reads: the session store, the policy and the cookie life (seconds). */
export interface OpenSessionDeps extends Pick<AuthContext, 'sessions' | 'clock' | 'audit' | 'renewFacts' | 'credentials'> {
  settings: Pick<AuthServerSettings, 'sessionPolicy' | 'stateProofLifetimeSeconds'>;
}

/** The audit event that records the opening: a login's, or a registration's. */
export type SessionOpening = 'login.succeeded' | 'register';


/**
 * The last step of every sign-in: creates a session for `user` (a new random aid, the device
 * description, the masked address and the device binding of `client`), lets the session policy
 * evict older sessions, remembers the new session's renewal facts, and mints generation 1 of its
 * credentials. Audits `event` (with the evicted aids for a login) and `session.revoked` for any
 * eviction. The caller has already decided the user may sign in, by the methods `amr`, against
 * `user` as read then: the session keeps `amr` and `user.credentialEpoch` (a later password change
 * refuses its renewal, see SessionStore.rotate).
 *
 * Throws only what the session store throws (`service_unavailable`).
 */
export async function openSession(deps: OpenSessionDeps, user: User, client: ClientContext, event: SessionOpening, amr: readonly AuthMethod[]): Promise<IssuedCredentials> {
  const { sessions, clock, settings, audit, renewFacts, credentials } = deps;
  const now = clock.now();
  const aid = randomId();
  const deviceHash = hashDeviceId(client.deviceId);
  const device = describeDevice(client.userAgent);
  const { evicted } = await sessions.create(
    { prn: user.id, aid, createdAt: now, device, ipPrefix: maskIp(client.ip), deviceHash, amr, credentialEpoch: user.credentialEpoch },
    { policy: settings.sessionPolicy, lifetimeMs: settings.stateProofLifetimeSeconds * 1000, now },
  );
  if (event === 'register') audit({ event, prn: user.id, aid });
  else audit({ event, prn: user.id, aid, evicted });
  renewFacts.forget(user.id, evicted);
  if (evicted.length > 0) audit({ event: 'session.revoked', prn: user.id, aids: evicted, reason: 'policy' });
  const facts: RenewFacts = { createdAt: now, deviceHash, permissions: user.permissions, credentialEpoch: user.credentialEpoch, amr, emailVerified: user.emailVerified, device };
  renewFacts.set(user.id, aid, facts);
  const minted = credentials.bearerPass(user.id, aid, facts);
  return credentials.issue({ prn: user.id, aid }, 1, minted.token, minted.expiresIn, now);
}
