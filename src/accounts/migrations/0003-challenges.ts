import { sql, type Kysely } from 'kysely';

/**
 * Email challenges (verify-email, reset-password, sign-in-code) and whether a user's address is
 * verified. A challenge row holds only a hash of its secret: SHA-256 of a 256-bit link token, or
 * HMAC-SHA-256 under a server key of a short code (a leaked table reveals neither). Each is bound
 * to its purpose, its user and the user's credential epoch when issued, so a password change
 * voids every outstanding reset link. `consumed_at` marks a challenge used (or replaced by a newer
 * one); rows past `expires_at` are useless and removed by later issues of the same user.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('email_verified', 'boolean', (col) => col.notNull().defaultTo(false)).execute();
  await db.schema
    .createTable('challenges')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (col) => col.notNull().check(sql`purpose in ('verify-email', 'reset-password', 'sign-in-code')`))
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    .addColumn('credential_epoch', 'integer', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .execute();
  // Link tokens are found by their hash; codes by their user and purpose.
  await db.schema.createIndex('challenges_secret_hash').on('challenges').unique().column('secret_hash').execute();
  await db.schema.createIndex('challenges_user_purpose').on('challenges').columns(['user_id', 'purpose', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('challenges').execute();
  await db.schema.alterTable('users').dropColumn('email_verified').execute();
}
