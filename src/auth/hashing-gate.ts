import type { PasswordHasher } from '../users/password.js';
import type { AuditSink } from './audit.js';
import { AuthError } from './errors.js';

/** Seconds a client is told to wait when every hashing slot is taken. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * Bounds the password hashes running or waiting at once, server-wide. bcrypt runs on libuv's
 * small thread pool; without a bound a login flood queues there without limit, every login waits
 * behind all the others and memory grows. Past `maxPending` a sign-in is answered at once with
 * `503 service_unavailable` and `retry_after` (`AuthError('hashing_busy')`) instead of queueing.
 * Hash and verify share the bound; an unknown email's dummy comparison counts like a real one,
 * so the bound never tells the two apart. Each refusal is audited as `hashing.busy` when `audit`
 * is given (the operator's sign that BCRYPT_MAX_PENDING or the machine is too small for the load).
 */
export function boundedHasher(hasher: PasswordHasher, maxPending: number, audit?: AuditSink): PasswordHasher {
  if (!Number.isInteger(maxPending) || maxPending < 1) throw new Error('boundedHasher needs a whole number of slots, at least 1');
  let pending = 0;
  async function inSlot<T>(work: () => Promise<T>): Promise<T> {
    if (pending >= maxPending) {
      audit?.({ event: 'hashing.busy', slots: maxPending });
      throw new AuthError('hashing_busy', { retryAfter: BUSY_RETRY_AFTER_SECONDS });
    }
    pending++;
    try {
      return await work();
    } finally {
      pending--;
    }
  }
  return {
    hash: (password) => inSlot(() => hasher.hash(password)),
    verify: (password, hash) => inSlot(() => hasher.verify(password, hash)),
  };
}
