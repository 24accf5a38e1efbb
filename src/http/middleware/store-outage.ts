import type { ErrorRequestHandler } from 'express';
import type { AuditSink } from '../../auth/audit.js';
import { StoreError } from '../../redis/store-error.js';

/**
 * Emits `store.unavailable` for each request that failed because a store could not answer
 * (a `StoreError`), then hands the error on to the final handler unchanged.
 * `operation` is the route template, never the raw URL.
 */
export function auditStoreOutages(options: { audit: AuditSink; routeOf: (path: string) => string | undefined }): ErrorRequestHandler {
  const { audit, routeOf } = options;
  return function auditStoreOutage(error: unknown, req, _res, next) {
    if (error instanceof StoreError) {
      audit({ event: 'store.unavailable', operation: `${req.method} ${routeOf(req.path) ?? 'unmatched'}` });
    }
    next(error);
  };
}
