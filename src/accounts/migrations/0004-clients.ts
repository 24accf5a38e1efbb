import { sql, type Kysely } from 'kysely';

/**
 * Service clients (OAuth 2.0 confidential clients, README "For services"). A client secret is a
 * 256-bit random value, so only its SHA-256 is stored (see accounts/client-secret.ts). During a
 * rotation the previous secret's hash stays valid until `previous_secret_expires_at`, so a fleet
 * can move to the new secret without an outage; the check (expires_at set exactly when the hash
 * is) keeps a previous secret from being valid for ever.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('clients')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    .addColumn('previous_secret_hash', 'text')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .addColumn('scopes', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('audience', 'text', (col) => col.notNull())
    .addColumn('disabled', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addCheckConstraint('clients_previous_secret_has_deadline', sql`(previous_secret_hash is null) = (previous_secret_expires_at is null)`)
    .execute();
  // Token exchange names its target by audience: one client per audience, so the target is unambiguous.
  await db.schema.createIndex('clients_audience_unique').on('clients').unique().column('audience').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('clients').execute();
}
