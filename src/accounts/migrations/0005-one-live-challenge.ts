import { sql, type Kysely } from 'kysely';

/**
 * At most one live (unconsumed) challenge per account and purpose, enforced by PostgreSQL: two
 * concurrent issues under READ COMMITTED could each end the live rows they saw and then both
 * insert (review L2), leaving two working links or codes. Rows that already broke the rule are
 * settled first: all but the newest live one of each account and purpose count as replaced
 * (consumed), as issue() would have left them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update challenges set consumed_at = created_at
    where consumed_at is null
      and exists (
        select 1 from challenges newer
        where newer.user_id = challenges.user_id and newer.purpose = challenges.purpose and newer.consumed_at is null
          and (newer.created_at, newer.id) > (challenges.created_at, challenges.id)
      )
  `.execute(db);
  await db.schema
    .createIndex('challenges_one_live')
    .on('challenges')
    .unique()
    .columns(['user_id', 'purpose'])
    .where(sql.ref('consumed_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('challenges_one_live').execute();
}
