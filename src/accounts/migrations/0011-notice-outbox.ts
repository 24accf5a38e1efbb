import { sql, type Kysely } from 'kysely';

/**
 * Security notices survive a crash, a restart and an SMTP outage (README "Security notices"), and
 * both outboxes stop growing forever.
 *
 * - `notice_outbox`: one row per notice mail (new sign-in, theft alert, account changes). `intent`
 *   is the notice as data (JSON: kind, recipient, display name, and the facts the mail shows —
 *   device, masked network, time, ended sessions); never a live secret: the new sign-in notice's
 *   "this wasn't me" token is minted by the worker when it delivers, so no usable token rests here.
 *   The delivery columns are the webhook outbox's (0010), run by the same claim/lease/fence code.
 * - Purge indexes on both outboxes: the retention job deletes finished rows oldest first, in
 *   batches; without an index each batch would scan the table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notice_outbox')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('account_id', 'text')
    .addColumn('intent', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivered', 'dead')`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('notice_outbox_due').on('notice_outbox').columns(['next_attempt_at']).where(sql.ref('status'), '=', 'pending').execute();
  for (const table of ['notice_outbox', 'webhook_outbox']) {
    await db.schema.createIndex(`${table}_finished`).on(table).columns(['status', 'finished_at']).where(sql.ref('status'), '<>', 'pending').execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('webhook_outbox_finished').execute();
  await db.schema.dropTable('notice_outbox').execute();
}
