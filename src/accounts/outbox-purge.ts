import type { Kysely } from 'kysely';
import type { AccountsSchema } from './database.js';
import { PollingLoop } from './outbox-loop.js';
import { OutboxQueue, type OutboxTable } from './outbox-queue.js';

export interface OutboxRetention {
  /** How long a delivered row is kept (ms): JTS_OUTBOX_RETENTION. */
  deliveredMs: number;
  /** How long a dead-lettered row is kept (ms): JTS_OUTBOX_DEAD_RETENTION, longer, for an operator to look and redeliver. */
  deadMs: number;
}

/** Rows one DELETE removes at most: a short statement, few locks held, little WAL at once. */
export const PURGE_BATCH = 1000;
/** How often each instance purges; finished rows are never urgent. */
const PURGE_EVERY_MS = 3_600_000;

const TABLES: readonly OutboxTable[] = ['webhook_outbox', 'notice_outbox'];

/**
 * Retention of both outboxes (README "Security notices", "Operator webhooks"): delivered and dead
 * rows older than their retention are deleted, in batches, hourly on every instance. Several
 * instances purging at once skip each other's rows (SKIP LOCKED) and never wait on them; pending
 * rows are never touched.
 */
export class OutboxPurge {
  private readonly queues: OutboxQueue[];
  private readonly loop: PollingLoop;

  constructor(
    db: Kysely<AccountsSchema>,
    private readonly retention: OutboxRetention,
    onError: (error: unknown) => void,
    private readonly batch: number = PURGE_BATCH,
  ) {
    this.queues = TABLES.map((table) => new OutboxQueue(db, table));
    this.loop = new PollingLoop(() => this.run(), PURGE_EVERY_MS, onError);
  }

  /** One purge of both tables; the number of rows deleted. */
  async run(): Promise<number> {
    let deleted = 0;
    for (const queue of this.queues) {
      deleted += await queue.purge('delivered', this.retention.deliveredMs, this.batch);
      deleted += await queue.purge('dead', this.retention.deadMs, this.batch);
    }
    return deleted;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
