import { sql, type Kysely } from 'kysely';

/**
 * `users.version`: the row's version, 1 when created and one more with every write of the row (the
 * stores bump it in the same UPDATE statement). The Redis security mirror carries it, and the
 * mirror takes a write only when it is not older than what it holds, so two changes whose mirror
 * writes reach Redis in the opposite order of their commits cannot leave the older — possibly
 * more permissive — state in the mirror (review finding F5; README, "Accounts").
 *
 * `users_email_search`: the admin search (email prefix, keyset-paginated by email then id) reads
 * this index in its own order. "C" collation: byte order, which both a `LIKE 'prefix%'` range scan
 * and the `(email, id) > (…)` keyset comparison can use whatever the database's locale is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('version', 'bigint', (col) => col.notNull().defaultTo(1))
    .execute();
  await sql`CREATE INDEX users_email_search ON users ((email COLLATE "C"), (id COLLATE "C"))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_email_search').execute();
  await db.schema.alterTable('users').dropColumn('version').execute();
}
