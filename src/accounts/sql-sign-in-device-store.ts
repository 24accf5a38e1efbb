import { sql, type Kysely } from 'kysely';
import type { SeenDevice, SignInDeviceStore } from '../users/sign-in-devices.js';
import type { AccountsSchema } from './database.js';
import { guardDatabase } from './sql-guard.js';

/** Recent sign-in devices in PostgreSQL (or PGlite); see migrations/0009-sign-in-devices.ts. */
export class SqlSignInDeviceStore implements SignInDeviceStore {
  constructor(private readonly db: Kysely<AccountsSchema>) {}

  recent(userId: string, since: number): Promise<SeenDevice[]> {
    return guardDatabase(async () => {
      const rows = await this.db
        .selectFrom('sign_in_devices')
        .select(['key_hash', 'network_hash', 'last_seen'])
        .where('user_id', '=', userId)
        .where('last_seen', '>=', new Date(since))
        .orderBy('last_seen', 'desc')
        .orderBy('key_hash')
        .execute();
      return rows.map((row) => ({ keyHash: row.key_hash, networkHash: row.network_hash, lastSeen: new Date(row.last_seen).getTime() }));
    });
  }

  /**
   * One upsert of every key, then one delete of the rows beyond `keep` (one transaction). A user
   * deleted meanwhile makes the insert violate the foreign key: nothing to record, not an error.
   */
  record(userId: string, seen: readonly Omit<SeenDevice, 'lastSeen'>[], now: number, keep: number): Promise<void> {
    if (seen.length === 0) return Promise.resolve();
    return guardDatabase(async () => {
      const at = new Date(now);
      try {
        await this.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('sign_in_devices')
            .values(seen.map(({ keyHash, networkHash }) => ({ user_id: userId, key_hash: keyHash, network_hash: networkHash, last_seen: at })))
            .onConflict((oc) => oc.columns(['user_id', 'key_hash']).doUpdateSet({ network_hash: sql.ref('excluded.network_hash'), last_seen: sql.ref('excluded.last_seen') }))
            .execute();
          await trx
            .deleteFrom('sign_in_devices')
            .where('user_id', '=', userId)
            .where('key_hash', 'not in', (eb) => eb.selectFrom('sign_in_devices').select('key_hash').where('user_id', '=', userId).orderBy('last_seen', 'desc').orderBy('key_hash').limit(keep))
            .execute();
        });
      } catch (error) {
        if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return;
        throw error;
      }
    });
  }

  forget(userId: string): Promise<void> {
    return guardDatabase(async () => {
      await this.db.deleteFrom('sign_in_devices').where('user_id', '=', userId).execute();
    });
  }
}

const FOREIGN_KEY_VIOLATION = '23503';
