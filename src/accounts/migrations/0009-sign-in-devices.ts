import { sql, type Kysely } from 'kysely';

/**
 * New sign-in notices (issue 21):
 *
 * - `sign_in_devices`: where each account signed in recently — a keyed hash of the device key and
 *   of the masked network, and when it was last seen; at most a few rows per account (the store
 *   keeps the most recent), removed with the account.
 * - `challenges.purpose` gains `not-me`: the single-use token of a notice's "this wasn't me" link.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sign_in_devices')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key_hash', 'text', (col) => col.notNull())
    .addColumn('network_hash', 'text', (col) => col.notNull())
    .addColumn('last_seen', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('sign_in_devices_pkey', ['user_id', 'key_hash'])
    .execute();
  await sql`alter table challenges drop constraint challenges_purpose_check`.execute(db);
  await sql`alter table challenges add constraint challenges_purpose_check check (purpose in ('verify-email', 'reset-password', 'sign-in-code', 'not-me'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from challenges where purpose = 'not-me'`.execute(db);
  await sql`alter table challenges drop constraint challenges_purpose_check`.execute(db);
  await sql`alter table challenges add constraint challenges_purpose_check check (purpose in ('verify-email', 'reset-password', 'sign-in-code'))`.execute(db);
  await db.schema.dropTable('sign_in_devices').execute();
}
