import { JtsError } from '../jts/errors.js';

/** Seconds a client should wait before retrying after the store failed. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * Runs a store operation and turns any Redis failure (refused connection, timeout, closed
 * socket) into a `service_unavailable` protocol error. Auth fails closed: a caller that wants to
 * degrade must catch this explicitly.
 */
export async function guardStore<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof JtsError) throw error;
    throw new JtsError('service_unavailable', { retryAfter: STORE_RETRY_AFTER_SECONDS, cause: error });
  }
}
