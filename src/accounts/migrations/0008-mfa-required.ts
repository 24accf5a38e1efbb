import { sql, type Kysely } from 'kysely';

/**
 * An administrator can require a second factor of an account (issue 18, policy):
 *
 * - `users.mfa_required`: a sign-in of such an account without a confirmed factor opens no session
 *   but answers `mfa_enrollment_required` with a ticket that only enrols one.
 * - `mfa_tickets.purpose`: `verify` (complete a sign-in with a factor, as before) or `enrol` (set up
 *   the first factor of an account that must have one); each ticket is good for its purpose only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('mfa_required', 'boolean', (col) => col.notNull().defaultTo(false)).execute();
  await db.schema
    .alterTable('mfa_tickets')
    .addColumn('purpose', 'text', (col) => col.notNull().defaultTo('verify').check(sql`purpose in ('verify', 'enrol')`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mfa_tickets').dropColumn('purpose').execute();
  await db.schema.alterTable('users').dropColumn('mfa_required').execute();
}
