import type { Logger } from 'pino';
import type { AuditEvent, AuditSink } from '../auth/audit.js';

/**
 * Events an operator should look at: a replayed StateProof means a stolen token, an unreachable
 * store means failed requests. They are logged at `warn`; every other event at `info`.
 */
const WARN_EVENTS: ReadonlySet<AuditEvent['event']> = new Set(['replay.detected', 'store.unavailable', 'rate_limited']);

/**
 * The audit log: one JSON line per security event, with `audit: true` and a stable `event`
 * field to filter on, and the event name as the message. Events never carry a credential.
 */
export function auditLog(logger: Logger): AuditSink {
  const audit = logger.child({ audit: true });
  return function logAuditEvent(event) {
    if (WARN_EVENTS.has(event.event)) audit.warn(event, event.event);
    else audit.info(event, event.event);
  };
}
