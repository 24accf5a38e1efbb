import { sql, type Kysely } from 'kysely';

/**
 * New sign-in notices (issue 21):
 *
 * - `sign_in_devices`: where each account signed in recently — a keyed hash of the device key and
 *   of the masked network, and when it was last seen; at most a few rows per account (the store
 *   keeps the most recent), removed with the account.
 * - `challenges.purpose` gains `not-me`: the single-use token of a notice's "this wasn't me" link.
 *   Each notice's token stays live beside the next one's (users/challenges.ts,
 *   NOTICE_TOKEN_PURPOSES), so the one-live-challenge index of 0005 leaves that purpose out.
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
  await db.schema.dropIndex('challenges_one_live').execute();
  await db.schema
    .createIndex('challenges_one_live')
    .on('challenges')
    .unique()
    .columns(['user_id', 'purpose'])
    .where(sql<boolean>`consumed_at is null and purpose <> 'not-me'`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from challenges where purpose = 'not-me'`.execute(db);
  await db.schema.dropIndex('challenges_one_live').execute();
  await db.schema.createIndex('challenges_one_live').on('challenges').unique().columns(['user_id', 'purpose']).where(sql.ref('consumed_at'), 'is', null).execute();
  await sql`alter table challenges drop constraint challenges_purpose_check`.execute(db);
  await sql`alter table challenges add constraint challenges_purpose_check check (purpose in ('verify-email', 'reset-password', 'sign-in-code'))`.execute(db);
  await db.schema.dropTable('sign_in_devices').execute();
}
