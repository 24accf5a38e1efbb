import { types } from 'node:util';
import { StoreError, STORE_RETRY_AFTER_SECONDS } from '../redis/store-error.js';

/**
 * SQLSTATE classes and codes by which PostgreSQL says "not now" rather than "wrong": a connection
 * exception (08), the server shutting down or starting (57P01–57P03), too many connections
 * (53300), out of resources (53), a serialization failure or deadlock under load (40001, 40P01).
 */
const OUTAGE_SQLSTATE = /^(08...|57P0[1-3]|53...|40001|40P01)$/;

/** Socket errors of an unreachable or vanished server. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** What node-postgres says itself when a connection or a query gives up. */
const CLIENT_OUTAGE = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|The server does not support SSL)/i;

/** True when `error` means PostgreSQL could not answer now; anything else (a bad query, a constraint) is a bug or a value. */
export function isDatabaseOutage(error: unknown): boolean {
  if (!(error instanceof Error) && !types.isNativeError(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || OUTAGE_SQLSTATE.test(code))) return true;
  if (error instanceof AggregateError && error.errors.some(isDatabaseOutage)) return true;
  return CLIENT_OUTAGE.test(error.message);
}

/** The SQLSTATE of a unique violation, the one database error the stores turn into a value. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/**
 * Runs a database operation and turns an outage into `StoreError('service_unavailable')`, as
 * guardStore does for Redis. Other errors propagate unchanged (a 500 whose SQL text is logged,
 * never sent: the HTTP layer answers every non-coded error with a bare `internal_error`).
 */
export async function guardDatabase<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isDatabaseOutage(error)) throw new StoreError('service_unavailable', { retryAfter: STORE_RETRY_AFTER_SECONDS, cause: error });
    throw error;
  }
}
