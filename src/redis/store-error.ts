import { codedErrorClass, type ErrorInfo } from '../jts/errors.js';

/** Seconds a client should wait before retrying after the store failed. */
export const STORE_RETRY_AFTER_SECONDS = 2;

const STORE_CODES = {
  service_unavailable: { status: 503, key: 'service_unavailable', action: 'retry', message: 'A backing service is unavailable.', expose: true },
} as const satisfies Record<string, ErrorInfo>;

export type StoreCode = keyof typeof STORE_CODES;

/**
 * The storage layer's error: the store could not answer (down, too slow, failing over). Expected
 * outcomes ("no such session") are values, and a bug (an unexpected reply) stays a plain Error,
 * which the HTTP layer answers as a 500 — never disguised as an outage.
 */
export class StoreError extends codedErrorClass('StoreError', STORE_CODES) {}
