import type { SecurityEventLog } from '../sessions/security-events.js';
import { fromStreamEvent, outboxEvent, type OutboxEvent } from './events.js';
import type { SqlWebhookOutbox } from './outbox.js';

export interface RelayDeps {
  log: SecurityEventLog;
  outbox: SqlWebhookOutbox;
  /** The stream's Redis key: the cursor's name, so deployments sharing a database keep theirs apart. */
  stream: string;
  endpoints: readonly string[];
  now: () => number;
  /** The stream was trimmed past the cursor: counted, and sent as a `security_events.gap` event. */
  onGap?: (after: string, oldest: string) => void;
}

/** Entries read per step; a step that reads a full page is followed by another at once. */
const PAGE = 500;

/**
 * Copies the security-event stream into the outbox: the entries after the persisted cursor, one
 * row per endpoint each, and the new cursor in the same transaction. A restart resumes at the
 * cursor; a crash between the read and the commit copies the same entries again, which the
 * outbox ignores (unique (endpoint, event)); two instances copying at once take turns on the
 * cursor row, and the one that finds it moved drops its copy.
 */
export class WebhookRelay {
  constructor(private readonly deps: RelayDeps) {}

  /** Copies until the stream has nothing newer; the number of events copied. */
  async catchUp(): Promise<number> {
    let copied = 0;
    for (;;) {
      const step = await this.step();
      copied += step.events;
      if (!step.more) return copied;
    }
  }

  /** One page: read after the cursor, copy, move the cursor. */
  async step(): Promise<{ events: number; more: boolean }> {
    const { log, outbox, stream, endpoints } = this.deps;
    const from = await outbox.cursor(stream);
    // '0-0': a cursor row created by a relay that found nothing yet.
    const after = from === undefined || from === '0-0' ? undefined : from;
    const page = await log.read(after, PAGE);
    const events: OutboxEvent[] = [];
    let to = page.events.at(-1)?.id;
    if (page.gap && after !== undefined && page.oldest !== undefined) {
      events.push(outboxEvent(`gap:${after}`, 'security_events.gap', this.deps.now(), { after, oldest: page.oldest }));
      to ??= page.oldest;
    }
    events.push(...page.events.map(fromStreamEvent));
    if (to === undefined) return { events: 0, more: false };
    const result = await outbox.copy(stream, from, to, events, endpoints);
    if (result.outcome === 'moved') return { events: 0, more: true };
    if (page.gap && after !== undefined && page.oldest !== undefined) this.deps.onGap?.(after, page.oldest);
    return { events: page.events.length, more: page.events.length === PAGE };
  }
}
