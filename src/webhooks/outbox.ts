import { sql, type ColumnType, type Kysely } from 'kysely';
import type { AccountsSchema } from '../accounts/database.js';
import { OutboxQueue, type OutboxStatus } from '../accounts/outbox-queue.js';
import { webhookId, type OutboxEvent } from './events.js';

/** The tables of migration 0010-webhook-outbox, as Kysely sees them. */
// A type, not an interface: Kysely's withTables wants an index-signature-compatible record.
export type WebhookTables = {
  webhook_outbox: {
    id: string;
    endpoint: string;
    event_key: string;
    type: string;
    body: string;
    status: ColumnType<OutboxStatus, OutboxStatus | undefined, OutboxStatus>;
    attempts: ColumnType<number, number | undefined, number>;
    next_attempt_at: ColumnType<Date, Date, Date>;
    last_error: ColumnType<string | null, string | null | undefined, string | null>;
    created_at: ColumnType<Date, Date, Date>;
    finished_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  };
  webhook_cursors: { stream: string; last_id: string; updated_at: ColumnType<Date, Date, Date> };
};

export type { OutboxStatus } from '../accounts/outbox-queue.js';

/** A row a worker claimed: deliver it, then report with `attempt` (the claim's fence). */
export interface ClaimedDelivery {
  id: string;
  endpoint: string;
  body: string;
  /** This attempt's number, 1-based. */
  attempt: number;
}

export interface OutboxRow {
  id: string;
  endpoint: string;
  type: string;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  nextAttemptAt: Date;
  finishedAt: Date | null;
}

/** What a relay step did. */
export type CopyResult = { outcome: 'copied'; events: number } | { outcome: 'moved' };

/**
 * The webhook outbox in the accounts database (PostgreSQL, or PGlite for one process). Every
 * method is one statement or one transaction, so any number of instances may share it: rows are
 * inserted idempotently (the unique (endpoint, event_key)); claims, reports and the purge are
 * OutboxQueue's (accounts/outbox-queue.ts), shared with the notice outbox.
 */
export class SqlWebhookOutbox {
  private readonly db: Kysely<AccountsSchema & WebhookTables>;
  /** Claims, reports, the depth and the purge: shared with the notice outbox. */
  readonly queue: OutboxQueue;

  constructor(db: Kysely<AccountsSchema>) {
    this.db = db.withTables<WebhookTables>();
    this.queue = new OutboxQueue(db, 'webhook_outbox');
  }

  /** Rows for each event at each endpoint; an event already there stays as it is. */
  async add(events: readonly OutboxEvent[], endpoints: readonly string[]): Promise<void> {
    await insertRows(this.db, events, endpoints);
  }

  /** Where the relay of `stream` stopped (undefined: it never ran). */
  async cursor(stream: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('webhook_cursors').select('last_id').where('stream', '=', stream).executeTakeFirst();
    return row?.last_id;
  }

  /**
   * Adds the events read after `from` and moves the cursor to `to`, in one transaction, provided
   * the cursor still is `from` (another instance's relay may have moved it meanwhile: then nothing
   * is written and its copy stands).
   */
  async copy(stream: string, from: string | undefined, to: string, events: readonly OutboxEvent[], endpoints: readonly string[]): Promise<CopyResult> {
    return this.db.transaction().execute(async (trx): Promise<CopyResult> => {
      // Locks the cursor row (or the slot where it will be): concurrent relays take turns here.
      await trx.insertInto('webhook_cursors').values({ stream, last_id: '0-0', updated_at: sql<Date>`now()` }).onConflict((oc) => oc.column('stream').doNothing()).execute();
      const row = await trx.selectFrom('webhook_cursors').select('last_id').where('stream', '=', stream).forUpdate().executeTakeFirstOrThrow();
      if (row.last_id !== (from ?? '0-0')) return { outcome: 'moved' };
      await insertRows(trx, events, endpoints);
      await trx.updateTable('webhook_cursors').set({ last_id: to, updated_at: sql<Date>`now()` }).where('stream', '=', stream).execute();
      return { outcome: 'copied', events: events.length };
    });
  }

  /** Claims up to `limit` due rows for `leaseMs` (OutboxQueue.claim). */
  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.queue.claim<{ endpoint: string; body: string }>(limit, leaseMs, ['endpoint', 'body']);
    return rows.map((row) => ({ id: row.id, endpoint: row.endpoint, body: row.body, attempt: row.attempt }));
  }

  /** A delivery the receiver accepted. False when the claim was no longer this worker's. */
  delivered(claim: ClaimedDelivery): Promise<boolean> {
    return this.queue.delivered(claim);
  }

  /** A failed attempt: due again after `retryInMs`, or dead-lettered when undefined. */
  failed(claim: ClaimedDelivery, error: string, retryInMs: number | undefined): Promise<boolean> {
    return this.queue.failed(claim, error, retryInMs);
  }

  /** Rows waiting for delivery (the depth gauge). */
  pendingCount(): Promise<number> {
    return this.queue.pendingCount();
  }

  /** Rows in one state, newest first. */
  async list(status: OutboxStatus, limit: number): Promise<OutboxRow[]> {
    const rows = await this.db.selectFrom('webhook_outbox').selectAll().where('status', '=', status).orderBy('created_at', 'desc').limit(limit).execute();
    return rows.map((row) => ({
      id: row.id,
      endpoint: row.endpoint,
      type: row.type,
      status: row.status,
      attempts: row.attempts,
      lastError: row.last_error,
      createdAt: row.created_at,
      nextAttemptAt: row.next_attempt_at,
      finishedAt: row.finished_at,
    }));
  }

  /**
   * Sends a dead-lettered row again: pending, due now, attempts counted from zero. Same row, so
   * the same `webhook-id` and body. False when no dead row has that id.
   */
  async redeliver(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_outbox')
      .set({ status: 'pending', attempts: 0, next_attempt_at: sql<Date>`now()`, finished_at: null })
      .where('id', '=', id)
      .where('status', '=', 'dead')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

async function insertRows(db: Kysely<AccountsSchema & WebhookTables>, events: readonly OutboxEvent[], endpoints: readonly string[]): Promise<void> {
  // The database's clock, as the claim reads it: an instance's clock skew never delays a first attempt.
  const now = sql<Date>`now()`;
  const rows = events.flatMap((event) =>
    endpoints.map((endpoint) => ({ id: webhookId(endpoint, event.key), endpoint, event_key: event.key, type: event.type, body: event.body, next_attempt_at: now, created_at: now })),
  );
  // Batches keep each statement's parameter count far below PostgreSQL's 65,535.
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto('webhook_outbox')
      .values(rows.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['endpoint', 'event_key']).doNothing())
      .execute();
  }
}
