import type { Logger } from 'pino';
import type { AuditEvent, AuditSink } from '../auth/audit.js';
import { currentRequestScope } from './request-scope.js';

/**
 * Events an operator should look at: a replayed StateProof means a stolen token, an unreachable
 * store means failed requests. They are logged at `warn`; every other event at `info`.
 */
const WARN_EVENTS: ReadonlySet<AuditEvent['event']> = new Set(['replay.detected', 'store.unavailable', 'rate_limited', 'hashing.busy']);

/**
 * The audit log: one JSON line per security event, with `audit: true` and a stable `event`
 * field to filter on, and the event name as the message. Events never carry a credential.
 * An event that happens while serving a request also carries that request's id (`reqId`, as in
 * its request line's `req.id` and `X-Request-Id`) and the canonical client address (`ip`).
 */
export function auditLog(logger: Logger): AuditSink {
  const audit = logger.child({ audit: true });
  return function logAuditEvent(event) {
    const scope = currentRequestScope();
    const line = scope === undefined ? event : { ...event, reqId: scope.requestId, ip: scope.ip };
    if (WARN_EVENTS.has(event.event)) audit.warn(line, event.event);
    else audit.info(line, event.event);
  };
}
