import { sql, type Kysely } from 'kysely';

/**
 * Operator webhooks (issue 21, README "Operator webhooks"): a persistent outbox, so no security
 * event is lost when the server restarts or a receiver is down for hours.
 *
 * - `webhook_outbox`: one row per (endpoint, event). `id` is the Standard Webhooks `webhook-id`,
 *   derived from the pair, so every redelivery carries the same id and receivers can deduplicate;
 *   the unique pair makes copying an event twice (two relays, a restart mid-copy) a no-op. `body`
 *   is the exact JSON sent, so every attempt signs the same bytes. `next_attempt_at` is both the
 *   back-off and the claim's lease: a worker that dies mid-delivery leaves the row due again later.
 * - `webhook_cursors`: how far the relay copied each security-event stream (a Redis stream id),
 *   written in the same transaction as the rows it copied, so a restart resumes where it stopped.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_outbox')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('endpoint', 'text', (col) => col.notNull())
    .addColumn('event_key', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivered', 'dead')`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addUniqueConstraint('webhook_outbox_endpoint_event', ['endpoint', 'event_key'])
    .execute();
  // The worker's claim: due pending rows, oldest first.
  await db.schema.createIndex('webhook_outbox_due').on('webhook_outbox').columns(['next_attempt_at']).where(sql.ref('status'), '=', 'pending').execute();
  await db.schema
    .createTable('webhook_cursors')
    .addColumn('stream', 'text', (col) => col.primaryKey())
    .addColumn('last_id', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_cursors').execute();
  await db.schema.dropTable('webhook_outbox').execute();
}
