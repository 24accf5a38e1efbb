import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AccountsSchema } from '../accounts/database.js';
import type { SecurityEventLog } from '../sessions/security-events.js';
import { WebhookPoster } from './deliver.js';
import { outboxEvent, type WebhookEventData, type WebhookEventType } from './events.js';
import { SqlWebhookOutbox, type ClaimedDelivery } from './outbox.js';
import { WebhookRelay } from './relay.js';
import type { WebhookSettings } from '../config/webhooks.js';
import { retryDelayMs } from '../accounts/outbox-queue.js';
import { PollingLoop } from '../accounts/outbox-loop.js';

export interface WebhookDeps {
  settings: WebhookSettings;
  db: Kysely<AccountsSchema>;
  log: SecurityEventLog;
  /** The stream's Redis key (the relay cursor's name). */
  stream: string;
  registry: Registry;
  now: () => number;
  /**
   * Failures of the loops themselves (database or Redis down): the loops go on. Reported on the
   * first failure after a success, then at most once a minute while they last, not at every poll.
   */
  onError: (error: unknown, loop: 'relay' | 'delivery') => void;
  /** Each dead-lettered delivery, for the log. */
  onDeadLetter?: (delivery: { id: string; endpoint: string; error: string }) => void;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

/** Rows a worker claims at once: the most POSTs one instance has in flight. */
const BATCH = 10;

/**
 * Operator webhooks: the relay (stream → outbox) and the delivery worker (outbox → receivers) of
 * one instance, and `enqueue` for events that are not in the stream. Any number of instances may
 * run them against one PostgreSQL; with PGlite there is one process anyway.
 */
export class Webhooks {
  readonly outbox: SqlWebhookOutbox;
  private readonly relay: WebhookRelay;
  private readonly poster: WebhookPoster;
  private readonly deliveries: Counter<'outcome'>;
  private readonly gaps: Counter;
  private readonly loops: { relay: PollingLoop; delivery: PollingLoop };
  private running = false;

  constructor(private readonly deps: WebhookDeps) {
    const { settings } = deps;
    this.outbox = new SqlWebhookOutbox(deps.db);
    this.poster = new WebhookPoster(settings.secret, settings.timeoutMs, deps.now);
    this.relay = new WebhookRelay({
      log: deps.log,
      outbox: this.outbox,
      stream: deps.stream,
      endpoints: settings.endpoints,
      now: deps.now,
      onGap: () => {
        this.gaps.inc();
      },
    });
    this.deliveries = new Counter({
      name: 'jts_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retried (failed, tried again later), dead_letter (failed for the last time).',
      labelNames: ['outcome'] as const,
      registers: [deps.registry],
    });
    for (const outcome of ['delivered', 'retried', 'dead_letter']) this.deliveries.inc({ outcome }, 0);
    this.gaps = new Counter({
      name: 'jts_webhook_relay_gaps_total',
      help: 'Times the relay found the security-event stream trimmed past its cursor (events may not have been sent).',
      registers: [deps.registry],
    });
    this.loops = {
      relay: new PollingLoop(() => this.relay.catchUp(), settings.pollMs, (error) => {
        deps.onError(error, 'relay');
      }),
      delivery: new PollingLoop(() => this.deliverDue(), settings.pollMs, (error) => {
        deps.onError(error, 'delivery');
      }),
    };
    const outbox = this.outbox;
    new Gauge({
      name: 'jts_webhook_outbox_pending',
      help: 'Webhook deliveries waiting in the outbox (all instances: read from the database at each scrape).',
      registers: [deps.registry],
      async collect() {
        // A database outage must not fail the whole scrape: the gauge keeps its last value.
        const pending = await outbox.pendingCount().catch(() => undefined);
        if (pending !== undefined) this.set(pending);
      },
    });
  }

  /**
   * Adds an event that is not in the security-event stream, e.g. `sign_in.failures_exceeded`,
   * for every endpoint. `key` makes it idempotent (the same key twice is one event); without it
   * each call is a new event. Resolves once the rows are committed.
   */
  async enqueue<T extends WebhookEventType>(type: T, data: WebhookEventData[T], options: { key?: string } = {}): Promise<void> {
    await this.outbox.add([outboxEvent(`${type}:${options.key ?? randomUUID()}`, type, this.deps.now(), data)], this.deps.settings.endpoints);
  }

  /** Copies what the stream holds now (start-up calls it before listening, ahead of any trim). */
  catchUp(): Promise<number> {
    return this.relay.catchUp();
  }

  /** Starts both loops. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops.relay.start();
    this.loops.delivery.start();
  }

  /** Stops the loops and waits for the POSTs in flight, so their outcome is recorded. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all([this.loops.relay.stop(), this.loops.delivery.stop()]);
  }

  /** Claims due rows and delivers them until none is due; the number of attempts made. */
  async deliverDue(): Promise<number> {
    let attempts = 0;
    for (;;) {
      const lease = this.deps.settings.timeoutMs * 2 + 5000;
      const claimed = await this.outbox.claim(BATCH, lease);
      await Promise.all(claimed.map((claim) => this.attempt(claim)));
      attempts += claimed.length;
      if (claimed.length < BATCH || !this.running) return attempts;
    }
  }

  private async attempt(claim: ClaimedDelivery): Promise<void> {
    const result = await this.poster.post(claim.endpoint, claim.id, claim.body);
    if (result.ok) {
      if (await this.outbox.delivered(claim)) this.deliveries.inc({ outcome: 'delivered' });
      return;
    }
    const retryIn = retryDelayMs(claim.attempt, this.deps.settings.retry, this.deps.random);
    if (!(await this.outbox.failed(claim, result.error, retryIn))) return;
    if (retryIn !== undefined) {
      this.deliveries.inc({ outcome: 'retried' });
      return;
    }
    this.deliveries.inc({ outcome: 'dead_letter' });
    this.deps.onDeadLetter?.({ id: claim.id, endpoint: claim.endpoint, error: result.error });
  }
}
