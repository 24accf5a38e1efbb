import { types } from 'node:util';
import { ReplyError } from 'ioredis';
import { StoreError, STORE_RETRY_AFTER_SECONDS } from './store-error.js';

/**
 * Replies by which Redis says "not now" rather than "wrong": loading its data set, a script
 * running too long, a Cluster or Sentinel failover in progress, out of memory under `noeviction`,
 * or unable to persist.
 */
const OUTAGE_REPLY = /^(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|NOREPLICAS|OOM|MISCONF)\b/;

/** Errors ioredis raises itself when a command cannot reach Redis or gets no answer in time. */
const CLIENT_OUTAGE = /^(Command timed out|Connection is closed|Stream isn't writeable|Cluster isn't ready|Cluster is disconnect|None of startup nodes is available|Failed to refresh slots cache|Too many Cluster redirections|Node is disconnected|All sentinels are unreachable|connect ETIMEDOUT)/;

/** Socket errors of an unreachable or vanished peer. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/**
 * True when `error` means Redis could not answer now: a connection, timeout or readiness problem.
 * Anything else (an error reply to a wrong command, a script bug, a corrupt record) is a bug.
 * ioredis exports no classes for most of its own failures, so they are told apart by name and
 * message here, in this one place.
 */
export function isRedisOutage(error: unknown): boolean {
  // isNativeError: socket errors may come from another realm (Node's internals under a VM sandbox).
  if (!(error instanceof Error) && !types.isNativeError(error)) return false;
  if (error instanceof ReplyError) return OUTAGE_REPLY.test(error.message);
  // redis-errors' AbortError / InterruptError: a command dropped with its connection;
  // MaxRetriesPerRequestError and ClusterAllFailedError: no connection to send it on.
  if (['AbortError', 'InterruptError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError'].includes(error.name)) return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  return CLIENT_OUTAGE.test(error.message);
}

/**
 * Runs a store operation and turns a Redis outage into `StoreError('service_unavailable')`.
 * Auth fails closed: a caller that wants to degrade must catch this explicitly. Other failures
 * propagate unchanged, to be answered as a 500 and logged with their stack.
 */
export async function guardStore<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isRedisOutage(error)) throw new StoreError('service_unavailable', { retryAfter: STORE_RETRY_AFTER_SECONDS, cause: error });
    throw error;
  }
}
