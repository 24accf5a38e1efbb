import { sql, type Kysely } from 'kysely';

/**
 * A signed-in user changes their address (README, "Changing the address"):
 *
 * - `challenges.purpose` gains `email-change`: the single-use link mailed to the new address.
 * - `challenges.email`: the address a challenge is bound to, where its purpose needs one — the new
 *   address of an `email-change` (what the link may make the account's), the old address of the
 *   change notice's `not-me` (what "this wasn't me" restores). Null for every other challenge.
 *
 * Numbered 0012: 0011 is the notification outbox, written alongside.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('challenges').addColumn('email', 'text').execute();
  await sql`alter table challenges drop constraint challenges_purpose_check`.execute(db);
  await sql`alter table challenges add constraint challenges_purpose_check check (purpose in ('verify-email', 'reset-password', 'sign-in-code', 'not-me', 'email-change'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from challenges where purpose = 'email-change'`.execute(db);
  await sql`alter table challenges drop constraint challenges_purpose_check`.execute(db);
  await sql`alter table challenges add constraint challenges_purpose_check check (purpose in ('verify-email', 'reset-password', 'sign-in-code', 'not-me'))`.execute(db);
  await db.schema.alterTable('challenges').dropColumn('email').execute();
}
