import { createHash } from 'node:crypto';
import type { InitiatingEntity, RevocationReason, SecurityEventRecord } from '../sessions/security-events.js';

/**
 * What an operator's webhook receiver is sent (README "Operator webhooks"): the Standard Webhooks
 * payload `{ type, timestamp, data }`. `data` carries the event's facts (principal, session, reason,
 * times) and never a secret or a token.
 */
export interface WebhookEventData {
  /** A session ended other than by expiry: the security-event stream's `session-revoked`. */
  'session.revoked': { event_id: string; prn: string; aid: string; reason: RevocationReason; initiating_entity: InitiatingEntity; not_after: string };
  /** A password changed or was reset: the stream's `credential-change`. */
  'credential.changed': { event_id: string; prn: string; initiating_entity: InitiatingEntity; credential_type: 'password' };
  /** Failed sign-ins against one account passed the threshold (`Webhooks.enqueue`, from the sign-in failure counter). */
  'sign_in.failures_exceeded': { prn: string; count: number; window_seconds: number };
  /** An account's address changed (`link`: its owner confirmed a new one; `not_me`: the old one was restored). Never the addresses. */
  'account.email_changed': { prn: string; via: 'link' | 'not_me' };
  /**
   * The relay found the stream trimmed past its cursor (every instance was down longer than
   * JTS_EVENTS_RETENTION): events between `after` and `oldest` may never have been sent.
   */
  'security_events.gap': { after: string; oldest: string };
}

export type WebhookEventType = keyof WebhookEventData;

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = ['session.revoked', 'credential.changed', 'sign_in.failures_exceeded', 'account.email_changed', 'security_events.gap'];

/** An event ready for the outbox: the body every attempt sends, and the key that makes it one event. */
export interface OutboxEvent {
  /** Unique per event: the stream id (`s:<id>`), or the caller's key for an enqueued one. */
  key: string;
  type: WebhookEventType;
  body: string;
}

export function outboxEvent<T extends WebhookEventType>(key: string, type: T, atMs: number, data: WebhookEventData[T]): OutboxEvent {
  return { key, type, body: JSON.stringify({ type, timestamp: new Date(atMs).toISOString(), data }) };
}

/** A security-event stream entry as a webhook event, keyed by its stream id. */
export function fromStreamEvent(event: SecurityEventRecord): OutboxEvent {
  const key = `s:${event.id}`;
  if (event.type === 'credential-change') {
    return outboxEvent(key, 'credential.changed', event.at, { event_id: event.id, prn: event.prn, initiating_entity: event.initiator, credential_type: 'password' });
  }
  return outboxEvent(key, 'session.revoked', event.at, {
    event_id: event.id,
    prn: event.prn,
    aid: event.aid,
    reason: event.reason,
    initiating_entity: event.initiator,
    not_after: new Date(event.notAfter).toISOString(),
  });
}

/**
 * The `webhook-id` of one event at one endpoint: derived from the pair, so whichever relay copied
 * the event and however often it is retried, a receiver sees one id for it and can deduplicate.
 */
export function webhookId(endpoint: string, eventKey: string): string {
  return `msg_${createHash('sha256').update(`${endpoint}\n${eventKey}`).digest('base64url').slice(0, 32)}`;
}
