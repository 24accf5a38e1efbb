import { sql, type Kysely } from 'kysely';

/**
 * Users and their password credential. Emails are stored normalised (trimmed, lower-cased by
 * normaliseEmail) and unique on lower(email), so two spellings of one address can never both be
 * stored, whatever wrote the row. `credential_epoch` grows by one with every password change and
 * every other change of the user's security state (disabled, permissions); the Redis mirror
 * carries it (README, "Accounts").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('permissions', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('disabled', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('credential_epoch', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('users_email_unique').on('users').unique().expression(sql`lower(email)`).execute();
  await db.schema.createIndex('users_created_at').on('users').columns(['created_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('users').execute();
}
